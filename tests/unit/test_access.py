"""Unit tests for sync.access: area containment over materialised paths and who may fill a form."""

from __future__ import annotations

import pytest

from sync.access import area_contains, may_fill_form, person_visibility, shows_item, shows_record_of, shows_visit

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


# --- what an area sees of a person who moved (docs/moves.md) --------------------------------------------------------

DONGCUN, XICUN, BEICUN, TOWN = "/1/2/", "/1/5/", "/1/8/", "/1/"
LEFT = ["/1/2/3/"]                    # moved out of 东村's first group
NOW_IN = "/1/5/6/"                    # lives in 西村's first group


@pytest.mark.parametrize(("role", "reader", "expected"), [
    ("village_cadre", XICUN, "full"), ("town_officer", TOWN, "full"), ("county_admin", None, "full"),
    ("village_cadre", DONGCUN, "former"), ("village_cadre", BEICUN, "none"), ("town_officer", "/9/", "none"),
    ("collector", "/1/5/6/", "none")])
def test_who_sees_a_person_who_moved(role, reader, expected):
    assert person_visibility(role, reader, NOW_IN, LEFT) == expected


def test_a_person_who_never_moved_is_seen_only_where_they_live():
    assert person_visibility("village_cadre", DONGCUN, "/1/2/3/", []) == "full"
    assert person_visibility("village_cadre", XICUN, "/1/2/3/", []) == "none"


@pytest.mark.parametrize(("reader", "visibility", "visit", "shown"), [
    (XICUN, "full", "/1/5/6/", True),         # the new village's own visits
    (XICUN, "full", "/1/2/3/", False),        # the old village's notes stay there
    (XICUN, "full", "/1/2/4/", False),        # another group of the village left
    (TOWN, "full", "/1/2/3/", True),          # the town holds both villages
    (DONGCUN, "former", "/1/2/3/", True),     # what the old village recorded
    (DONGCUN, "former", "/1/5/6/", False),    # not what the new village records
    (XICUN, "full", "/1/8/1/", True),         # a village the person never left (a household moved between groups)
    (XICUN, "none", "/1/5/6/", False)])
def test_which_visits_an_area_sees(reader, visibility, visit, shown):
    assert shows_visit(reader, visibility, visit, LEFT) is shown


@pytest.mark.parametrize(("kind", "is_open", "shown"), [
    ("referral", True, True), ("support_request", True, True), ("referral", False, False),
    ("supply", True, False), ("service", True, False)])
def test_open_referrals_and_support_requests_travel_with_the_person(kind, is_open, shown):
    assert shows_item(XICUN, "full", "/1/2/3/", LEFT, kind=kind, is_open=is_open) is shown
    assert shows_item(BEICUN, "none", "/1/2/3/", LEFT, kind=kind, is_open=is_open) is False


def test_a_former_area_sees_only_its_own_items_and_records():
    assert shows_item(DONGCUN, "former", "/1/5/6/", LEFT, kind="referral", is_open=True) is False
    assert shows_item(DONGCUN, "former", "/1/2/3/", LEFT, kind="supply", is_open=False) is True
    assert shows_record_of(DONGCUN, "former", "/1/2/") is True
    assert shows_record_of(DONGCUN, "former", "/1/5/6/") is False
    assert shows_record_of(XICUN, "full", "/1/2/") is True
