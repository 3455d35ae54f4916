"""Backing up the configured database and blob store into one archive, and restoring one safely.

A backup copies the database first (one consistent snapshot, taken while the server runs), then the blob store's
files. Intake writes a file before the row naming it, no file is ever rewritten, and only files no row names are
ever removed (`taizhang blobs prune`), so every file the snapshot names is in the archive (files that arrived after
the snapshot come too, harmlessly).

A restore checks everything before it changes anything: the manifest (format, engine, a revision this taizhang
knows), every member's SHA-256 while copying the archive out to a temporary directory beside the instance, the
database copy itself, and that the database is empty unless --force. Then it adds the files to the blob store
(the files already there stay: they are named by their content), replaces the database in one transaction, and
migrates it if the archive is older than this taizhang.

With a key configured (TAIZHANG_BACKUP_KEY or TAIZHANG_BACKUP_KEY_FILE) every archive is encrypted to it (age); with
none, a backup is refused unless asked for unencrypted. A restore reads an encrypted archive with the configured
secret key (a wrong key or a changed file is refused before anything changes) and a plain one as before.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from server import clock
from server.backup import engines, queries
from server.backup.archive import Manifest, extract_verified, read_manifest, write_archive
from server.backup.encryption import BackupKey, load_key
from server.extensions import MIGRATIONS_DIR, db
from server.storage import blob_store
from sync.errors import BackupIncompatible, BackupKeyMissing, DatabaseNotEmpty, DatabaseToolFailed

__all__ = ["BackupResult", "RestoreResult", "back_up", "restore", "configured_key"]


@dataclass(frozen=True)
class BackupResult:
    manifest: Manifest
    files: int
    files_missing: int  # files the database names that the blob store lacks (lost before this backup)
    encrypted_to: str | None  # the public key (age1…) the archive is encrypted to; None: not encrypted


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    files_added: int
    migrated_to: str | None  # the revision migrated to, when the archive was older


def _taizhang_version() -> str:
    try:
        return version("taizhang")
    except PackageNotFoundError:
        return "unknown"


def configured_key() -> BackupKey | None:
    """The backup key the configuration names, read and checked (None when none is configured)."""
    return load_key(current_app.config["TAIZHANG_BACKUP_KEY"], current_app.config["TAIZHANG_BACKUP_KEY_FILE"])


def back_up(out: Path, *, unencrypted: bool = False) -> BackupResult:
    """Write an archive of the configured database and the blob store to `out` (replaced atomically), encrypted to
    the configured key; without one, only when `unencrypted` is asked for."""
    key = configured_key()
    if key is None and not unencrypted:
        raise BackupKeyMissing()
    out = out.resolve()
    store = blob_store()
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".taizhang-backup-") as work:
        if db.engine.dialect.name == "sqlite":
            database_file, facts = _copy_sqlite_out(Path(work))
        else:
            database_file, facts = _dump_postgresql(Path(work))
        counts, revision, named, tool = facts
        if revision is None:
            raise DatabaseToolFailed("the database has no tables yet (taizhang db upgrade): nothing to back up")
        files = list(store.stored())
        manifest = write_archive(out, engine=db.engine.dialect.name, alembic_revision=revision,
                                 created_at=clock.now().isoformat(timespec="seconds"),
                                 taizhang_version=_taizhang_version(), database_tool=tool, counts=counts,
                                 database_file=database_file, blob_files=files, key=key)
    return BackupResult(manifest, files=len(files), files_missing=len(named - {sha for sha, _ in files}),
                        encrypted_to=key.public if key else None)


def _copy_sqlite_out(work: Path):
    copy = work / "database.sqlite3"
    engines.copy_sqlite(engines.sqlite_path(db.engine.url), copy)
    engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            facts = (queries.row_counts(connection), queries.alembic_revision(connection),
                     queries.named_blobs(connection), f"sqlite {sqlite3.sqlite_version}")
    finally:
        engine.dispose()
    return copy, facts


def _dump_postgresql(work: Path):
    """pg_dump inside a snapshot exported by a repeatable-read transaction, in which the counts are taken too."""
    dump = work / "database.pgdump"
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = queries.export_snapshot(connection)
        tool = engines.pg_dump(db.engine.url, dump, snapshot=snapshot,
                               server_major=connection.dialect.server_version_info[0],
                               configured_dir=current_app.config["TAIZHANG_PG_BIN_DIR"])
        facts = (queries.row_counts(connection), queries.alembic_revision(connection),
                 queries.named_blobs(connection), tool.version)
        connection.rollback()
    return dump, facts


def restore(archive: Path, *, force: bool = False) -> RestoreResult:
    """Replace the configured database and add the blob store's files from an archive (see the module's text)."""
    key = configured_key()
    manifest = read_manifest(archive, key)
    engine_name = db.engine.dialect.name
    if manifest.engine != engine_name:
        raise BackupIncompatible(f"the backup holds a {manifest.engine} database, the configured database is "
                                 f"{engine_name}")
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    try:
        scripts.get_revision(manifest.alembic_revision)
    except CommandError as exc:
        raise BackupIncompatible(f"the backup's schema revision {manifest.alembic_revision!r} is unknown here: it "
                                 f"was made by a newer taizhang; upgrade taizhang first") from exc
    with db.engine.connect() as connection:
        present = queries.table_names(connection)
        if queries.holds_data(connection) and not force:
            raise DatabaseNotEmpty()
    db.session.remove()

    with tempfile.TemporaryDirectory(dir=current_app.instance_path, prefix=".taizhang-restore-") as work:
        work = Path(work)
        extract_verified(archive, manifest, work, key)
        database_file = work / manifest.database_member
        if engine_name == "sqlite":
            engines.check_sqlite_file(database_file)
        else:
            _check_dump_fits(database_file, manifest, present)
        files_added = _add_files(work / "blobs")
        db.engine.dispose()
        if engine_name == "sqlite":
            engines.copy_sqlite(database_file, engines.sqlite_path(db.engine.url))
        else:
            engines.pg_restore(db.engine.url, database_file, at_least=_pg_major(manifest),
                               configured_dir=current_app.config["TAIZHANG_PG_BIN_DIR"])
        db.engine.dispose()

    with db.engine.connect() as connection:
        restored_revision = queries.alembic_revision(connection)
    migrated_to = None
    if restored_revision != scripts.get_current_head():
        upgrade(directory=str(MIGRATIONS_DIR))
        migrated_to = scripts.get_current_head()
    return RestoreResult(manifest, files_added=files_added, migrated_to=migrated_to)


def _pg_major(manifest: Manifest) -> int:
    with db.engine.connect() as connection:
        server_major = connection.dialect.server_version_info[0]
    return max(server_major, engines.major_version(manifest.database_tool))


def _check_dump_fits(dump: Path, manifest: Manifest, present: set[str]) -> None:
    """pg_restore --clean replaces the dump's tables only: a taizhang table the dump lacks (a newer schema) would
    survive beside the older ones and break the migration, so such a database is refused."""
    dumped = engines.dump_tables(dump, dumped_by=_pg_major(manifest),
                                 configured_dir=current_app.config["TAIZHANG_PG_BIN_DIR"])
    ours = {table.name for table in db.metadata.sorted_tables} | {"alembic_version"}
    newer = sorted((present & ours) - dumped)
    if newer:
        raise BackupIncompatible(f"the database has tables the backup lacks ({', '.join(newer)}): its schema is "
                                 f"newer; restore into a new, empty database (createdb) instead")


def _add_files(extracted: Path) -> int:
    """Move the archive's verified files into the blob store (hashed again on the way in); returns how many were
    not there yet."""
    store = blob_store()
    added = 0
    if not extracted.is_dir():
        return 0
    for path in sorted(extracted.glob("*/*/*")):
        if store.path(path.name).exists():
            continue
        with open(path, "rb") as handle:
            store.put_stream(handle, max_bytes=path.stat().st_size)
        added += 1
    return added
