"""A person's own copy (issue 21): the request recorded, the copy produced as PDF or xlsx, its hand-over recorded."""
