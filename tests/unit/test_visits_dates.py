"""A new member's birth date as the register keeps it: a date, or nothing (the raw answer stays with the submission)."""

from __future__ import annotations

import pytest

from sync.visits import _register_date


@pytest.mark.parametrize("answer, kept", [
    ("1975-05-06", "1975-05-06"), ("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01"),
    ("10000-01-01", None), ("2026-02-30", None), ("", None), (None, None), ("abc", None),
])
def test_a_birth_date_is_kept_only_as_a_date(answer, kept):
    assert _register_date(answer) == kept
