"""Keyword profiles: loading, text normalisation and matching. Pure: no I/O beyond reading files."""
