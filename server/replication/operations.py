"""Replication services: a town server hands out its raw submissions by cursor; the county server takes them in
with the group and collector they were collected by, so the county register is the merge of its towns'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO

from server import clock
from server.audit import queries as audit
from server.areas import queries as area_queries
from server.areas.operations import area_parts, ensure_area
from server.replication import queries
from server.replication.queries import StoredRaw
from server.storage import BlobStore
from server.submissions.operations import IncomingFile, IntakeResult, Origin, receive_submission
from server.users.queries import Principal
from sync.access import TOWN_OFFICE_ROLES, area_contains
from sync.errors import BadRequest, Forbidden, NotFound

__all__ = ["ReplicationPage", "attachment_file", "receive_replicated", "submissions_after", "submission"]

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
    if found is None or not area_contains(principal.area_path, found[1]):
        raise NotFound(instance_id)
    audit.record(principal.id, "replication.read", area_path=found[1], subject=instance_id, records=1)
    return found[0]


def attachment_file(principal: Principal, instance_id: str, name: str, blobs: BlobStore) -> tuple[BinaryIO, str]:
    """An arrived attachment's content and type (audited)."""
    _replicator(principal)
    found = queries.attachment(instance_id, name)
    if found is None or found[0].sha256 is None or not area_contains(principal.area_path, found[1]):
        raise NotFound(f"{instance_id} {name}")
    audit.record(principal.id, "replication.read", area_path=found[1], subject=f"{instance_id} {name}", records=1)
    return blobs.open(found[0].sha256), found[0].content_type or "application/octet-stream"


def receive_replicated(principal: Principal, xml: bytes, files: list[IncomingFile], *, area: str, collector: str,
                       received_at: dt.datetime, device_id: str | None, blobs: BlobStore,
                       max_attachment_bytes: int, now: dt.datetime) -> IntakeResult:
    """Store a submission replicated from a town server as it was stored there: its group (created here when the
    town added it, inside the replicator's area), its collector's name and when it first arrived."""
    _replicator(principal)
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
    return receive_submission(principal, xml, files, blobs=blobs, max_attachment_bytes=max_attachment_bytes,
                              device_id=device_id, user_agent=None, now=now,
                              origin=Origin(group.id, group.path, collector, received_at))
