"""The backup archive: one tar file holding manifest.json first, the database copy, and the attachment files.

    manifest.json                  format, format version, engine, Alembic revision, creation time, row counts,
                                   and the size and SHA-256 of every other member
    database.sqlite3 | database.pgdump   an SQLite database file, or a `pg_dump --format=custom` dump
    blobs/ab/cd/abcd…              the blob store's files (attachments and form media), named by their SHA-256

An archive whose name ends in .tar.gz or .tgz (before a last .age) is gzip-compressed; reading detects either. Given
a key, the tar stream is encrypted as it is written (an age file, `encryption.py`); reading knows an encrypted
archive by its first bytes and decrypts it as it reads. Nothing here knows Flask or a database: writing takes
files, reading verifies every member against the manifest while copying it out.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate

from server.backup.encryption import BackupKey, Decrypted, Encrypting, is_encrypted
from sync.errors import BackupIncompatible, BackupInvalid

__all__ = ["FORMAT", "FORMAT_VERSION", "DATABASE_MEMBERS", "Manifest", "write_archive", "read_manifest",
           "extract_verified", "blob_member", "file_digest"]

FORMAT = "taizhang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_BLOB_MEMBER = re.compile(r"blobs/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


class _MemberSchema(Schema):
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class _ManifestSchema(Schema):
    format = fields.String(required=True, validate=validate.Equal(FORMAT))
    format_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    engine = fields.String(required=True, validate=validate.OneOf(sorted(DATABASE_MEMBERS)))
    alembic_revision = fields.String(required=True, validate=validate.Length(min=1, max=64))
    created_at = fields.String(required=True)
    taizhang_version = fields.String(required=True)
    database_tool = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True), required=True)
    members = fields.Dict(keys=fields.String(), values=fields.Nested(_MemberSchema), required=True)


@dataclass(frozen=True)
class Manifest:
    engine: str
    alembic_revision: str
    created_at: str
    taizhang_version: str
    database_tool: str  # "sqlite 3.40.1", "pg_dump (PostgreSQL) 15.20"
    counts: dict[str, int]
    members: dict[str, dict]
    format_version: int = FORMAT_VERSION

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.engine]

    def as_json(self) -> bytes:
        body = {"format": FORMAT, "format_version": self.format_version, "engine": self.engine,
                "alembic_revision": self.alembic_revision, "created_at": self.created_at,
                "taizhang_version": self.taizhang_version, "database_tool": self.database_tool,
                "counts": self.counts, "members": self.members}
        return json.dumps(body, indent=1, sort_keys=True).encode("utf-8")


def blob_member(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def file_digest(path: Path) -> dict:
    """{"size", "sha256"} of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def write_archive(out: Path, *, engine: str, alembic_revision: str, created_at: str, taizhang_version: str,
                  database_tool: str, counts: dict[str, int], database_file: Path,
                  blob_files: Iterable[tuple[str, Path]], key: BackupKey | None = None) -> Manifest:
    """Write the archive to OUT.partial, fsync it, then rename it to OUT (a reader never sees half an archive),
    encrypted to `key` when given. `blob_files` are (sha256, path) pairs; a file whose content does not hash to its
    name is refused."""
    members = {DATABASE_MEMBERS[engine]: file_digest(database_file)}
    blob_paths = {}
    for sha256, path in blob_files:
        member = blob_member(sha256)
        members[member] = file_digest(path)
        if members[member]["sha256"] != sha256:
            raise BackupInvalid(f"the stored file {path} is damaged: its content does not match its name")
        blob_paths[member] = path
    manifest = Manifest(engine=engine, alembic_revision=alembic_revision, created_at=created_at,
                        taizhang_version=taizhang_version, database_tool=database_tool, counts=counts,
                        members=members)
    compressed = out.name.removesuffix(".age").endswith((".tar.gz", ".tgz"))
    partial = out.with_name(out.name + ".partial")

    def write_tar(fileobj, mode: str) -> None:
        with tarfile.open(fileobj=fileobj, mode=mode, format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, manifest.as_json())
            _add_file(tar, DATABASE_MEMBERS[engine], database_file, members[DATABASE_MEMBERS[engine]]["size"])
            for member, path in blob_paths.items():
                _add_file(tar, member, path, members[member]["size"])

    try:
        with open(partial, "wb") as raw:
            if key is None:
                write_tar(raw, "w:gz" if compressed else "w")
            else:
                with Encrypting(raw, key) as sink:  # a pipe: tar's stream mode
                    write_tar(sink, "w|gz" if compressed else "w|")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, time.time()
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, path.stat().st_mtime
    with open(path, "rb") as handle:
        tar.addfile(info, handle)


