"""Getting articles in: HTTP fetching, feed parsing, URL canonical forms, text extraction."""
