"""Register tables: current records, their field history, life events, visits, conflicts, the
recorded decisions (duplicate merges, household moves) and the duplicate review queue."""

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, byte_key, db
from sync.decisions import DECISION_KINDS
from sync.services import COLUMN_LIMITS, ITEM_KINDS


class Household(db.Model):
    __tablename__ = "household"

    uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    household_no: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)


def prefix_index(name: str, column: str) -> Index:
    """An index `LIKE 'abc%'` can use on PostgreSQL whatever the database's collation (on SQLite, a plain one)."""
    return Index(name, column, postgresql_ops={column: "varchar_pattern_ops"})


class Person(db.Model):
    """A person as the register holds them now; `name_pinyin` and `name_initials` are the name's search keys
    (sync.search_keys), written with the row."""

    __tablename__ = "person"
    __table_args__ = (prefix_index("ix_person_name", "name"), prefix_index("ix_person_name_pinyin", "name_pinyin"),
                      prefix_index("ix_person_name_initials", "name_initials"),
                      prefix_index("ix_person_id_number", "id_number"), prefix_index("ix_person_phone", "phone"))

    uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True)
    household_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    id_number: Mapped[str | None] = mapped_column(String(18))
    relationship: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    residence: Mapped[str | None] = mapped_column(String(20))
    hukou: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(20))     # service tier (sync.schedules), set by review
    version: Mapped[int] = mapped_column(Integer)
    name_pinyin: Mapped[str | None] = mapped_column(String(200))
    name_initials: Mapped[str | None] = mapped_column(String(100))


class RegisterFieldValue(db.Model):
    """Every value a record's field took, with the version and the visit: the history merges are judged on."""

    __tablename__ = "register_field_value"
    __table_args__ = (CheckConstraint("record_kind IN ('household', 'person')", name="record_kind"),
                      Index("ix_register_field_value_field_record", "field", "record_uuid"),
                      # Only the values a decision wrote (a few): the rest would be one entry each, all NULL.
                      Index("ix_register_field_value_decision_id", "decision_id",
                            postgresql_where=text("decision_id IS NOT NULL"), sqlite_where=text("decision_id IS NOT NULL")))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(10))
    record_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    field: Mapped[str] = mapped_column(byte_key(32))
    value: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    # The submission that stated the value, or the decision that carried it over (a merge) or set it (a move).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("register_decision.id"))
    instance_id: Mapped[str] = mapped_column(String(255))
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LifeEventRecord(db.Model):
    __tablename__ = "life_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    event_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    spouse_name: Mapped[str | None] = mapped_column(String(100))
    # The group the person lived in when it happened (a move out: the group left; a move in: the group arrived in),
    # so each area's register keeps the person for the time they lived there (docs/moves.md).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    # A move out towards a village or town of this register (LifeEvent.destination); None: outside, or not said.
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    # The visit that told it, or the decision that registered the person on the web (a birth, a new member).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("register_decision.id"), index=True)


class ServiceAnchor(db.Model):
    """An event a follow-up schedule counts from (a birth, an operation, a reported pregnancy), as a visit told it."""

    __tablename__ = "service_anchor"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    anchor_date: Mapped[date] = mapped_column(Date)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)


