"""What a schedule asks of the register besides visits and tiers: next visits agreed, referrals as they stand (with
what was said about service items since their visits) and each household's head; read by the schedule summary kept
at merge time, the schedules' reference read and the service record."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import func, select

from server.database import matching, on_postgresql
from server.extensions import db
from server.register.models import Person, RegisterDecision, ServiceItemRecord, Visit
from sync.periods import as_utc
from sync.services import CLOSING_RESULTS, ItemChange, ServiceItem, item_state

__all__ = ["SERVICE_DECISION_KINDS", "AgreedVisit", "latest_agreements", "agreements_about", "heads_ranked",
           "household_heads",
           "service_item", "changes_about", "OpenReferral", "referrals_of"]

SERVICE_DECISION_KINDS = ("referral_result", "support_outcome", "correct_service")


class AgreedVisit(NamedTuple):
    household_uuid: str
    person_uuid: str | None     # a follow-up's person; None: agreed with the household on a household visit
    agreed_on: dt.date          # the day of the visit that agreed it
    next_visit: dt.date


def _executor(execute):
    """Statements run through `execute` (a migration's connection), else the session's connection (Core rows)."""
    return execute or db.session.connection().execute


def latest_agreements(condition=None, *, execute=None) -> list[AgreedVisit]:
    """The latest next visit agreed on a visit of each household (a household visit's) and of each follow-up person
    in each household, among the visits meeting `condition` (None: every visit); sorted by household, then person
    (the household's own first)."""
    # Only the latest of each leaves the database: a town's visits agree tens of thousands over a year.
    rank = func.row_number().over(partition_by=(Visit.household_uuid, Visit.person_uuid),
                                  order_by=(Visit.visit_date.desc(), Visit.submission_id.desc()))
    ranked = (select(Visit.household_uuid, Visit.person_uuid, Visit.visit_date, Visit.next_visit, rank.label("rank"))
              .where(Visit.next_visit.is_not(None), Visit.refusal.is_(None), Visit.visit_date.is_not(None),
                     Visit.household_uuid.is_not(None), *(() if condition is None else (condition,))).subquery())
    return _sorted(AgreedVisit(*row) for row in _executor(execute)(select(
        ranked.c.household_uuid, ranked.c.person_uuid, ranked.c.visit_date, ranked.c.next_visit).where(
        ranked.c.rank == 1)))


def agreements_about(households: set[str], people: set[str]) -> list[AgreedVisit]:
    """As latest_agreements, for the visits to these households and the follow-ups of these people (each asked by
    index: a household's or a person's visits are all read together, so each latest is theirs)."""
    found = {}
    for asked in matching(Visit.household_uuid, households) + matching(Visit.person_uuid, people):
        found.update(((agreed.household_uuid, agreed.person_uuid), agreed) for agreed in latest_agreements(asked))
    return _sorted(found.values())


def _sorted(agreements: Iterable[AgreedVisit]) -> list[AgreedVisit]:
    """By household, then person (the household's own first: None cannot be compared with a uuid)."""
    return sorted(agreements, key=lambda agreed: (agreed.household_uuid, agreed.person_uuid or "", agreed.agreed_on))


def heads_ranked(households=None):
    """The members of some households (a condition on Person.household_uuid; None: every household) ranked as a
    household's head is chosen: members living there (not dead, not moved away) before those gone, then the member
    recorded as head first, then by name, then by uuid (in code point order, as Python sorts, whatever the
    database's collation); rank 1 is the head."""
    name, uuid = func.coalesce(Person.name, ""), Person.uuid
    if on_postgresql():
        name, uuid = name.collate("C"), uuid.collate("C")
    gone = (func.coalesce(Person.status, "") == "died") | (func.coalesce(Person.residence, "") == "moved_away")
    rank = func.row_number().over(partition_by=Person.household_uuid,
                                  order_by=(gone, func.coalesce(Person.relationship, "") != "head", name, uuid))
    query = select(Person.household_uuid, Person.uuid, rank.label("rank"))
    return (query if households is None else query.where(households)).subquery()


def household_heads(households: set[str] | None, *, execute=None) -> dict[str, str]:
    """The head of each of these households (None: of every household; heads_ranked): household → person uuid."""
    heads: dict[str, str] = {}
    for asked in [None] if households is None else matching(Person.household_uuid, households):
        ranked = heads_ranked(asked)
        heads.update(_executor(execute)(select(ranked.c.household_uuid, ranked.c.uuid).where(ranked.c.rank == 1)).all())
    return heads


def service_item(row) -> ServiceItem:
    """A stored service item (a ServiceItemRecord, or a row of its table) as the visit recorded it."""
    return ServiceItem(kind=row.kind, seq=row.seq, person_uuid=row.person_uuid, person_name=row.person_name,
                       code=row.code, quantity=row.quantity, quantity_text=row.quantity_text, given=row.given,
                       place=row.place, text=row.text, detail=row.detail, consent=row.consent,
                       refers_to=row.refers_to, problems=tuple((row.problems or "").split()))


def changes_about(keys: Iterable[str], *, execute=None) -> dict[str, list[ItemChange]]:
    """What was said about these items after their visits: decisions in force, and follow-ups' referral results
    (a result counts only from a follow-up of the referral's own person)."""
    execute = _executor(execute)
    keys = set(keys)
    changes: dict[str, list[ItemChange]] = defaultdict(list)
    if not keys:
        return changes
    decided = (RegisterDecision.subject_uuid, RegisterDecision.decided_at, RegisterDecision.kind,
               RegisterDecision.field, RegisterDecision.target)
    for asked in matching(RegisterDecision.subject_uuid, keys):
        for subject, decided_at, kind, field, target in execute(select(*decided).where(
                asked, RegisterDecision.kind.in_(SERVICE_DECISION_KINDS), RegisterDecision.undone_at.is_(None))
                .order_by(RegisterDecision.id)):
            changes[subject].append(ItemChange(as_utc(decided_at), kind, field, target))
    referral = ServiceItemRecord.__table__.alias("referral")
    for asked in matching(ServiceItemRecord.refers_to, keys):
        for row in execute(
                select(ServiceItemRecord.refers_to, ServiceItemRecord.code, ServiceItemRecord.visited_at)
                .join(referral, (referral.c.item_key == ServiceItemRecord.refers_to)
                      & (referral.c.person_uuid == ServiceItemRecord.person_uuid))
                .where(ServiceItemRecord.kind == "referral_result", asked)):
            if row.visited_at is not None:
                changes[row.refers_to].append(ItemChange(as_utc(row.visited_at), "referral_result", None, row.code,
                                                         by_visit=True))
    return changes


class OpenReferral(NamedTuple):
    """A person's referral as it stands, as a schedule needs it."""

    person_uuid: str
    day: dt.date                    # the visit's that made it
    key: str
    closed_at: dt.datetime | None   # when a result closed it (attended, declined); None: open
    place: str | None


def referrals_of(people: set[str] | None, *, execute=None) -> list[OpenReferral]:
    """The dated referrals about these people (None: about everyone in the register), as they stand; each person's
    in the order they were made (visit day, visit, place in the visit)."""
    query = (select(*ServiceItemRecord.__table__.c).join(Person, Person.uuid == ServiceItemRecord.person_uuid)
             .where(ServiceItemRecord.kind == "referral", ServiceItemRecord.visit_date.is_not(None)))
    rows = [row for asked in ([None] if people is None else matching(ServiceItemRecord.person_uuid, people))
            for row in _executor(execute)(query if asked is None else query.where(asked))]
    changes = changes_about((row.item_key for row in rows), execute=execute)
    found = []
    for row in sorted(rows, key=lambda row: (row.person_uuid, row.visit_date, row.submission_id, row.seq)):
        state = item_state(service_item(row), changes.get(row.item_key, ()))
        closed = state.result_at if state.result in CLOSING_RESULTS else None
        found.append(OpenReferral(row.person_uuid, row.visit_date, row.item_key, closed, state.item.place))
    return found
