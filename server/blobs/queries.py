"""Which stored files the database names: received attachments and published form media."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select

from server.database import lookup_connection
from server.forms.models import FormMedia
from server.submissions.models import SubmissionAttachment

__all__ = ["named_blobs_select", "named_among"]

_CHUNK = 1000


def named_blobs_select() -> Select:
    """SHA-256 of every file a row refers to (a photo not yet arrived has no hash yet)."""
    attachments = select(SubmissionAttachment.sha256).where(SubmissionAttachment.sha256.is_not(None))
    return attachments.union(select(FormMedia.sha256))


def named_among(candidates: Iterable[str]) -> set[str]:
    """Those of `candidates` that some row names, asked in chunks (a county's store holds a million photos),
    outside any transaction: each chunk sees every row committed before it is asked."""
    pending, named = list(candidates), set()
    with lookup_connection() as connection:
        for start in range(0, len(pending), _CHUNK):
            chunk = pending[start:start + _CHUNK]
            named |= set(connection.scalars(
                select(SubmissionAttachment.sha256).where(SubmissionAttachment.sha256.in_(chunk))
                .union(select(FormMedia.sha256).where(FormMedia.sha256.in_(chunk)))))
    return named
