"""Who may see and fill what: pure rules over roles and materialised area paths."""

from __future__ import annotations

__all__ = ["area_contains", "may_fill_form", "STAFF_ROLES", "TOWN_OFFICE_ROLES", "REGISTER_DECIDERS"]

STAFF_ROLES = frozenset({"village_cadre", "town_officer", "county_admin"})
"""Roles that use the web pages and read people's data in their area (collectors use ODK Collect only)."""

TOWN_OFFICE_ROLES = frozenset({"town_officer", "county_admin"})
"""Roles that set collectors up and read the audit log."""

REGISTER_DECIDERS = STAFF_ROLES
"""Roles that may merge duplicates, undo merges, move households and review visits (collectors only report)."""


def area_contains(outer_path: str | None, inner_path: str | None) -> bool:
    """True when `inner_path` lies inside `outer_path`; a None outer path is the whole county."""
    if outer_path is None:
        return True
    if inner_path is None:
        return False
    return inner_path.startswith(outer_path)


def may_fill_form(user_role: str, user_area_path: str | None, *, audience: str, form_area_path: str | None,
                  form_state: str) -> bool:
    """A user fills an open form meant for their role whose area (if any) contains their own area."""
    return form_state == "open" and user_role == audience and area_contains(form_area_path, user_area_path)

