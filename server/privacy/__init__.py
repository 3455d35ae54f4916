"""Privacy of the register (issue 21): what a person's consent covers, and the work that acts on it."""
