"""The media files a user gets for a form version, computed per request (later: per-collector generated lists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, BinaryIO

from server.forms import queries
from server.forms.queries import FormVersionAccess
from server.storage import BlobStore
from server.users.queries import Principal

__all__ = ["MediaFile", "media_for"]


@dataclass(frozen=True, slots=True)
class MediaFile:
    filename: str
    md5: str
    size: int
    content_type: str
    open: Callable[[], BinaryIO]
    # "entityList" for Central-style entity lists; None for ordinary media.
    kind: str | None = None


def media_for(form: FormVersionAccess, principal: Principal, blobs: BlobStore) -> list[MediaFile]:
    """Every media file this user's copy of the form needs, with the md5 of exactly the bytes served."""
    return [
        MediaFile(filename=row.filename, md5=row.md5, size=row.size, content_type=row.content_type,
                  open=lambda sha=row.sha256: blobs.open(sha))
        for row in queries.media_rows(form.version_pk)
    ]
