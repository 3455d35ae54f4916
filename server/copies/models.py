"""A person's own copy table: who asked and when, the copy produced (its SHA-256, not its content) and handed over."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, byte_key, db


class PersonCopy(db.Model):
    """One request of a person for their own copy. The file is not kept (it is personal data): `sha256` and `size`
    identify the file produced last, the one handed over; a later copy is a new request, produced afresh."""

    __tablename__ = "person_copy"
    __table_args__ = (CheckConstraint("requester IN ('self', 'representative')", name="requester"),
                      CheckConstraint("format IN ('pdf', 'xlsx')", name="format"),
                      CheckConstraint("handed_at IS NULL OR produced_at IS NOT NULL", name="produced_first"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    area_path: Mapped[str] = mapped_column(String(100))          # the person's group when the request was recorded
    requested_on: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(100))       # the name of whoever asked
    requester: Mapped[str] = mapped_column(String(20))           # self, representative
    format: Mapped[str] = mapped_column(String(10))              # pdf, xlsx: the form chosen
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    produced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    produced_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    handed_to: Mapped[str | None] = mapped_column(String(100))   # the name of whoever received it
