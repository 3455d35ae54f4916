"""Creating areas from a path such as 青山镇/东村/第一组."""

from __future__ import annotations

from dataclasses import dataclass

from server.areas import queries
from server.areas.models import AREA_KINDS, Area
from server.principal import Principal
from sync.access import STAFF_ROLES, area_contains
from sync.errors import BadRequest, Forbidden, NotFound, OutsideArea, RecordNotFound

__all__ = ["area_parts", "ensure_area", "find_area", "staff_area", "village_in_area", "DrillDown", "drill_down"]


NAME_LENGTH = 100
"""The longest name of a town, village or group (the column's)."""


def area_parts(full_name: str) -> list[str]:
    """The names of a path such as 青山镇/东村/第一组, town first (BadRequest if it is not one)."""
    parts = [part.strip() for part in full_name.strip().strip("/").split("/")]
    if not parts or any(not part or len(part) > NAME_LENGTH for part in parts) or len(parts) > len(AREA_KINDS):
        raise BadRequest(f"area path {full_name!r}: give town/village/group, e.g. 青山镇/东村/第一组")
    return parts


def ensure_area(full_name: str) -> Area:
    """Create the area and any missing ancestors; return the deepest one."""
    parent = None
    for depth, name in enumerate(area_parts(full_name)):
        path_name = "/".join(area_parts(full_name)[: depth + 1])
        area = queries.by_full_name(path_name) or queries.insert(AREA_KINDS[depth], name, path_name, parent)
        parent = area
    return parent


def find_area(full_name: str) -> Area:
    area = queries.by_full_name("/".join(area_parts(full_name)))
    if area is None:
        raise BadRequest(f"no area {full_name!r}; add it with `taizhang area add`")
    return area


def staff_area(principal: Principal, full_name: str, *, refusal: str) -> Area:
    """The area a staff member asks about by name: it must exist (404) and lie inside their own area (403);
    `refusal` says why to anyone who is not staff."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(refusal)
    area = queries.by_full_name(full_name)
    if area is None:
        raise NotFound(full_name)
    if not area_contains(principal.area_path, area.path):
        raise Forbidden(full_name)
    return area


def village_in_area(principal: Principal, village_id: int, *, roles: frozenset[str] | tuple[str, ...],
                    refusal: str) -> queries.AreaRow:
    """A village asked for by id: the reader's role must be one of `roles` (403, saying `refusal`), the id a
    village's (404) and the village inside the reader's area (403)."""
    if principal.role not in roles:
        raise Forbidden(refusal)
    village = queries.village(village_id)
    if village is None:
        raise RecordNotFound(f"village {village_id}")
    if not area_contains(principal.area_path, village.path):
        raise OutsideArea(f"village {village_id}")
    return village


@dataclass(frozen=True)
class DrillDown:
    """The area a page of the reader's shows (None: the whole county), the areas one step inside it to narrow it
    to, and the full name of the area one step out ("": the reader's own; None: this is the reader's own)."""

    area: queries.AreaRow | None
    inside: list[queries.AreaRow]
    up: str | None

    @property
    def path(self) -> str | None:
        return None if self.area is None else self.area.path


def drill_down(principal: Principal, full_name: str | None, *, refusal: str) -> DrillDown:
    """The area a staff member asks a page of by full name (see staff_area), or by default their own, with the
    areas inside it: a county reader picks a town, then a village, instead of reading every group at once."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(refusal)
    if not full_name:
        area = None if principal.area_path is None else queries.area_by_path(principal.area_path)
        return DrillDown(area, queries.children_of(area.id if area else None), None)
    found = staff_area(principal, full_name, refusal=refusal)
    area = queries.AreaRow(found.id, found.kind, found.parent_id, found.path, found.full_name)
    if area.path == principal.area_path:
        up = None
    else:   # the parent, named unless it is the reader's own area
        parent_path = "/".join(area.path.split("/")[:-2]) + "/" if area.parent_id is not None else None
        up = "" if parent_path == principal.area_path else area.full_name.rsplit("/", 1)[0]
    return DrillDown(area, queries.children_of(area.id), up)
