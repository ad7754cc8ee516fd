"""Governance-news monitor: feeds in, articles extracted, profiles matched, hits and alerts out."""

__version__ = "0.1.0"
