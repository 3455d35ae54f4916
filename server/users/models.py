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
