"""The audit log: staff reads of personal data, review actions, merges and exports."""
