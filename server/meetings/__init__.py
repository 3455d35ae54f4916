"""The monthly meeting sheet (月例会) and the quarterly and yearly village reviews (村季度/年度考评) (docs/meetings.md)."""
