"""Creating areas from a path such as 青山镇/东村/第一组."""

from __future__ import annotations

from server.areas import queries
from server.areas.models import AREA_KINDS, Area
from sync.errors import BadRequest

__all__ = ["ensure_area", "find_area"]


def _split(full_name: str) -> list[str]:
    parts = [part.strip() for part in full_name.strip().strip("/").split("/")]
    if not parts or any(not part for part in parts) or len(parts) > len(AREA_KINDS):
        raise BadRequest(f"area path {full_name!r}: give town/village/group, e.g. 青山镇/东村/第一组")
    return parts


def ensure_area(full_name: str) -> Area:
    """Create the area and any missing ancestors; return the deepest one."""
    parent = None
    for depth, name in enumerate(_split(full_name)):
        path_name = "/".join(_split(full_name)[: depth + 1])
        area = queries.by_full_name(path_name) or queries.insert(AREA_KINDS[depth], name, path_name, parent)
        parent = area
    return parent


def find_area(full_name: str) -> Area:
    area = queries.by_full_name("/".join(_split(full_name)))
    if area is None:
        raise BadRequest(f"no area {full_name!r}; add it with `taizhang area add`")
    return area
