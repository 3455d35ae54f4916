"""Re-check tables: a village's sample for a month (its seed stored, so it draws the same again), the households in it,
each re-check of one of them and what it found person by person, field by field."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, byte_key, db


class RecheckSample(db.Model):
    """The households of a village drawn for re-checking in a month: from the village's households as they stood,
    by a seeded random draw (the same seed draws the same households)."""

    __tablename__ = "recheck_sample"
    __table_args__ = (UniqueConstraint("village_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    month: Mapped[date] = mapped_column(Date)            # the month's first day
    seed: Mapped[int] = mapped_column(BigInteger)
    percent: Mapped[float] = mapped_column(Float)        # the share of the village's households asked for
    size: Mapped[int] = mapped_column(Integer)           # how many households were drawn
    drawn_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecheckHousehold(db.Model):
    """A household in a sample, in the order it was drawn."""

    __tablename__ = "recheck_household"

    sample_id: Mapped[int] = mapped_column(ForeignKey("recheck_sample.id"), primary_key=True)
    household_uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class Recheck(db.Model):
    """One re-check of a sampled household: on the web, or on the phone (its submission)."""

    __tablename__ = "recheck"
    __table_args__ = (
        UniqueConstraint("sample_id", "household_uuid"),
        CheckConstraint("source IN ('web', 'phone')", name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("recheck_sample.id"), index=True)
    household_uuid: Mapped[str] = mapped_column(byte_key(64))
    checked_on: Mapped[date] = mapped_column(Date)       # the day the household was re-checked
    source: Mapped[str] = mapped_column(String(5))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecheckFinding(db.Model):
    """What a re-check found of one field of one person, beside what the register held when it was compared.
    `field` "present" says whether the person was found at all: a person found who is not on the register has no
    `person_uuid` (a miss, counted by the register entry rate); one on the register not found disagrees."""

    __tablename__ = "recheck_finding"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recheck_id: Mapped[int] = mapped_column(ForeignKey("recheck.id"), index=True)
    person_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    person_name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(40))
    register_value: Mapped[str | None] = mapped_column(String(300))
    observed_value: Mapped[str | None] = mapped_column(String(300))
    agrees: Mapped[bool] = mapped_column(Boolean)
