"""Everything SQL: tables, engine and migrations, and the reads and writes the stages need."""
