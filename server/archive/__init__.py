"""The archive: every monthly report a village submitted and every village review the town office filed, kept byte for byte."""
