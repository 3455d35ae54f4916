"""Area look-ups and inserts; an area's path inside another's in SQL; the areas of a subtree as named rows."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import literal, select

from server.areas.models import Area
from server.extensions import db


def by_full_name(full_name: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.full_name == full_name))


def by_id(area_id: int) -> Area | None:
    return db.session.get(Area, area_id)


def insert(kind: str, name: str, full_name: str, parent: Area | None) -> Area:
    area = Area(kind=kind, name=name, full_name=full_name, parent_id=parent.id if parent else None,
                path=f"pending:{full_name}")
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    db.session.flush()
    return area


def all_areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.path)))


def inside_area(path_column, area_path: str):
    """An area's path inside another's. The path is written into the statement (it is ids and slashes, read from
    the area table): a statement prepared with the path as a parameter gets PostgreSQL's generic plan after a few
    runs, which guesses that an area holds almost nothing and walks every household (ten times slower)."""
    return path_column.startswith(literal(area_path, literal_execute=True))


class AreaRow(NamedTuple):
    """An area as pages and figures name and fold it: a town, village or group with its parent and path."""

    id: int
    kind: str
    parent_id: int | None
    path: str
    full_name: str


_AREA_ROW = select(Area.id, Area.kind, Area.parent_id, Area.path, Area.full_name)


def area_by_path(path: str) -> AreaRow | None:
    row = db.session.execute(_AREA_ROW.where(Area.path == path)).first()
    return AreaRow(*row) if row is not None else None


def village(village_id: int) -> AreaRow | None:
    """A village by id (None when there is none, or the area is not a village)."""
    row = db.session.execute(_AREA_ROW.where(Area.id == village_id, Area.kind == "village")).first()
    return AreaRow(*row) if row else None


def villages_in(path: str | None) -> list[AreaRow]:
    """The villages inside an area (everywhere for None), by full name."""
    query = _AREA_ROW.where(Area.kind == "village").order_by(Area.full_name)
    if path is not None:
        query = query.where(inside_area(Area.path, path))
    return [AreaRow(*row) for row in db.session.execute(query)]


def children_of(area_id: int | None) -> list[AreaRow]:
    """The areas directly inside an area (the towns for None), by full name: the next step of a drill-down."""
    parent = Area.parent_id.is_(None) if area_id is None else Area.parent_id == area_id
    return [AreaRow(*row) for row in db.session.execute(_AREA_ROW.where(parent).order_by(Area.full_name))]


def areas_under(path: str | None) -> list[AreaRow]:
    """The area with this path and every area inside it (everywhere for None), by full name."""
    query = _AREA_ROW.order_by(Area.full_name)
    if path is not None:
        query = query.where(inside_area(Area.path, path))
    return [AreaRow(*row) for row in db.session.execute(query)]
