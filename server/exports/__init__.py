"""The town office's Excel reports, from the register: what each one reads, who may have it, the record of it."""
