"""Month sign-offs: a village's month as submitted, returned and accepted, and every step of it."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, db

SIGNOFF_STATES = ("submitted", "returned", "accepted")


class MonthSignoff(db.Model):
    """A village's month once its cadre first submitted it: where it stands now. A month without a row is open."""

    __tablename__ = "month_signoff"
    __table_args__ = (
        UniqueConstraint("village_id", "month"),
        CheckConstraint("state IN ('submitted', 'returned', 'accepted')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    month: Mapped[date] = mapped_column(Date)                 # the month's first day
    state: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)             # how many times it has been submitted
    report_id: Mapped[int] = mapped_column(ForeignKey("archived_report.id"))   # the version submitted last
    first_submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, server_default=false())  # first submitted after the due day
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(String(500))  # the town office's, when it returned or accepted it


class MonthSignoffStep(db.Model):
    """One step of a village's month: submitted (by the cadre who checked it), returned or accepted (by the town
    office, with a comment); the step's report is the version it concerned."""

    __tablename__ = "month_signoff_step"
    __table_args__ = (CheckConstraint("step IN ('submitted', 'returned', 'accepted')", name="step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    signoff_id: Mapped[int] = mapped_column(ForeignKey("month_signoff.id"), index=True)
    step: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    report_id: Mapped[int] = mapped_column(ForeignKey("archived_report.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, server_default=false())
    comment: Mapped[str | None] = mapped_column(String(500))
