"""Masks of ID numbers and phones, and the retention rules' floors (sync.privacy)."""

import pytest

from sync.privacy import RETENTION_RULES, PeriodTooShort, check_period, mask_id_number, mask_phone, mask_value


@pytest.mark.parametrize(("value", "masked"), [
    ("330102199001011234", "3301**********1234"),
    ("33010219900101123X", "3301**********123X"),
    ("330102900101123", "3301*******1123"),       # the old 15-digit number
    ("12345678", "******78"),                        # too short to keep both ends
    ("", ""),
    (None, None),
])
def test_id_number_masks(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(("value", "masked"), [
    ("13812345678", "138****5678"),
    ("057188881234", "********1234"),
    ("1234", "***4"),
    (None, None),
])
def test_phone_masks(value, masked):
    assert mask_phone(value) == masked


def test_mask_value_masks_only_the_masked_fields():
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("name", "王秀英") == "王秀英"


def test_a_period_under_the_minimum_is_refused():
    rule = RETENTION_RULES["died"]
    assert check_period(rule, 730) == 730
    with pytest.raises(PeriodTooShort):
        check_period(rule, 729)
    assert all(rule.default_days >= rule.minimum_days for rule in RETENTION_RULES.values())