class Visit(db.Model):
    """One per applied submission version: what kind of visit, where, when on the phone, with what outcome."""

    __tablename__ = "visit"
    # a form's visits of a period (the follow-up register of an area: a month's follow-ups, then their people)
    __table_args__ = (Index("ix_visit_form_date", "form", "visit_date"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    form: Mapped[str] = mapped_column(String(100))
    household_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    person_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    visit_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    completed: Mapped[bool] = mapped_column(Boolean)
    followup_type: Mapped[str | None] = mapped_column(String(30))   # a follow-up's type (schedules count it)
    # Why the merge refused the visit (sync.scope.REFUSALS: it named records outside its collector's group); such
    # a visit changed nothing in the register, and is kept for the village cadre to see.
    refusal: Mapped[str | None] = mapped_column(String(40))
    form_version: Mapped[str | None] = mapped_column(String(64))     # whose labels its answers are shown with
    next_visit: Mapped[date | None] = mapped_column(Date)            # the next visit agreed with the household
    notes: Mapped[str | None] = mapped_column(Text)
    # The GPS point of the visit as Collect recorded it (WGS-84 degrees; altitude and accuracy in metres): shown to
    # the village cadre and above only, never exported unless asked for (docs/services.md).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    altitude: Mapped[float | None] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)

    # The visits that agreed a next visit, by household (due lists read them for a whole town or county).
    __table_args__ = (Index("ix_visit_agreed_household", "household_uuid",
                            postgresql_where=text("next_visit IS NOT NULL"), sqlite_where=text("next_visit IS NOT NULL")),)


class ServiceItemRecord(db.Model):
    """One item of a visit's service record (sync.services.ServiceItem): derived from the visit like the visit row,
    so it is rebuilt with it and goes when the visit is rejected or replaced by an edit."""

    __tablename__ = "service_item"
    __table_args__ = (UniqueConstraint("submission_id", "seq"),
                      CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in ITEM_KINDS)})", name="kind"),
                      Index("ix_service_item_kind_date", "kind", "visit_date"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    item_key: Mapped[str] = mapped_column(byte_key(300), index=True)   # <instanceID>#<seq>: what decisions name
    kind: Mapped[str] = mapped_column(String(20))
    household_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    # The columns a phone's values go into, as long as sync.services.COLUMN_LIMITS (the reader cuts them to it).
    person_uuid: Mapped[str | None] = mapped_column(byte_key(COLUMN_LIMITS["person_uuid"]), index=True)
    person_name: Mapped[str | None] = mapped_column(String(COLUMN_LIMITS["person_name"]))
    visit_date: Mapped[date | None] = mapped_column(Date)
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code: Mapped[str | None] = mapped_column(String(COLUMN_LIMITS["code"]))
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    quantity_text: Mapped[str | None] = mapped_column(String(COLUMN_LIMITS["quantity_text"]))
    given: Mapped[bool | None] = mapped_column(Boolean)
    place: Mapped[str | None] = mapped_column(String(COLUMN_LIMITS["place"]))
    text: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(String(COLUMN_LIMITS["detail"]))
    consent: Mapped[bool | None] = mapped_column(Boolean)
    refers_to: Mapped[str | None] = mapped_column(byte_key(COLUMN_LIMITS["refers_to"]), index=True)
    problems: Mapped[str | None] = mapped_column(String(200))    # codes of sync.services.PROBLEMS, space-separated


class RegisterConflict(db.Model):
    __tablename__ = "register_conflict"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[str] = mapped_column(String(255))
    other_value: Mapped[str] = mapped_column(Text)
    other_instance_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(10), server_default="open")   # open, or resolved by a decision


class SubmissionRecord(db.Model):
    """Which register uuids a submission names, as written on the phone: what to replay when those records change."""

    __tablename__ = "submission_record"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    record_uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True, index=True)




