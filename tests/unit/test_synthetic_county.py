"""The synthetic county (bench/county.py): deterministic, readable by the server's readers, planted kinds present."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bench.county import KINDS, SyntheticSubmission, chinese_number, plan_county, submissions, write_instances
from sync.submission import parse_submission
from sync.transfer import find_instances
from sync.visits import read_visit

SEED = 7


@pytest.fixture(scope="module")
def plan():
    return plan_county(SEED, towns=2, villages_per_town=2, groups_per_village=8, households_per_group=24)


@pytest.fixture(scope="module")
def stream(plan) -> list[SyntheticSubmission]:
    return list(submissions(plan))


def test_the_plan_names_areas_and_collectors_as_the_server_stores_them():
    plan = plan_county(1)
    assert len(plan.groups) == 6000
    assert len(set(plan.towns)) == 20 and all(town.endswith("镇") for town in plan.towns)
    assert len({group.area for group in plan.groups}) == 6000
    assert len({group.collector for group in plan.groups}) == 6000
    first = plan.groups[0]
    assert first.collector == "t01v01g01"
    assert first.area.startswith(plan.towns[0] + "/") and first.area.endswith("村/第一组")
    assert plan.groups[-1].collector == "t20v10g30" and plan.groups[-1].area.endswith("/第三十组")
    assert 215_000 <= plan.households <= 229_000
    assert plan == plan_county(1) and plan != plan_county(2)
    assert [chinese_number(n) for n in (1, 10, 12, 20, 30, 47)] == ["一", "十", "十二", "二十", "三十", "四十七"]


def test_the_same_seed_gives_the_same_bytes_and_a_town_is_its_slice_of_the_full_run(plan, stream):
    assert list(submissions(plan)) == stream
    second_town = [item for item in stream if item.group.startswith(plan.towns[1] + "/")]
    assert list(submissions(plan, towns=[2])) == second_town
    assert list(submissions(plan, towns=[plan.towns[1]], limit=25)) == second_town[:25]
    assert [item.xml for item in submissions(plan_county(SEED + 1, towns=1, villages_per_town=1,
                                                         groups_per_village=1), limit=3)] != \
        [item.xml for item in stream[:3]]


def test_every_submission_parses_and_reads_as_a_register_visit(stream):
    for item in stream:
        envelope = parse_submission(item.xml)
        visit = read_visit(item.xml)
        assert envelope.instance_id == item.instance_id == visit.instance_id
        assert envelope.form_id in ("household_visit", "followup")
        assert (envelope.form_id == "followup") == (visit.followup is not None)
        assert visit.collector == item.collector
        assert visit.visited_at == item.phone_time


def test_submissions_come_in_sync_order_after_they_were_made(stream):
    times = [item.sync_time for item in stream]
    assert times == sorted(times)
    assert all(item.phone_time < item.sync_time for item in stream)
    late = [item for item in stream if item.kind == "late"]
    assert late and all(item.sync_time - item.phone_time >= dt.timedelta(days=3) for item in late)


def test_edits_replace_earlier_submissions_and_retries_repeat_the_same_bytes(stream):
    sent: dict[str, bytes] = {}
    for item in stream:
        if item.kind == "retry":
            assert sent[item.instance_id] == item.xml
            continue
        assert item.instance_id not in sent
        deprecated = parse_submission(item.xml).deprecated_id
        assert (deprecated is not None) == (item.kind == "edit")
        if deprecated is not None:
            assert deprecated in sent
            assert read_visit(sent[deprecated]).visited_at == read_visit(item.xml).visited_at
        sent[item.instance_id] = item.xml


def test_every_planted_kind_appears(plan, stream):
    kinds = Counter(item.kind for item in stream)
    assert set(kinds) == set(KINDS)
    assert kinds["registration"] + kinds["typo"] + kinds["duplicate"] == plan.households
    assert kinds["visit"] > plan.households


def test_visits_refer_only_to_households_and_people_already_sent(stream):
    households: set[str] = set()
    people: set[str] = set()
    births = 0
    for item in stream:
        visit = read_visit(item.xml)
        if item.kind == "retry":
            continue
        if visit.household is not None and visit.household.fields.get("household_no"):
            assert visit.household.household_uuid not in households or item.kind == "edit"
            households.add(visit.household.household_uuid)
        else:
            assert visit.household.household_uuid in households
        for person in visit.people:
            if person.base_version is None:
                people.add(person.person_uuid)
                births += person.event is not None and person.event.kind == "birth"
            else:
                assert person.person_uuid in people
                assert person.base_version >= 1
            if "household" in person.fields:
                assert person.fields["household"] in households
        for anchor in visit.anchors:
            assert anchor.person_uuid in people
    assert births > 0


def test_typos_and_duplicates_are_the_names_of_someone_else(stream):
    names = Counter()
    for item in stream:
        if item.kind in ("registration", "typo", "duplicate"):
            names.update(person.fields["name"] for person in read_visit(item.xml).people)
    duplicates = [item for item in stream if item.kind == "duplicate"]
    assert any(any(names[person.fields["name"]] > 1 for person in read_visit(item.xml).people)
               for item in duplicates)


def test_written_instance_folders_are_what_the_transfer_client_sends(plan, tmp_path):
    items = list(submissions(plan, towns=[1], limit=300))
    written = write_instances(items, tmp_path)
    collector = items[0].collector
    found = find_instances(tmp_path / collector)
    mine = [item for item in items if item.collector == collector and item.kind != "retry"]
    assert sorted(instance.instance_id for instance in found) == sorted(item.instance_id for item in mine)
    assert {instance.xml_path.read_bytes() for instance in found} == {item.xml for item in mine}
    assert sum(written.values()) == len(items)
