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

from flask import current_app

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
            if _touch(final):  # already stored: kept, and marked as just used so a prune running now spares it
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

    def remove_unless_touched(self, sha256: str, listed_mtime_ns: int) -> bool:
        """Remove a stored file unless it was stored again since it was listed (its mtime moved); True if removed.

        The file is first renamed aside, atomically: a put of the same content after that finds no file and writes
        a new one, and a put just before it moved the mtime, which the renamed file shows, so it is put back (the
        same content, so replacing a newer copy is harmless)."""
        path, aside = self.path(sha256), self._aside(sha256)
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime_ns != listed_mtime_ns:
            os.replace(aside, path)
            return False
        aside.unlink()
        return True

    def put_back_set_aside(self) -> int:
        """Return files a removal interrupted (a crash between rename and decision) to their place; how many."""
        returned = 0
        for aside in sorted((self.root / "staging").glob("prune-*")):
            sha256 = aside.name.removeprefix("prune-")
            if _SHA256.fullmatch(sha256):
                self.path(sha256).parent.mkdir(parents=True, exist_ok=True)
                os.replace(aside, self.path(sha256))
                returned += 1
        return returned

    def staging_leftovers(self) -> Iterator[tuple[Path, int]]:
        """(path, mtime in ns) of partial files in staging/ (uploads being written, or cut off by a crash)."""
        for path in sorted((self.root / "staging").glob("tmp*")):
            try:
                yield path, path.stat().st_mtime_ns
            except FileNotFoundError:  # moved into place while we looked
                continue

    def _aside(self, sha256: str) -> Path:
        return self.root / "staging" / f"prune-{sha256}"

    def stored(self) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every stored file, in name order (files being written, in staging/, are not)."""
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
            if _SHA256.fullmatch(path.name) and path.name.startswith(path.parent.parent.name + path.parent.name):
                yield path.name, path


def _touch(path: Path) -> bool:
    """Set a file's mtime to now; False if there is no such file."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_store() -> BlobStore:
    """The current app's blob store."""
    return current_app.extensions["taizhang_blobs"]
