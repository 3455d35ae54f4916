"""Visit schedules on the server: the town's schedule file, due and overdue flags for an area, the phone lists."""
