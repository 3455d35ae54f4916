"""Decisions about a visit's service record taken on the web: a referral's result, a support request's outcome and
payment, a correction. Each is a register decision (audited, undoable, replicated, kept by a rebuild)."""

from __future__ import annotations

import datetime as dt

from server import clock
from server.principal import Principal
from server.register.decisions import authorise, record_decision
from server.services import queries
from sync.decisions import CORRECT_SERVICE, REFERRAL_RESULT, SUPPORT_OUTCOME, DecisionKind
from sync.errors import DecisionNotPossible, RecordNotFound
from sync.services import BENEFIT_KINDS, CORRECTABLE, ITEM_KINDS, REFERRAL_PURPOSES, SUPPLY_ITEMS, SUPPORT_KINDS

__all__ = ["record_referral_result", "record_support_outcome", "correct_service_item"]

# The codes a corrected `code` (or `detail`) may take, by kind of item.
_CODES = {("supply", "code"): SUPPLY_ITEMS, ("referral", "code"): REFERRAL_PURPOSES,
          ("support_request", "code"): SUPPORT_KINDS, ("support_request", "detail"): BENEFIT_KINDS}


def _item_in_area(principal: Principal, kind: DecisionKind, key: str) -> queries.PlacedItem:
    """The item, when the principal may take this kind of decision about it (before anything else is said of it)."""
    placed = queries.item_of(key)
    if placed is None or placed.group_path is None:
        raise RecordNotFound(key)
    authorise(principal, kind, placed.group_path)
    return placed


def _decide(principal: Principal, kind: DecisionKind, key: str, target: str, field: str | None, *,
            item_kinds: tuple[str, ...], now: dt.datetime | None) -> int:
    placed = _item_in_area(principal, kind, key)
    if placed.item.kind not in item_kinds:
        raise DecisionNotPossible(f"{ITEM_KINDS[placed.item.kind].label_en} is not a "
                                  + " or ".join(ITEM_KINDS[name].label_en for name in item_kinds))
    kind.check(target, field, tiers=())
    return record_decision(kind, key, target, field=field, by=principal.id, now=now or clock.now(),
                           area_path=placed.group_path)


def record_referral_result(principal: Principal, key: str, result: str, *, now: dt.datetime | None = None) -> int:
    """The cadre records what became of a referral (attended, not attended yet, declined)."""
    return _decide(principal, REFERRAL_RESULT, key, result, None, item_kinds=("referral",), now=now)


def record_support_outcome(principal: Principal, key: str, field: str, value: str, *,
                           now: dt.datetime | None = None) -> int:
    """The town office records one fact about a support request: its outcome, when it was decided, the payment's
    date or amount, a note."""
    return _decide(principal, SUPPORT_OUTCOME, key, value.strip(), field, item_kinds=("support_request",), now=now)


def correct_service_item(principal: Principal, key: str, column: str, value: str, *,
                         now: dt.datetime | None = None) -> int:
    """The cadre corrects one column of an item (a quantity flagged as odd, an item, a place)."""
    kind = _item_in_area(principal, CORRECT_SERVICE, key).item.kind
    if column not in CORRECTABLE.get(kind, ()):
        raise DecisionNotPossible(f"{column!r} of a {ITEM_KINDS[kind].label_en.lower()}")
    value = value.strip()
    allowed = _CODES.get((kind, column))
    if allowed is not None and value not in allowed:
        raise DecisionNotPossible(f"{value!r} is not one of {', '.join(allowed)}")
    return _decide(principal, CORRECT_SERVICE, key, value, column, item_kinds=(kind,), now=now)
