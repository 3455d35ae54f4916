"""Content-addressed file store for attachments and form media: streamed in, hashed, fsynced, never rewritten."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sync.errors import PayloadTooLarge

__all__ = ["BlobStore", "StoredBlob"]

_CHUNK = 256 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class BlobStore:
    """Files live at <root>/<sha[:2]>/<sha[2:4]>/<sha>; writing the same content twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_stream(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        """Copy a stream in chunks to a temporary file while hashing, then move it into place atomically."""
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
        fd, temp_name = tempfile.mkstemp(dir=staging)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"attachment over {max_bytes} bytes")
                    sha.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            final = self.path(digest)
            if final.exists():
                os.unlink(temp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp_name, final)
                _fsync_dir(final.parent)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise
        return StoredBlob(sha256=digest, md5=md5.hexdigest(), size=size)

    def put_bytes(self, data: bytes) -> StoredBlob:
        return self.put_stream(io.BytesIO(data), max_bytes=len(data))

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def stored(self) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every stored file, in name order (files being written, in staging/, are not)."""
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
            if _SHA256.fullmatch(path.name) and path.name.startswith(path.parent.parent.name + path.parent.name):
                yield path.name, path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_store() -> BlobStore:
    """The current app's blob store."""
    from flask import current_app

    return current_app.extensions["taizhang_blobs"]
