"""Replication from a town server to the county server: raw submissions, as stored, by cursor."""
