"""Receiving a submission: validate, then store XML, metadata and attachments whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from server.forms import queries as form_queries
from server.forms.operations import may_fill, may_fill_as_collector
from server.principal import Principal
from server.storage import BlobStore
from server.submissions import queries
from sync.errors import (
    EditAlreadySuperseded,
    EditFormMismatch,
    EditOriginalUnknown,
    EditOutsideGroup,
    Forbidden,
    FormNotFound,
    FormVersionUnknown,
    InstanceConflict,
)
from sync.submission import attachment_names, check_attachment_name, parse_submission

__all__ = ["IncomingFile", "IntakeResult", "Origin", "receive_submission"]


@dataclass(frozen=True, slots=True)
class IncomingFile:
    name: str
    content_type: str | None
    stream: BinaryIO


@dataclass(frozen=True, slots=True)
class Origin:
    """Where and by whom a submission was collected, and when it first reached a server: the sender's own group,
    name and now, except for a submission replicated from a town server, which brings the town's."""

    area_id: int | None
    area_path: str | None
    collector_name: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class IntakeResult:
    instance_id: str
    created: bool
    attachments_added: int
    attachments_missing: int


def receive_submission(principal: Principal, xml: bytes, files: list[IncomingFile], *, blobs: BlobStore,
                       max_attachment_bytes: int, device_id: str | None, user_agent: str | None,
                       now: datetime, origin: Origin | None = None, on_its_own: bool = False) -> IntakeResult:
    """Accept one POST of a submission; a retry or a later part of a split upload adds only missing files.

    `on_its_own`: the caller writes nothing else in this transaction (Collect's POST). A new submission without
    attachments is then stored and queued by one statement committed at once (PostgreSQL; see
    queries.insert_submission); anything else waits for the caller's commit as usual."""
    replicated = origin is not None
    origin = origin or Origin(principal.area_id, principal.area_path, principal.username, now)
    for incoming in files:
        check_attachment_name(incoming.name)
    envelope = parse_submission(xml)
    # Refuse what is not this user's to send before any file is kept (the look-ups take no transaction).
    form = form_queries.version_access(envelope.form_id, envelope.version)
    if form is None:
        if form_queries.form_exists(envelope.form_id):
            raise FormVersionUnknown(f"{envelope.form_id} version {envelope.version or '(none)'}")
        raise FormNotFound(envelope.form_id)
    # A replicated submission was filled by a collector of its group; the replicating officer's area is checked
    # by the replication service.
    if not (may_fill_as_collector(origin.area_path, form) if replicated else may_fill(principal, form)):
        raise Forbidden(envelope.form_id)
    root_instance_id = envelope.instance_id
    if envelope.deprecated_id is not None:
        # An edit replaces a submission already here, of the same form, collected in the same group.
        replaced = queries.edited_submission(envelope.deprecated_id)
        if replaced is None:
            raise EditOriginalUnknown(envelope.deprecated_id)
        if replaced.area_id is None or replaced.area_id != origin.area_id:
            raise EditOutsideGroup(envelope.deprecated_id)
        if replaced.form_id != form.form_pk:
            raise EditFormMismatch(envelope.deprecated_id)
        root_instance_id = replaced.root_instance_id
    # Stream the files the form's file fields name to the blob store before any database work, so transactions
    # stay short; any other file is not part of the submission, and is not kept (it would be no one's).
    expected = attachment_names(envelope.root, form.binary_paths)
    arrived = {}
    for incoming in files:
        if incoming.name in expected and incoming.name not in arrived:
            arrived[incoming.name] = (blobs.put_stream(incoming.stream, max_bytes=max_attachment_bytes),
                                      incoming.content_type)
    submission_id = queries.insert_submission({
        "instance_id": envelope.instance_id, "root_instance_id": root_instance_id,
        "deprecated_id": envelope.deprecated_id, "form_id": form.form_pk, "form_version_id": form.version_pk,
        "xml": xml, "xml_sha256": envelope.sha256, "submitter_id": principal.id,
        "area_id": origin.area_id, "collector_name": origin.collector_name[:64],
        "device_id": (device_id or None) and device_id[:255], "user_agent": (user_agent or None) and user_agent[:500],
        "received_at": origin.received_at,
    }, queued_at=now, on_its_own=on_its_own and not expected and envelope.deprecated_id is None)
    created = submission_id is not None
    if created:
        queries.adopt_later_versions(envelope.instance_id, root_instance_id)
    else:
        stored = queries.by_instance_id(envelope.instance_id)
        if stored is None:  # not this instanceID: another edit already replaced the same version
            raise EditAlreadySuperseded(envelope.deprecated_id)
        if stored.area_id != origin.area_id:  # another group's submission: not this sender's to send again
            raise Forbidden(envelope.instance_id)
        if stored.xml_sha256 != envelope.sha256:
            raise InstanceConflict(envelope.instance_id)
        submission_id = stored.id
    queries.expect_attachments(submission_id, expected)

    added = 0
    for name in expected:  # a file the form's binary fields do not name is not part of the submission
        if name in arrived:
            blob, content_type = arrived[name]
            added += queries.fill_attachment(submission_id, name, sha256=blob.sha256, size=blob.size,
                                             content_type=content_type, received_at=now)
    missing = queries.missing_attachment_count(submission_id) if expected else 0
    return IntakeResult(envelope.instance_id, created, added, missing)
