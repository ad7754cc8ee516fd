"""Alerts: channel configuration, message composition, delivery through Apprise, the outbox."""
