"""Area table: town → village → group, each row carrying its path of ids for prefix scoping."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db

AREA_KINDS = ("town", "village", "group")


class Area(db.Model):
    __tablename__ = "area"
    __table_args__ = (
        CheckConstraint("kind IN ('town', 'village', 'group')", name="kind"),
        CheckConstraint("(kind = 'town') = (parent_id IS NULL)", name="town_is_root"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # "青山镇/东村/第一组": unique, what people type.
    full_name: Mapped[str] = mapped_column(String(400), unique=True)
    # "/3/17/205/": ids from the town down, for `LIKE '/3/%'` scoping.
    path: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
