"""Collector monitoring: each collector's syncs, form downloads, phone and work (docs/meetings.md)."""
