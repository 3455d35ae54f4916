"""Who is making a request: the Principal every operation is scoped by, whichever way they signed in."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, with what they need for scoping; detached from the session."""

    id: int
    username: str
    role: str
    area_path: str | None
    digest_ha1: str
    digest_realm: str
    area_id: int | None = None
