"""Places: towns, villages and villager groups, as one tree with materialised paths for scoping."""
