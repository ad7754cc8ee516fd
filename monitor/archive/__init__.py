"""Reading the archive: search in the profile query language, backtests and exports."""
