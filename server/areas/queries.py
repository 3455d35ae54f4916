"""Area look-ups and inserts."""

from __future__ import annotations

from sqlalchemy import select

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
