"""Unit tests for sync.access: area containment over materialised paths and who may fill a form."""

from __future__ import annotations

import pytest

from sync.access import area_contains, may_fill_form

# --- area_contains ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("inner", ["/1/", "/1/23/456/", None], ids=["town", "village_group", "county"])
def test_none_outer_area_is_the_county_and_contains_everything(inner):
    assert area_contains(None, inner) is True


def test_area_contains_itself():
    assert area_contains("/1/2/", "/1/2/") is True


def test_area_contains_its_child():
    assert area_contains("/1/2/", "/1/2/7/") is True


def test_area_contains_its_grandchild():
    assert area_contains("/1/", "/1/2/7/") is True


def test_area_does_not_contain_sibling_sharing_a_digit_prefix():
    assert area_contains("/1/2/", "/1/23/") is False


def test_area_does_not_contain_child_of_sibling_sharing_a_digit_prefix():
    assert area_contains("/1/2/", "/1/23/4/") is False


def test_area_does_not_contain_its_parent():
    assert area_contains("/1/2/7/", "/1/2/") is False


def test_area_does_not_contain_unrelated_area():
    assert area_contains("/1/2/", "/3/2/") is False


def test_area_does_not_contain_county_wide_inner_area():
    assert area_contains("/1/", None) is False


# --- may_fill_form ---------------------------------------------------------------------------------------------


def test_collector_may_fill_open_county_wide_form_for_their_role():
    assert may_fill_form("collector", "/1/2/", audience="collector", form_area_path=None, form_state="open") is True


def test_collector_may_fill_open_form_of_their_own_area():
    assert may_fill_form("collector", "/1/2/", audience="collector", form_area_path="/1/2/",
                         form_state="open") is True


def test_collector_may_fill_open_form_of_an_enclosing_area():
    assert may_fill_form("collector", "/1/2/", audience="collector", form_area_path="/1/",
                         form_state="open") is True


def test_collector_may_not_fill_form_of_a_prefix_sharing_sibling_area():
    assert may_fill_form("collector", "/1/23/", audience="collector", form_area_path="/1/2/",
                         form_state="open") is False


def test_collector_may_not_fill_form_of_a_sub_area():
    assert may_fill_form("collector", "/1/", audience="collector", form_area_path="/1/2/",
                         form_state="open") is False


def test_county_wide_user_may_not_fill_area_specific_form():
    assert may_fill_form("collector", None, audience="collector", form_area_path="/1/", form_state="open") is False


def test_county_wide_user_may_fill_county_wide_form():
    assert may_fill_form("collector", None, audience="collector", form_area_path=None, form_state="open") is True


@pytest.mark.parametrize("state", ["closed", "closing", "draft", "", "OPEN"])
def test_nobody_may_fill_a_form_that_is_not_open(state):
    assert may_fill_form("collector", "/1/2/", audience="collector", form_area_path=None, form_state=state) is False


@pytest.mark.parametrize("role", ["supervisor", "admin", "", "Collector"])
def test_user_may_not_fill_form_meant_for_another_role(role):
    assert may_fill_form(role, "/1/2/", audience="collector", form_area_path=None, form_state="open") is False
