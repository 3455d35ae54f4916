"""Who may see and fill what: pure rules over roles and materialised area paths."""

from __future__ import annotations

__all__ = ["area_contains", "may_fill_form", "REGISTER_DECIDERS", "may_decide_register"]

REGISTER_DECIDERS = frozenset({"village_cadre", "town_officer", "county_admin"})
"""Roles that may merge duplicates, undo merges and move households (collectors only report what they see)."""


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


def may_decide_register(user_role: str, user_area_path: str | None, *area_paths: str | None) -> bool:
    """A village cadre, town officer or county administrator changes register records only inside their area
    (every area the decision touches: both records' villages, a household's old and new group)."""
    return user_role in REGISTER_DECIDERS and all(area_contains(user_area_path, path) for path in area_paths)
