"""Duplicate households: the reasons two household records of one village may be one household, and their score."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["HOUSEHOLD_WEIGHTS", "HOUSEHOLD_REASONS", "HOUSEHOLD_THRESHOLD", "HouseholdRecord", "HouseholdScore",
           "score_households"]

HOUSEHOLD_WEIGHTS: dict[str, float] = {
    "shares_a_person": 0.5,     # a person of each was found to be one person (merged)
    "same_household_no": 0.4,   # same group, same household number
    "same_address": 0.2,        # same address, ignoring spaces, punctuation and width
}
"""Weight of each reason; the score is their sum, at most 1. Household pairs are never merged automatically."""

HOUSEHOLD_REASONS: dict[str, tuple[str, str]] = {
    "shares_a_person": ("两户中有同一个人（已合并）", "The same person was registered in both (merged)"),
    "same_household_no": ("同组同户编号", "Same household number in the same group"),
    "same_address": ("地址相同", "Same address"),
}

HOUSEHOLD_THRESHOLD = 0.4
"""A pair scoring this much is queued for review: one strong reason is enough."""


@dataclass(frozen=True)
class HouseholdRecord:
    id: str
    group: int | None
    household_no: str | None
    address: str | None


@dataclass(frozen=True)
class HouseholdScore:
    score: float
    reasons: tuple[str, ...]
    automatic: bool = False


def _address_key(address: str | None) -> str:
    folded = unicodedata.normalize("NFKC", address or "")
    return "".join(character for character in folded if unicodedata.category(character)[0] in "LN")


def score_households(a: HouseholdRecord, b: HouseholdRecord, *, share_a_person: bool) -> HouseholdScore:
    """Score two households of one village (the caller knows whether a merge joined people of both)."""
    found = set()
    if share_a_person:
        found.add("shares_a_person")
    if a.group is not None and a.group == b.group and a.household_no and a.household_no == b.household_no:
        found.add("same_household_no")
    if _address_key(a.address) and _address_key(a.address) == _address_key(b.address):
        found.add("same_address")
    reasons = tuple(code for code in HOUSEHOLD_WEIGHTS if code in found)
    return HouseholdScore(round(min(1.0, sum(HOUSEHOLD_WEIGHTS[code] for code in reasons)), 6), reasons)
