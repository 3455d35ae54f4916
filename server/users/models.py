"""User table: role, area, and three separate credentials (web login hash, Digest HA1, app token hash)."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func, true
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db

ROLES = ("collector", "village_cadre", "town_officer", "county_admin")


class User(db.Model):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('collector', 'village_cadre', 'town_officer', 'county_admin')", name="role"),
        CheckConstraint("(role = 'county_admin') = (area_id IS NULL)", name="area_matches_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    # Web login: werkzeug's salted slow hash. Never used on the OpenRosa path.
    password_hash: Mapped[str] = mapped_column(String(255))
    # OpenRosa: md5(username:realm:password), a password-equivalent for this realm only (docs/auth.md).
    digest_ha1: Mapped[str] = mapped_column(String(32))
    digest_realm: Mapped[str] = mapped_column(String(100))
    # Token URL /key/<token>/: only sha256(token) is kept; the token is shown once, at creation or rotation.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StaffSession(db.Model):
    """A signed-in web session, held on the server so signing out (or revoking the account) ends it at once."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the random key the signed cookie carries: a copy of this table opens no session.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuthThrottle(db.Model):
    """Failed sign-ins counted per user name and per client address, across every worker and channel."""

    __tablename__ = "auth_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # "user:<name>" or "address:<ip>"
    failures: Mapped[int] = mapped_column(Integer)
    window_started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DigestNonceUse(db.Model):
    """Each (nonce, nc) a Digest request was accepted with: a captured Authorization header cannot be sent again."""

    __tablename__ = "digest_nonce_use"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    nc: Mapped[str] = mapped_column(String(8), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # when the nonce was made


class CollectorFormDownload(db.Model):
    """The last time a collector's phone fetched a form's definition: which version it now holds, and the phone's
    own description of itself (its User-Agent). Written by the OpenRosa form download."""

    __tablename__ = "collector_form_download"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(100))
    downloaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(String(500))
