"""Privacy of the register (issue 21): what a person's consent covers, retention and the purge (docs/retention.md)."""