class RegisterDecision(db.Model):
    """A change to the register made by a person (or the automatic duplicate merge), not by a visit.

    Replayed with the submissions at its position (after the submission with id `after_submission_id`), so a
    rebuild reproduces it; an undone decision stays in the log and is skipped.
    """

    __tablename__ = "register_decision"
    # The kinds of sync.decisions.DECISION_KINDS (a new kind widens this check in a migration).
    __table_args__ = (CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in DECISION_KINDS)})", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The same on every server that holds the decision (a town's decisions are replicated to the county with it).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    kind: Mapped[str] = mapped_column(String(20))
    # merged away, moved, a submission's id (a visit rejected) or a service item's key (<instanceID>#<n>)
    subject_uuid: Mapped[str] = mapped_column(byte_key(300), index=True)
    # the record kept, the new group's id, the tier given ("" for none), a field's value set, or a new person's
    # details (sync.decisions.new_person_target)
    target: Mapped[str] = mapped_column(String(600), index=True)
    # set_field: which field of which kind of record ("person:phone", "household:address"); a service item's column;
    # add_person: the life event recorded with the new person
    field: Mapped[str | None] = mapped_column(String(40))
    # why the person decided it (a correction's reason), as they wrote it
    note: Mapped[str | None] = mapped_column(String(500))
    after_submission_id: Mapped[int] = mapped_column(BigInteger)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("duplicate_candidate.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))   # None: the automatic merge
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The group (or village) of the records it concerns, when it was made: who may undo it (none when unknown).
    area_path: Mapped[str | None] = mapped_column(String(255))


class DuplicateCandidate(db.Model):
    """A pair of people (or households) of one village that may be one, or an arrival and a person who moved out
    of another village (a move pair): the review queue, with score and reasons."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (
        UniqueConstraint("record_kind", "a_uuid", "b_uuid"),
        CheckConstraint("record_kind IN ('person', 'household')", name="record_kind"),
        CheckConstraint("state IN ('open', 'merged', 'distinct')", name="state"),
        CheckConstraint("a_uuid < b_uuid", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(10))
    village_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    a_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    b_uuid: Mapped[str] = mapped_column(byte_key(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(String(300))    # reason codes, space-separated (sync.identity.REASONS)
    automatic: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(10), server_default="open")
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A move pair (sync.arrivals): the one of the two who moved out of another village; the other is the arrival,
    # registered anew in `village_id`. None: a pair of one village.
    departed_uuid: Mapped[str | None] = mapped_column(byte_key(64))


class PersonMatchKey(db.Model):
    """A person's duplicate-blocking keys per village (sync.identity.block_keys): the incremental check's index."""

    __tablename__ = "person_match_key"
    # by village (a village's duplicates) and by key alone (people who moved away, county-wide: sync.arrivals)
    __table_args__ = (Index("ix_person_match_key_village_key", "village_id", "key"),
                      Index("ix_person_match_key_key", "key"))

    person_uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True)
    key: Mapped[str] = mapped_column(byte_key(120), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("area.id"))


class VisitReview(db.Model):
    """A village cadre's review of a synced visit (after the fact: the visit is in the register from the start;
    rejecting it takes it out, as a decision)."""

    __tablename__ = "visit_review"
    __table_args__ = (CheckConstraint("state IN ('approved', 'has_issues', 'rejected')", name="state"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(String(500))    # for the collector
    reviewed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PurgedRecord(db.Model):
    """A tombstone: a person purged from the register (or their service record purged) at the end of a retention
    period (sync.retention). No personal content: the uuid, the rule, the day, and the last submission held then;
    every replay reads these, so a rebuild never brings what was purged back (docs/retention.md)."""

    __tablename__ = "purged_record"

    uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(30), primary_key=True)    # a name of sync.privacy.RETENTION_RULES
    purged_on: Mapped[date] = mapped_column(Date)
    after_submission_id: Mapped[int] = mapped_column(BigInteger)


class ScheduleSummary(db.Model):
    """What the visit schedule needs of one person or household, one row each (server.register.summaries): kept at
    merge time from the visits, tier history, anchors and life events, so flags read one row per person instead of
    every visit. Holds every date (not a count), so flags of any past date reproduce."""

    __tablename__ = "schedule_summary"

    record_kind: Mapped[str] = mapped_column(String(10), primary_key=True)    # "person" or "household"
    record_uuid: Mapped[str] = mapped_column(byte_key(64), primary_key=True, index=True)   # (a purge: by uuid alone)
    # household: its completed household visits ("2026-01-05,2026-02-11"); person: their completed follow-ups
    # ("2026-03-05:tier_key,…"); by date.
    visits: Mapped[str] = mapped_column(Text, default="")
    tiers: Mapped[str] = mapped_column(Text, default="")        # person: "<instant>=<tier>;…", oldest first
    anchors: Mapped[str] = mapped_column(Text, default="")      # person: "birth:2026-10-01,…"
    died_on: Mapped[date | None] = mapped_column(Date)          # person: the latest death event's day
    moved_out_on: Mapped[date | None] = mapped_column(Date)     # person: the latest move out's day
    # person: a tier (ever), an anchor, a next visit agreed on a follow-up of theirs or a referral
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The open events (sync.schedule_summary): household: the latest next visit agreed with it on a household visit
    # ("2026-06-15>2026-07-15"), due for its head; person: the latest agreed on their follow-ups in each household.
    agreed: Mapped[str] = mapped_column(Text, default="", server_default="")
    referrals: Mapped[str] = mapped_column(Text, default="", server_default="")   # person: their referrals as they stand (JSON)
    # household with a next visit agreed: its head (open_events.heads_ranked), whom the agreed visit is due for
    head: Mapped[str | None] = mapped_column(byte_key(64), index=True)
