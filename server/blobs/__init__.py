"""Upkeep of the attachment store: removing files no row names (left by refused or interrupted uploads)."""
