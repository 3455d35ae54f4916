"""Archived reports: a workbook as it was submitted or filed (its bytes and the figures it showed), never rewritten."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, db

ARCHIVED_KINDS = ("monthly_change", "village_review_quarter", "village_review_year")


class ArchivedReport(db.Model):
    """One version of one report of one area and period, as it was handed over: later corrections never touch it."""

    __tablename__ = "archived_report"
    __table_args__ = (
        UniqueConstraint("kind", "area_id", "period_start", "version"),
        CheckConstraint("kind IN ('monthly_change', 'village_review_quarter', 'village_review_year')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)          # the month's, quarter's or year's first day
    period_end: Mapped[date] = mapped_column(Date)            # its last day
    version: Mapped[int] = mapped_column(Integer)             # 1, 2, … for the same kind, area and period
    file_name: Mapped[str] = mapped_column(String(200))       # as it was downloaded (东村_2026-11_月变更报告单.xlsx)
    content: Mapped[bytes] = mapped_column(LargeBinary)       # the workbook's bytes
    sha256: Mapped[str] = mapped_column(String(64))
    figures: Mapped[str] = mapped_column(Text)                # the figures it showed, as JSON
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
