"""The village's month: the cadre signs off and submits the monthly change report, the town office accepts or returns it."""
