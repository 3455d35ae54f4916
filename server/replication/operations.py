"""Replication services: a town server hands out its raw submissions and its people's register decisions by
cursor; the county server takes them in (submissions with the group and collector they were collected by,
decisions at their place after the submission they followed), so the county register is the merge of its towns'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO

from server import clock
from server.areas import queries as area_queries
from server.areas.operations import area_parts, ensure_area
from server.audit import queries as audit
from server.principal import Principal
from server.register.decisions import area_paths_of
from server.replication import queries
from server.replication.decisions import ReplicatedDecision, record_replicated_decision
from server.replication.queries import StoredRaw
from server.schedules.operations import current_schedule
from server.storage import BlobStore
from server.submissions.operations import IncomingFile, IntakeResult, Origin, receive_submission
from sync.access import TOWN_OFFICE_ROLES, area_contains
from sync.decisions import DECISION_KINDS, decision_kind
from sync.errors import BadRequest, DecisionNotYetMergeable, Forbidden, NotFound
from sync.periods import as_utc

__all__ = ["DecisionPage", "PortableDecision", "ReplicationPage", "attachment_file", "decisions_after",
           "receive_decision", "receive_replicated", "submissions_after", "submission"]

SETTLE = dt.timedelta(seconds=60)
"""A submission's cursor is handed out only once it is older than this. PostgreSQL can make a later id visible
before an earlier one commits; an intake commits within seconds of its `received_at`, so once every submission
up to the cursor is this old, no earlier id can still appear. Newer ones are sent too, and again next time
(the county answers a repeat with "already there")."""

_REFUSAL = "replication is for the town office and the county"


@dataclass(frozen=True, slots=True)
class ReplicationPage:
    submissions: list[StoredRaw]
    cursor: int          # where the next request starts: past every submission that can no longer be overtaken
    more: bool


def _replicator(principal: Principal) -> None:
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden(_REFUSAL)


def submissions_after(principal: Principal, cursor: int, limit: int) -> ReplicationPage:
    """The raw submissions of the principal's area past the cursor (audited: they hold people's data)."""
    _replicator(principal)
    found = queries.after_cursor(cursor, principal.area_path, limit)
    settled_before = clock.now() - SETTLE
    next_cursor = cursor
    for raw in found:
        if raw.received_at > settled_before:
            break
        next_cursor = raw.cursor
    if found:
        audit.record(principal.id, "replication.read", area_path=principal.area_path,
                     subject=f"{found[0].cursor}-{found[-1].cursor}", records=len(found))
    return ReplicationPage(found, next_cursor, len(found) == limit)


def submission(principal: Principal, instance_id: str) -> StoredRaw:
    """One raw submission, to look again at one whose attachments had not all arrived (audited)."""
    _replicator(principal)
    found = queries.by_instance_id(instance_id)
    if found is None or not area_contains(principal.area_path, found.area_path):
        raise NotFound(instance_id)
    audit.record(principal.id, "replication.read", area_path=found.area_path, subject=instance_id, records=1)
    return found.raw


def attachment_file(principal: Principal, instance_id: str, name: str, blobs: BlobStore) -> tuple[BinaryIO, str]:
    """An arrived attachment's content and type (audited)."""
    _replicator(principal)
    found = queries.attachment(instance_id, name)
    if found is None or found.attachment.sha256 is None or not area_contains(principal.area_path, found.area_path):
        raise NotFound(f"{instance_id} {name}")
    audit.record(principal.id, "replication.read", area_path=found.area_path, subject=f"{instance_id} {name}",
                 records=1)
    return blobs.open(found.attachment.sha256), found.attachment.content_type or "application/octet-stream"


def receive_replicated(principal: Principal, xml: bytes, files: list[IncomingFile], *, area: str, collector: str,
                       received_at: dt.datetime, device_id: str | None, blobs: BlobStore,
                       max_attachment_bytes: int, now: dt.datetime) -> IntakeResult:
    """Store a submission replicated from a town server as it was stored there: its group (created here when the
    town added it, inside the replicator's area), its collector's name and when it first arrived."""
    _replicator(principal)
    group = _group_in_reach(principal, area)
    return receive_submission(principal, xml, files, blobs=blobs, max_attachment_bytes=max_attachment_bytes,
                              device_id=device_id, user_agent=None, now=now,
                              origin=Origin(group.id, group.path, collector, received_at))


