"""The media files a user gets for a form version, computed per request: the register lists (households.csv,
people.csv, due.csv) are generated for the collector's own group; other media are served as published."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO, Callable

from server.forms import queries
from server.forms.queries import FormVersionAccess
from server.principal import Principal
from server.schedules.operations import phone_lists
from server.storage import BlobStore
from sync.phone_lists import LIST_FILES

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
    rows = queries.media_rows(form.version_pk)
    lists = phone_lists(principal) if any(row.filename in LIST_FILES for row in rows) else {}
    return [_generated(row.filename, lists[row.filename]) if row.filename in lists else
            MediaFile(filename=row.filename, md5=row.md5, size=row.size, content_type=row.content_type,
                      open=lambda sha=row.sha256: blobs.open(sha))
            for row in rows]


def _generated(filename: str, content: bytes) -> MediaFile:
    return MediaFile(filename=filename, md5=hashlib.md5(content).hexdigest(), size=len(content),
                     content_type="text/csv", open=lambda: io.BytesIO(content))
