"""The purge's pure core (sync/retention.py): the plan on a day, periods under their minimum, the tombstones a replay
reads (left out before the purge, refused after it), and the scrub of a raw submission."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from sync.decisions import new_person_fields, new_person_target
from sync.privacy import RETENTION_RULES, PeriodTooShort
from sync.replay import StoredSubmission, replay
from sync.retention import (
    LocationFacts,
    PersonFacts,
    PurgedRecords,
    ScrubTarget,
    Selection,
    Tombstone,
    plan_purge,
    scrub_submission,
    scrubbed_decision,
    years_after,
)
from sync.visits import read_visit
from tests.register_visits import Member, followup_visit, household_visit
from tests.unit.test_replay import Decision, PlainStore

AS_OF = dt.date(2026, 12, 1)
PERIODS = {name: rule.default_days for name, rule in RETENTION_RULES.items()}
HOUSEHOLD = "h-1"
MOTHER = Member("王秀英", "female", "1950-05-06", id_number="330102195005062228", phone="13700003333", uuid="p-mother",
                relationship="parent")
HEAD = Member("张伟", "male", "1960-03-04", phone="13900001111", uuid="p-head")
WIFE = Member("李芳", "female", "1990-01-02", relationship="spouse", uuid="p-wife")


def test_people_past_their_period_are_planned_once_by_the_first_rule():
    people = [
        PersonFacts("died-long-ago", 1, died_on=dt.date(2021, 11, 30), moved_out_of_county_on=dt.date(2020, 1, 1)),
        PersonFacts("died-on-the-edge", 1, died_on=AS_OF - dt.timedelta(days=PERIODS["died"])),
        PersonFacts("moved-long-ago", 2, moved_out_of_county_on=dt.date(2023, 11, 30)),
        PersonFacts("moved-recently", 2, moved_out_of_county_on=dt.date(2023, 12, 2)),
        PersonFacts("aged-out", 1, birth_date=dt.date(1970, 1, 1), has_service_record=True),
        PersonFacts("aged-out-no-services", 1, birth_date=dt.date(1960, 1, 1)),
        PersonFacts("not-yet-aged-out", 1, birth_date=dt.date(1974, 1, 1), has_service_record=True),
        PersonFacts("died-and-aged-out", 3, birth_date=dt.date(1940, 1, 1), has_service_record=True,
                    died_on=dt.date(2010, 1, 1)),
        PersonFacts("withdrew", 3, consent_withdrawn_on=AS_OF - dt.timedelta(days=1), has_consent_record=True),
        PersonFacts("withdrew-nothing-held", 3, consent_withdrawn_on=dt.date(2020, 1, 1)),
    ]
    locations = [LocationFacts(10, 1, AS_OF - dt.timedelta(days=181)), LocationFacts(11, 1, AS_OF - dt.timedelta(days=180)),
                 LocationFacts(12, 2, None)]
    assert plan_purge(people, locations, PERIODS, AS_OF) == [
        Selection("died", 1, uuid="died-long-ago"),
        Selection("moved_out_of_county", 2, uuid="moved-long-ago"),
        Selection("aged_out", 1, uuid="aged-out"),
        Selection("died", 3, uuid="died-and-aged-out"),
        Selection("consent_withdrawn", 3, uuid="withdrew"),
        Selection("location", 1, submission_id=10),
    ]
    # The service age is configurable: at 55 the man born in 1970 is not past it for three years yet.
    assert Selection("aged_out", 1, uuid="aged-out") not in plan_purge(people, [], PERIODS, AS_OF, service_age=55)


def test_a_period_under_its_minimum_is_refused():
    with pytest.raises(PeriodTooShort) as refused:
        plan_purge([], [], {**PERIODS, "location": 29}, AS_OF)
    assert (refused.value.rule.name, refused.value.days) == ("location", 29)
    assert plan_purge([], [], {**PERIODS, "location": 30, "died": 730}, AS_OF) == []
    assert years_after(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)


def _registration(**extra) -> bytes:
    return household_visit(household=HOUSEHOLD, new=("001", "东村一组1号"), members=[HEAD, WIFE, MOTHER],
                           start="2019-06-10T09:00:00.000+08:00", **extra)


def test_a_replay_leaves_a_purged_person_out_before_the_purge_and_refuses_them_after():
    purged = PurgedRecords([Tombstone(MOTHER.uuid, "died", after_submission_id=1)])
    registration = StoredSubmission(1, _registration(supplies=[(MOTHER.uuid, "topical", "2", "yes"),
                                                               (WIFE.uuid, "folic_acid", "1", "yes")],
                                                     instance_id="uuid:1"), "uuid:1", None, 7)
    # After the purge a phone with an old list names her: refused, nothing changes.
    late = StoredSubmission(2, household_visit(household=HOUSEHOLD, base_version=1, instance_id="uuid:2",
                                               start="2026-12-02T09:00:00.000+08:00",
                                               updates=[dict(person_uuid=MOTHER.uuid, base_version=1,
                                                             change="details_corrected", phone_now="13700009999")]),
                            "uuid:2", None, 7)
    tier = Decision(1, "set_tier", MOTHER.uuid, "key", after_submission_id=1)
    store = PlainStore()
    assert replay(store, [registration, late], [tier], only=None, purged=purged) == 1
    assert set(store.values("person")) == {HEAD.uuid, WIFE.uuid}
    assert [(item.kind, item.person_uuid) for item in store.service_items[1]] == [("supply", WIFE.uuid)]
    assert store.visits[2].refusal == "person_purged"
    # Without the tombstone she is there, with her supply and the tier the decision gave.
    store = PlainStore()
    assert replay(store, [registration, late], [tier], only=None) == 2
    assert store.values("person")[MOTHER.uuid]["tier"] == "key"
    assert len(store.service_items[1]) == 2

    # A service record purged: the person stays, their items of the rule's kinds and anchors go.
    aged = PurgedRecords([Tombstone(HEAD.uuid, "aged_out", after_submission_id=5)])
    visit = read_visit(_registration(supplies=[(HEAD.uuid, "condoms", "10", "yes")], postpartum=(WIFE.uuid, "2019-06-01"),
                                     support={"needs": ["elderly_support"], "person": HEAD.uuid, "details": "独居"}))
    assert aged.visit_without(visit, 3) != visit
    assert [(item.kind, item.person_uuid) for item in aged.visit_without(visit, 3).services.items] == [
        ("support_request", HEAD.uuid)]
    assert aged.visit_without(visit, 6) == visit       # a visit after the purge keeps its record
    assert not aged.refuses(visit, 6)


def test_consent_withdrawn_takes_the_guidance_and_the_referral_it_made():
    purged = PurgedRecords([Tombstone(WIFE.uuid, "consent_withdrawn", after_submission_id=5)])
    visit = read_visit(_registration(pregnancy=(WIFE.uuid, "yes", "yes"), supplies=[(WIFE.uuid, "folic_acid", "1", "yes")]))
    assert sorted(item.kind for item in visit.services.items) == ["pregnancy_guidance", "referral", "supply"]
    kept = purged.visit_without(visit, 2)
    assert [item.kind for item in kept.services.items] == ["supply"]
    assert [anchor.kind for anchor in kept.anchors] == []
    assert [anchor.kind for anchor in visit.anchors] == ["pregnancy_reported"]


def _leaves(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {root.getroottree().getpath(node): node.text or "" for node in root.iter() if len(node) == 0}


def test_scrub_removes_a_purged_persons_content_and_keeps_the_rest_well_formed():
    xml = _registration(supplies=[(MOTHER.uuid, "topical", "2", "yes"), (WIFE.uuid, "folic_acid", "1", "yes")],
                        notes="王秀英腿脚不便", location="30.1 120.2 10 5")
    target = ScrubTarget(MOTHER.uuid, "died", words=("王秀英", "330102195005062228", "13700003333"))
    scrubbed = scrub_submission(xml, [target], location=True)
    text = scrubbed.decode("utf-8")
    assert all(word not in text for word in target.words)
    assert scrubbed.startswith(b"<?xml")
    visit = read_visit(scrubbed)
    assert [person.person_uuid for person in visit.people] == [HEAD.uuid, WIFE.uuid]
    assert [(item.person_uuid, item.code) for item in visit.services.items] == [(MOTHER.uuid, None),
                                                                                (WIFE.uuid, "folic_acid")]
    assert visit.services.location is None and visit.services.notes is None
    before, after = _leaves(xml), _leaves(scrubbed)
    # Only her own repeat went; her supply and the notes naming her were emptied, and the GPS point.
    assert {path for path in before if path not in after} == {
        path for path in before if path.startswith("/data/new_members[3]/")}
    assert {path: value for path, value in after.items() if value != before[path]} == {
        "/data/supplies[1]/supply/item": "", "/data/supplies[1]/supply/quantity": "",
        "/data/supplies[1]/supply/given": "", "/data/closing/notes": "", "/data/closing/location": ""}
    assert scrub_submission(xml, [ScrubTarget("someone-else", "died", ("赵六",))]) is xml


def test_scrub_of_a_follow_up_keeps_only_that_it_happened():
    xml = followup_visit(person=MOTHER.uuid, household=HOUSEHOLD, followup_type="referral",
                         start="2019-08-01T09:00:00.000+08:00", notes="王秀英已去卫生院",
                         referral=("health_centre", "镇卫生院", "血压高"))
    scrubbed = scrub_submission(xml, [ScrubTarget(MOTHER.uuid, "died", ("王秀英",))])
    visit = read_visit(scrubbed)
    assert (visit.outcome, visit.followup.followup_type, visit.visit_date) == ("completed", "referral",
                                                                               dt.date(2019, 8, 1))
    assert visit.services.items == () and visit.services.notes is None
    assert "镇卫生院" not in scrubbed.decode("utf-8") and "血压高" not in scrubbed.decode("utf-8")


def test_a_decision_about_a_purged_person_keeps_a_valid_target_without_their_details():
    target = new_person_target("h-1", {"name": "王小红", "sex": "female", "birth_date": "2026-10-01",
                                       "id_number": "330102202610011221", "relationship": "grandchild",
                                       "phone": "13700003333"}, dt.date(2026, 10, 1))
    scrubbed = scrubbed_decision("add_person", target, "birth")
    assert new_person_fields(scrubbed) == ("h-1", {"name": "已清除", "sex": "female", "birth_date": "1900-01-01",
                                                   "relationship": "grandchild"}, dt.date(2026, 10, 1))
    assert scrubbed_decision("set_field", "13700003333", "person:phone") == ""
    assert scrubbed_decision("merge_people", "p-kept", None) == "p-kept"