@contextmanager
def _reading(archive: Path, key: BackupKey | None) -> Iterator[tuple[tarfile.TarFile, Decrypted | None]]:
    """The archive as a tar file read from its start: a plain one directly, an encrypted one through a decrypting
    stream (the decryption's own error, a wrong key or a changed chunk, is raised in place of tar's)."""
    if not is_encrypted(archive):
        try:
            tar = tarfile.open(archive, mode="r:*")
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise BackupInvalid(f"{archive.name} is not a tar archive") from exc
        with tar:
            yield tar, None
        return
    with Decrypted(archive, key) as decrypted:
        stream = decrypted.stream
        try:
            tar = tarfile.open(fileobj=stream, mode="r|*")
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise BackupInvalid(f"{archive.name} holds no tar archive") from exc
        with tar:
            yield tar, decrypted


def read_manifest(archive: Path, key: BackupKey | None = None) -> Manifest:
    """The archive's manifest (its first member), checked for form; members are checked by `extract_verified`.
    An encrypted archive needs `key`; only its first chunks are decrypted here."""
    try:
        with _reading(archive, key) as (tar, _):
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile() or first.size > _MAX_MANIFEST_BYTES:
                raise BackupInvalid(f"{archive.name} does not start with {MANIFEST}")
            data = tar.extractfile(first).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupInvalid(f"{archive.name} cannot be read as an archive: {exc}") from exc
    try:
        loaded = json.loads(data)
        version = loaded.get("format_version") if isinstance(loaded, dict) else None
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise BackupIncompatible(f"the archive has format version {version}, made by a newer taizhang; "
                                     f"this one reads version {FORMAT_VERSION}")
        body = _ManifestSchema().load(loaded)
    except (ValueError, ValidationError) as exc:
        raise BackupInvalid(f"{MANIFEST} is not valid: {exc}") from exc
    body.pop("format")
    manifest = Manifest(**body)
    for name in manifest.members:
        if name != manifest.database_member and not _BLOB_MEMBER.fullmatch(name):
            raise BackupInvalid(f"{MANIFEST} lists an unexpected member {name!r}")
    if manifest.database_member not in manifest.members:
        raise BackupInvalid(f"{MANIFEST} lists no {manifest.database_member}")
    return manifest


def extract_verified(archive: Path, manifest: Manifest, into: Path, key: BackupKey | None = None) -> None:
    """Copy every member of the archive to `into`, checking each against the manifest (size, SHA-256, and for a
    blob its name); any member missing, extra, repeated or different refuses the whole archive, and so does an
    encrypted archive that is not authentic to its last byte."""
    seen: set[str] = set()
    try:
        with _reading(archive, key) as (tar, decrypted):
            tar.next()  # the manifest, read and checked by read_manifest
            while (member := tar.next()) is not None:
                expected = manifest.members.get(member.name)
                if expected is None or member.name in seen or not member.isfile():
                    raise BackupInvalid(f"unexpected member {member.name!r} in the archive")
                seen.add(member.name)
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                got = _copy_hashing(tar.extractfile(member), target)
                blob = _BLOB_MEMBER.fullmatch(member.name)
                if got != expected or (blob and got["sha256"] != blob.group(3)):
                    raise BackupInvalid(f"{member.name} does not match its checksum in {MANIFEST}")
            if decrypted is not None:
                decrypted.read_to_end()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupInvalid(f"{archive.name} is damaged or cut short: {exc}") from exc
    missing = sorted(set(manifest.members) - seen)
    if missing:
        raise BackupInvalid(f"{len(missing)} member(s) listed in {MANIFEST} are missing, e.g. {missing[0]}")


def _copy_hashing(source, target: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"size": size, "sha256": digest.hexdigest()}