def _group_in_reach(principal: Principal, area: str):
    """A town's group by its full name, created here when the town added it, inside the replicator's area."""
    parts = area_parts(area)
    if len(parts) != 3:
        raise BadRequest(f"area {area!r}: give the group as town/village/group")
    known = next((found for depth in (3, 2, 1) if (found := area_queries.by_full_name("/".join(parts[:depth])))),
                 None)
    if known is None and principal.area_path is not None or \
            known is not None and not area_contains(principal.area_path, known.path):
        raise Forbidden(area)
    group = ensure_area("/".join(parts))
    if group.kind != "group":
        raise BadRequest(f"area {area!r} is not a group")
    return group


# ---- decisions -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PortableDecision:
    """A register decision in terms every server understands: a group by its full name (`target` of a move), a
    submission by its instanceID (`subject` of a rejection, and `after_instance_id`, the visit it followed)."""

    uuid: str
    kind: str
    subject: str
    target: str
    field: str | None
    after_instance_id: str | None
    decided_at: dt.datetime
    undone_at: dt.datetime | None
    automatic: bool = False   # the town's automatic merge (listed only once undone: the county undoes its own)
    note: str | None = None   # why the person decided it (a correction's reason)


@dataclass(frozen=True, slots=True)
class DecisionPage:
    decisions: list[PortableDecision]   # past the cursor
    cursor: int                         # past every decision that can no longer be overtaken
    last: int                           # the last one looked at (the next page starts after it)
    more: bool
    undone: list[PortableDecision]      # undone at or after `undone_since`, whatever their id
    undone_cursor: dt.datetime          # the next request's `undone_since`


def decisions_after(principal: Principal, cursor: int, limit: int, undone_since: dt.datetime | None
                    ) -> DecisionPage:
    """The register decisions people made about the principal's area past the cursor, and those undone since a
    moment (audited: they name people). The automatic merge is not among them: each server makes its own."""
    _replicator(principal)
    now = clock.now()
    rows = queries.decisions_after(cursor, limit)
    settled_before = now - SETTLE
    next_cursor = cursor
    for row in rows:
        if as_utc(row.decided_at) > settled_before:
            break
        next_cursor = row.id
    decisions = [found for row in rows if (found := _portable(principal, row))]
    undone = [found for row in (queries.decisions_undone_since(undone_since) if undone_since else [])
              if (found := _portable(principal, row))]
    if decisions or undone:
        audit.record(principal.id, "replication.read", area_path=principal.area_path, subject="decisions",
                     records=len(decisions) + len(undone))
    return DecisionPage(decisions, next_cursor, rows[-1].id if rows else cursor, len(rows) == limit, undone,
                        now - SETTLE)


def _portable(principal: Principal, row) -> PortableDecision | None:
    """A stored decision in portable terms; None when its records are outside the principal's area."""
    kind = DECISION_KINDS[row.kind]
    paths = area_paths_of(row)
    if None in paths or not all(area_contains(principal.area_path, path) for path in paths):
        return None
    # The visit it followed, among the principal's own: another town's instanceIDs are not theirs to read (and
    # only the order among the visits of these records matters).
    after = queries.last_submission_in(principal.area_path, through=row.after_submission_id)
    return PortableDecision(
        row.uuid, row.kind,
        subject=queries.instance_id_of(int(row.subject_uuid)) if kind.subject_is_visit else row.subject_uuid,
        target=queries.group_full_name(int(row.target)) if kind.target_is_group(row.field) else row.target,
        field=row.field, after_instance_id=queries.instance_id_of(after) if after else None,
        decided_at=as_utc(row.decided_at), undone_at=row.undone_at and as_utc(row.undone_at),
        automatic=row.decided_by is None, note=row.note)


def receive_decision(principal: Principal, decision: PortableDecision) -> bool:
    """Record a decision replicated from a town server at its place here (after the visit it followed); whether
    anything changed. DecisionNotYetMergeable while a submission it needs has not arrived or is not merged yet."""
    _replicator(principal)
    kind = decision_kind(decision.kind)
    subject, target, after = decision.subject, decision.target, 0
    if kind.subject_is_visit:   # sent as its instanceID
        rejected = queries.submission_id_of(decision.subject)
        if rejected is None:
            raise DecisionNotYetMergeable(decision.uuid)
        subject = str(rejected)
    if kind.target_is_group(decision.field):   # sent by its full name
        target = str(_group_in_reach(principal, decision.target).id)
    kind.check(target, decision.field, tiers=current_schedule().tier_names)
    if decision.after_instance_id is not None:
        after = queries.submission_id_of(decision.after_instance_id)
        if after is None:
            raise DecisionNotYetMergeable(decision.uuid)
    return record_replicated_decision(principal, ReplicatedDecision(
        decision.uuid, decision.kind, subject, target, decision.field, after, decision.decided_at,
        decision.undone_at, decision.automatic, decision.note))
