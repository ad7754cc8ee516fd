"""Configuration the whole monitor shares: the typed settings (monitor.yaml and MONITOR_*
variables), YAML read with line numbers for every error, and the feed list (feeds.yaml, OPML)."""
