"""Who may see and fill what: pure rules over roles and materialised area paths."""

from __future__ import annotations

__all__ = ["area_contains", "may_fill_form", "STAFF_ROLES", "TOWN_OFFICE_ROLES", "REGISTER_DECIDERS", "FULL", "FORMER",
           "NONE", "TRAVELLING_ITEMS", "village_of", "person_visibility", "shows_visit", "shows_item",
           "shows_record_of"]

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



# ---- people who move (docs/moves.md) ------------------------------------------------------------------------------

FULL, FORMER, NONE = "full", "former", "none"
"""How much of a person a staff member sees: all of it (the person lives in their area now), what their area recorded
while the person lived there (a former resident), or nothing."""

TRAVELLING_ITEMS = frozenset({"referral", "support_request"})
"""Service items that move with a person while open: the new village needs them to go on serving the person (the
follow-ups due after a birth or an operation follow the person by themselves)."""


def village_of(group_path: str) -> str:
    """"/1/5/23/" (a group) → "/1/5/" (its village)."""
    return group_path.rsplit("/", 2)[0] + "/"


def person_visibility(role: str, reader_path: str | None, current_path: str, left_groups: list[str]) -> str:
    """FULL when the person lives in the reader's area now; FORMER when they moved out of a group of it
    (`left_groups`: the groups of their moves out); NONE otherwise (and for anyone but staff)."""
    if role not in STAFF_ROLES:
        return NONE
    if area_contains(reader_path, current_path):
        return FULL
    return FORMER if any(area_contains(reader_path, group) for group in left_groups) else NONE


def shows_visit(reader_path: str | None, visibility: str, visit_path: str | None, left_groups: list[str]) -> bool:
    """Whether a visit to the person (recorded by a collector of `visit_path`) is shown: a former area sees only its
    own visits; the area the person lives in sees every visit but those of the villages they left (their notes and
    answers stay there), unless that village is the reader's too."""
    if visibility == NONE:
        return False
    if area_contains(reader_path, visit_path):
        return True
    if visibility == FORMER or visit_path is None:
        return False
    return not any(visit_path.startswith(village_of(group)) for group in left_groups)


def shows_item(reader_path: str | None, visibility: str, visit_path: str | None, left_groups: list[str], *,
               kind: str, is_open: bool) -> bool:
    """Whether a service item about the person is shown: those of the visits shown, and for the area the person
    lives in the open referrals and support requests of the villages they left (TRAVELLING_ITEMS)."""
    if shows_visit(reader_path, visibility, visit_path, left_groups):
        return True
    return visibility == FULL and is_open and kind in TRAVELLING_ITEMS


def shows_record_of(reader_path: str | None, visibility: str, source_path: str | None) -> bool:
    """Whether a former area sees a value, event or decision recorded in `source_path` (its own only); the area the
    person lives in sees the register's values and events whatever recorded them."""
    return visibility == FULL or (visibility == FORMER and area_contains(reader_path, source_path))
