"""The poll of one feed through every stage, and a cycle of polls: what is new, stories,
feed health rules, poll results written in batches, time per stage. Reaches the database
only through the protocol in monitor.pipeline.ports."""
