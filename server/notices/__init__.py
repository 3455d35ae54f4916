"""Service notices (协查通报) between town offices: the table, the pages, exchange over replication and in files."""
