"""Backing up and restoring a taizhang installation: the database and the attachment files in one archive."""
