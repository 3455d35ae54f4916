"""Retention and purge: the purge job and the reads it needs (docs/retention.md)."""
