"""All runtime configuration, read from TAIZHANG_* environment variables in this one module."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from sync.privacy import RETENTION_RULES
from sync.retention import SERVICE_AGE_LIMIT

__all__ = ["load_config", "default_instance_dir"]

MiB = 1024 * 1024


def default_instance_dir() -> Path:
    """TAIZHANG_INSTANCE_DIR, else `instance/` beside the source tree (a checkout), else, installed (`pip install .`),
    `var/taizhang-instance` in the Python environment (Flask's place for an installed app's instance folder)."""
    configured = os.environ.get("TAIZHANG_INSTANCE_DIR")
    if configured:
        return Path(configured).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path(sys.prefix) / "var" / "taizhang-instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _secret_key(instance_dir: Path) -> str:
    """TAIZHANG_SECRET_KEY, else a random key kept in the instance folder so it survives restarts."""
    configured = os.environ.get("TAIZHANG_SECRET_KEY")
    if configured:
        return configured
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment; `overrides` (tests) win."""
    overrides = overrides or {}
    instance_dir = Path(overrides.get("INSTANCE_DIR") or default_instance_dir())
    database_url = os.environ.get("TAIZHANG_DATABASE_URL") or f"sqlite:///{instance_dir / 'taizhang.sqlite3'}"
    config = {
        "INSTANCE_DIR": instance_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance_dir),
        # Collect's Digest realm; a collector's stored HA1 is bound to it (changing it means new passwords).
        "TAIZHANG_REALM": os.environ.get("TAIZHANG_REALM", "taizhang"),
        # Digest nonces are stateless (HMAC of a timestamp); after this many seconds Collect is told stale=true.
        "TAIZHANG_NONCE_TTL": _int("TAIZHANG_NONCE_TTL", 3600),
        # The address phones use (printed in token URLs), e.g. https://taizhang.example.org; default: the bind address.
        "TAIZHANG_PUBLIC_URL": os.environ.get("TAIZHANG_PUBLIC_URL", ""),
        # Seconds a worker may reuse a looked-up user or form version; a revoked token or changed password
        # reaches every worker within this time (0 = look up on every request).
        "TAIZHANG_LOOKUP_CACHE_SECONDS": float(os.environ.get("TAIZHANG_LOOKUP_CACHE_SECONDS") or 5),
        # Behind a TLS proxy: trust X-Forwarded-Proto/Host/For from this many proxies (0 = none).
        "TAIZHANG_PROXY_COUNT": _int("TAIZHANG_PROXY_COUNT", 0),
        # `taizhang serve` reads each request whole before a worker thread sees it: a request's line and headers
        # must arrive within this many seconds, and a connection that sends nothing for this long (mid-request or
        # kept alive) is closed.
        "TAIZHANG_CLIENT_TIMEOUT": _int("TAIZHANG_CLIENT_TIMEOUT", 30),
        # ... and after that time a request body must keep arriving at this average rate (bytes per second).
        "TAIZHANG_MIN_UPLOAD_RATE": _int("TAIZHANG_MIN_UPLOAD_RATE", 500),
        # Open connections per worker process (further ones wait in the listen queue).
        "TAIZHANG_CONNECTION_LIMIT": _int("TAIZHANG_CONNECTION_LIMIT", 500),
        # Size limits, advertised to Collect in X-OpenRosa-Accept-Content-Length.
        "TAIZHANG_MAX_SUBMISSION_BYTES": _int("TAIZHANG_MAX_SUBMISSION_BYTES", 50 * MiB),
        "TAIZHANG_MAX_XML_BYTES": _int("TAIZHANG_MAX_XML_BYTES", 5 * MiB),
        "TAIZHANG_MAX_ATTACHMENT_BYTES": _int("TAIZHANG_MAX_ATTACHMENT_BYTES", 25 * MiB),
        # Content-addressed attachment and media store (shared storage when several app servers run).
        "TAIZHANG_BLOB_DIR": Path(os.environ.get("TAIZHANG_BLOB_DIR") or instance_dir / "blobs"),
        # Where pg_dump and pg_restore are (`taizhang backup` / `restore` on PostgreSQL); empty: PATH, then
        # /usr/lib/postgresql/<version>/bin, the newest that is not older than the server.
        "TAIZHANG_PG_BIN_DIR": os.environ.get("TAIZHANG_PG_BIN_DIR", ""),
        # The age key backups are encrypted to (docs/backup.md): its text, or a file holding it (one of the two).
        # A secret key (AGE-SECRET-KEY-1…) backs up and restores; a public key (age1…) only backs up.
        "TAIZHANG_BACKUP_KEY": os.environ.get("TAIZHANG_BACKUP_KEY", ""),
        "TAIZHANG_BACKUP_KEY_FILE": os.environ.get("TAIZHANG_BACKUP_KEY_FILE", ""),
        # The home pages list collectors who have not synced (sent a visit) for this many days.
        "TAIZHANG_SYNC_ALERT_DAYS": _int("TAIZHANG_SYNC_ALERT_DAYS", 7),
        # An arrival nobody expected is matched with the people who moved out of other villages within this many
        # days (and is itself this recent): move pairs for the arriving village's cadre (sync.arrivals).
        "TAIZHANG_MOVE_MATCH_DAYS": _int("TAIZHANG_MOVE_MATCH_DAYS", 365),
        # The share of a village's households the town office draws for a month's re-check (准确率), in percent
        # (0 < percent ≤ 100; at least one household); the draw form may ask for another share.
        "TAIZHANG_RECHECK_PERCENT": float(os.environ.get("TAIZHANG_RECHECK_PERCENT") or 5),
        # The county's towns served by other taizhang servers (comma-separated names), to which a service notice may
        # be addressed besides this server's own towns (docs/notices.md).
        "TAIZHANG_COUNTY_TOWNS": [town.strip() for town in (os.environ.get("TAIZHANG_COUNTY_TOWNS") or "").split(",")
                                  if town.strip()],
        # A move out not followed by an arrival, or an expected arrival not confirmed, after this many days is on the
        # town office's list of moves that waited too long (/moves).
        "TAIZHANG_MOVE_WAIT_DAYS": _int("TAIZHANG_MOVE_WAIT_DAYS", 30),
        # Unusual reading (the town office's and the county's dashboard): a staff member who opened more than this
        # many different people's records within any 60 minutes of the last TAIZHANG_UNUSUAL_READS_DAYS days.
        "TAIZHANG_UNUSUAL_READS_PER_HOUR": _int("TAIZHANG_UNUSUAL_READS_PER_HOUR", 50),
        "TAIZHANG_UNUSUAL_READS_DAYS": _int("TAIZHANG_UNUSUAL_READS_DAYS", 7),
        # How old the home pages' schedule figures may be while a newer count runs in the background (seconds).
        "TAIZHANG_DASHBOARD_STALE_SECONDS": _int("TAIZHANG_DASHBOARD_STALE_SECONDS", 600),
        # A village's monthly change report is due by the end of this day of the next month (China time: the
        # town's time zone); a month first submitted after it is counted late (docs/months.md).
        "TAIZHANG_REPORT_DUE_DAY": _int("TAIZHANG_REPORT_DUE_DAY", 2),
        # The town's visit schedule (TOML; `taizhang schedule check FILE`); empty: sync/default_schedule.toml.
        # Retention periods in days (sync.privacy.RETENTION_RULES, docs/retention.md): a purge refuses one under its
        # rule's minimum; the service age after which a person's reproductive-health service record ages out.
        **{rule.config_key: _int(rule.config_key, rule.default_days) for rule in RETENTION_RULES.values()},
        "TAIZHANG_SERVICE_AGE_LIMIT": _int("TAIZHANG_SERVICE_AGE_LIMIT", SERVICE_AGE_LIMIT),
        "TAIZHANG_SCHEDULE_FILE": os.environ.get("TAIZHANG_SCHEDULE_FILE", ""),
        # A read replica of the database (a PostgreSQL hot standby), e.g. postgresql+psycopg://…@replica-host/taizhang:
        # the indicators read there (server.replica; docs/province.md). Empty: every read goes to the database above.
        "TAIZHANG_REPLICA_DATABASE_URL": os.environ.get("TAIZHANG_REPLICA_DATABASE_URL", ""),
        # The merge worker (`taizhang serve`, `taizhang register merge --loop`) lowers its CPU priority by this nice
        # increment (0-19; 0 = as the app servers), so that on a busy server intake answers Collect first and merging
        # lags and catches up (docs/deploy.md).
        "TAIZHANG_MERGE_NICE": min(max(_int("TAIZHANG_MERGE_NICE", 10), 0), 19),
        # Merge workers running side by side (`taizhang serve`, `taizhang register merge`; server.register.worker):
        # default 2 on PostgreSQL (one per core of a small server), always 1 on SQLite (its write lock serialises).
        "TAIZHANG_MERGE_WORKERS": 1 if database_url.startswith("sqlite") else _int("TAIZHANG_MERGE_WORKERS", 2),
        # Submissions of one village a merge worker merges in one transaction.
        "TAIZHANG_MERGE_BATCH": _int("TAIZHANG_MERGE_BATCH", 50),
        # Apply pending migrations when the app starts serving (`taizhang serve`).
        "TAIZHANG_MIGRATE_ON_START": _bool(os.environ.get("TAIZHANG_MIGRATE_ON_START"), True),
        # No pre-ping round trip per request: a connection lost with a database restart fails that one request
        # with 503 (Collect keeps the form and retries), and SQLAlchemy then replaces the pool's connections.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "JSON_AS_ASCII": False,
        # Staff sessions: a signed cookie, not readable by scripts, not sent by other sites' forms; over HTTPS
        # (TAIZHANG_SECURE_COOKIES=1 behind TLS) only over HTTPS. Eight hours, then sign in again.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("TAIZHANG_SECURE_COOKIES")),
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        # Sign-in attempts per client address and per user name (flask-limiter). Counted per worker process
        # unless the counters are shared, e.g. TAIZHANG_RATELIMIT_STORAGE_URI=redis://host:6379 (docs/deploy.md).
        "TAIZHANG_LOGIN_LIMIT": os.environ.get("TAIZHANG_LOGIN_LIMIT", "10 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("TAIZHANG_RATELIMIT_STORAGE_URI", "memory://"),
        # Failed sign-ins (web, Digest, Basic, token URLs), counted in the database so every worker shares them:
        # this many failures within the window lock the user name (or the client address) for the lockout time.
        "TAIZHANG_SIGNIN_FAILURES_PER_USER": _int("TAIZHANG_SIGNIN_FAILURES_PER_USER", 10),
        "TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS": _int("TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS", 100),
        "TAIZHANG_SIGNIN_WINDOW": _int("TAIZHANG_SIGNIN_WINDOW", 900),
        "TAIZHANG_SIGNIN_LOCKOUT": _int("TAIZHANG_SIGNIN_LOCKOUT", 900),
        # gzip for phones that ask (Collect does): XForms, manifests and CSV lists; small answers stay plain.
        "COMPRESS_ALGORITHM": ["gzip"],
        "COMPRESS_MIMETYPES": ["text/xml", "text/csv", "application/json", "text/html", "text/plain"],
        "COMPRESS_MIN_SIZE": 1024,
        "COMPRESS_STREAMS": False,
    }
    config["MAX_CONTENT_LENGTH"] = config["TAIZHANG_MAX_SUBMISSION_BYTES"]
    config.update(overrides)
    if config["TAIZHANG_REPLICA_DATABASE_URL"] and "SQLALCHEMY_BINDS" not in overrides:
        config["SQLALCHEMY_BINDS"] = {"replica": config["TAIZHANG_REPLICA_DATABASE_URL"]}
    return config
