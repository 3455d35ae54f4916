"""Report runs: when a monthly report of an area was produced (the next one lists what arrived after it)."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, db


class ReportRun(db.Model):
    __tablename__ = "report_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    produced_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
