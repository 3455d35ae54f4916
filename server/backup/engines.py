"""Copying a database out and back in: SQLite's online backup API, and PostgreSQL's pg_dump / pg_restore.

The PostgreSQL tools get the connection from libpq environment variables built from the database URL, never from
the command line (where other users of the machine could read a password), and never prompt. They are looked up in
TAIZHANG_PG_BIN_DIR if set, else on PATH, then in Debian's /usr/lib/postgresql/<version>/bin, newest first; one
older than the server (or than the pg_dump that made a dump) is not used.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from sync.errors import BackupInvalid, DatabaseToolFailed, DatabaseToolMissing

__all__ = ["sqlite_path", "copy_sqlite", "check_sqlite_file", "PgTool", "find_pg_tool", "pg_dump", "pg_restore",
           "dump_tables", "major_version", "DEBIAN_PG_DIRS"]

DEBIAN_PG_DIRS = Path("/usr/lib/postgresql")
# URL query parameters that libpq also reads from the environment.
_LIBPQ_PARAMETERS = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "sslmode": "PGSSLMODE",
                     "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
                     "sslcrl": "PGSSLCRL", "gssencmode": "PGGSSENCMODE", "connect_timeout": "PGCONNECT_TIMEOUT",
                     "application_name": "PGAPPNAME", "options": "PGOPTIONS", "passfile": "PGPASSFILE",
                     "service": "PGSERVICE", "target_session_attrs": "PGTARGETSESSIONATTRS",
                     "client_encoding": "PGCLIENTENCODING"}
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", re.MULTILINE)
_TIMEOUT = 24 * 3600


# ---- SQLite --------------------------------------------------------------------------------------------------

def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DatabaseToolFailed("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a whole SQLite database with the online backup API: one step, in one transaction on each side, so a
    running server may go on reading and writing the source, and the target changes completely or not at all
    (its other connections see the new content; a WAL file beside it stays consistent)."""
    try:
        source_connection = sqlite3.connect(source, timeout=60)
        try:
            target_connection = sqlite3.connect(target, timeout=60)
            try:
                source_connection.backup(target_connection)
            finally:
                target_connection.close()
        finally:
            source_connection.close()
    except sqlite3.Error as exc:
        raise DatabaseToolFailed(f"SQLite: {exc}") from exc


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database (PRAGMA integrity_check)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(f"the database in the archive is not readable: {exc}") from exc
    if result != [("ok",)]:
        raise BackupInvalid(f"the database in the archive fails SQLite's integrity check: {result[0][0]}")


# ---- PostgreSQL ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PgTool:
    path: Path
    major: int
    version: str  # e.g. "pg_dump (PostgreSQL) 15.20"


def major_version(tool_version: str) -> int:
    """7 from "pg_dump (PostgreSQL) 7.4"; 0 when the text names no PostgreSQL version."""
    found = _VERSION.search(tool_version)
    return int(found.group(1)) if found else 0


def _tool_version(path: Path) -> PgTool | None:
    try:
        output = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return None
    found = _VERSION.search(output)
    return PgTool(path, int(found.group(1)), output) if found else None


def _candidates(name: str, configured_dir: str) -> list[Path]:
    if configured_dir:
        return [Path(configured_dir) / name]
    found = [Path(path)] if (path := shutil.which(name)) else []
    debian = sorted(DEBIAN_PG_DIRS.glob(f"*/bin/{name}"),
                    key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0, reverse=True)
    return found + [path for path in debian if path not in found]


def find_pg_tool(name: str, at_least: int, configured_dir: str = "") -> PgTool:
    """The first pg_dump / pg_restore found whose major version is at least `at_least`."""
    tools = [tool for path in _candidates(name, configured_dir) if (tool := _tool_version(path))]
    for tool in tools:
        if tool.major >= at_least:
            return tool
    if not tools:
        where = configured_dir or "PATH or /usr/lib/postgresql/*/bin"
        raise DatabaseToolMissing(f"{name} not found in {where}; on Debian: apt install postgresql-client")
    found = ", ".join(f"{tool.path} is version {tool.major}" for tool in tools)
    raise DatabaseToolMissing(f"{name} {at_least} or newer is needed ({found}); "
                              f"install postgresql-client-{at_least} or set TAIZHANG_PG_BIN_DIR")


def _libpq_environment(url: str | URL) -> dict[str, str]:
    url = make_url(url)
    env = dict(os.environ)
    settings = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
                "PGDATABASE": url.database}
    for key, value in url.query.items():
        if key in _LIBPQ_PARAMETERS:
            settings[_LIBPQ_PARAMETERS[key]] = value if isinstance(value, str) else value[0]
    env.update({name: str(value) for name, value in settings.items() if value is not None})
    return env


def _run(tool: PgTool, arguments: list[str], url: str | URL | None, what: str) -> str:
    try:
        result = subprocess.run([str(tool.path), "--no-password", *arguments],
                                env=_libpq_environment(url) if url else None,
                                capture_output=True, text=True, timeout=_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatabaseToolFailed(f"{what}: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        raise DatabaseToolFailed(f"{what}: {message}")
    return result.stdout


def pg_dump(url: str | URL, out: Path, *, snapshot: str, server_major: int, configured_dir: str = "") -> PgTool:
    """Dump the database as it is in an exported snapshot, in pg_dump's custom format."""
    tool = find_pg_tool("pg_dump", server_major, configured_dir)
    _run(tool, ["--format=custom", f"--file={out}", f"--snapshot={snapshot}"], url, "pg_dump")
    return tool


def dump_tables(dump: Path, *, dumped_by: int, configured_dir: str = "") -> set[str]:
    """The tables a custom-format dump creates (from its table of contents); an unreadable dump is refused."""
    tool = find_pg_tool("pg_restore", dumped_by, configured_dir)
    try:
        listing = _run(tool, ["--list", str(dump)], None, "pg_restore --list")
    except DatabaseToolFailed as exc:
        raise BackupInvalid(f"the database dump cannot be read: {exc.detail}") from exc
    return set(_TOC_TABLE.findall(listing))


def pg_restore(url: str | URL, dump: Path, *, at_least: int, configured_dir: str = "") -> None:
    """Replace the database's objects with the dump's in one transaction: any error leaves it as it was."""
    tool = find_pg_tool("pg_restore", at_least, configured_dir)
    database = make_url(url).database
    _run(tool, ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                f"--dbname={database}", str(dump)], url, "pg_restore")
