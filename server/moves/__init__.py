"""People who move on the web: expected arrivals, departures, the aged list, a move recorded, an arrival confirmed."""
