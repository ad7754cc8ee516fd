"""Evidence: what was published, kept as fetched, and what became of it."""
