"""Duplicates found as visits are merged: automatic merges, the review queue, cadre decisions, exact undo,
household moves, and rebuilds that reproduce every decision."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from server.areas.operations import find_area
from server.cli import cli
from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register.decisions import mark_distinct, merge_candidate, move_household, undo_decision
from server.register.duplicates import scan_duplicates
from server.register.models import (
    DuplicateCandidate,
    Household,
    LifeEventRecord,
    Person,
    RegisterConflict,
    RegisterDecision,
    RegisterFieldValue,
    Visit,
)
from server.register.replays import rebuild_register
from server.users.queries import principal_by_username
from sync.errors import DecisionNotPossible, Forbidden
from sync.identity import id_check_character
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, household_visit

XLSFORMS = ROOT / "xlsforms"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
HOUSEHOLD_1, HOUSEHOLD_2 = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"


def resident_id(birth: str, male: bool, order: int = 1) -> str:
    first_17 = f"510722{birth.replace('-', '')}{order:02d}{1 if male else 2}"
    return first_17 + id_check_character(first_17)


@pytest.fixture
def phones(server, create_collector, publish):
    """Collectors of two groups of 东村 and one of 西村, and the village cadres."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phones = {area: server.client(token=create_collector(area).token)
              for area in ("青山镇/东村/第一组", "青山镇/东村/第二组", "青山镇/西村/第一组")}
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre")
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre")
    return phones


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


def cadre(username: str = "dongcun_cadre"):
    return principal_by_username(username)


def people() -> dict[str, tuple]:
    rows = {p.uuid: (p.name, p.household_uuid, p.phone, p.version) for p in db.session.scalars(select(Person))}
    db.session.rollback()
    return rows


def snapshot() -> dict:
    shot = register_queries.register_snapshot()
    db.session.rollback()
    return shot


def person_candidates() -> list:
    found = [c for c in register_queries.open_candidates() if c.record_kind == "person"]
    db.session.rollback()
    return found


def register_two(phones, first: Member, second: Member, *, second_group: str = "青山镇/东村/第二组") -> None:
    send(phones["青山镇/东村/第一组"], household_visit(household=HOUSEHOLD_1, new=("001", "东村一组1号"),
                                                 start="2026-11-01T09:00:00.000+08:00", members=[first]))
    send(phones[second_group], household_visit(household=HOUSEHOLD_2, new=("009", "东村二组9号"),
                                               start="2026-11-02T09:00:00.000+08:00", members=[second]))
    merge_all(NOW)


def test_same_valid_id_number_with_agreeing_details_is_merged_automatically(phones):
    number = resident_id("1980-03-04", male=True)
    first = Member("张伟", "male", "1980-03-04", id_number=number)
    second = Member("张伟", "male", "1980-03-04", id_number=number, phone="13811112222")
    register_two(phones, first, second)

    # One record, under the uuid already there: it keeps its values, takes the phone number it lacked, and the
    # other household is a conflict for the cadre.
    assert people() == {first.uuid: ("张伟", HOUSEHOLD_1, "13811112222", 2)}
    assert [(c.field, c.value, c.other_value) for c in db.session.scalars(select(RegisterConflict))] == [
        ("household", HOUSEHOLD_1, HOUSEHOLD_2)]
    decision = db.session.scalars(select(RegisterDecision)).one()
    assert (decision.kind, decision.subject_uuid, decision.target, decision.decided_by) == (
        "merge_people", second.uuid, first.uuid, None)
    candidate = db.session.scalars(select(DuplicateCandidate).where(DuplicateCandidate.record_kind == "person")).one()
    assert (candidate.state, candidate.automatic, candidate.reasons) == (
        "merged", True, "same_id_number same_name same_birth_date same_sex")
    db.session.rollback()


def test_a_homophone_goes_to_the_review_queue_with_its_reasons(phones):
    first = Member("王秀英", "female", "1975-05-06")
    second = Member("王秀瑛", "female", "1975-05-06")
    register_two(phones, first, second)

    assert set(people()) == {first.uuid, second.uuid}
    (candidate,) = register_queries.open_candidates()
    assert ({candidate.a_uuid, candidate.b_uuid}, candidate.score, candidate.reasons, candidate.automatic) == (
        {first.uuid, second.uuid}, 0.65, "same_name_pinyin same_birth_date same_sex", False)
    db.session.rollback()


def test_a_cadre_merges_a_pair_later_visits_follow_and_undo_is_exact(phones):
    first = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    second = Member("王秀瑛", "female", "1975-05-06")
    register_two(phones, first, second)
    before = snapshot()
    (candidate,) = register_queries.open_candidates()

    decision_id = merge_candidate(cadre(), candidate.id, first.uuid, now=NOW)
    commit()
    assert people() == {first.uuid: ("王秀英", HOUSEHOLD_1, "13800000001", 2)}
    assert person_candidates() == []

    # The second group's phone still lists the duplicate and records a new phone number for her: the record kept
    # lives in the first group, so the visit is refused (kept for the cadre) and changes nothing.
    send(phones["青山镇/东村/第二组"], household_visit(
        household=HOUSEHOLD_2, base_version=1, start="2026-11-20T09:00:00.000+08:00",
        updates=[dict(person_uuid=second.uuid, base_version=1, change="details_corrected", phone_now="13900000009")]))
    merge_all(NOW)
    assert people() == {first.uuid: ("王秀英", HOUSEHOLD_1, "13800000001", 2)}
    assert [visit.refusal for visit in db.session.scalars(select(Visit).order_by(Visit.submission_id))] == [
        None, None, "person_elsewhere"]
    live = snapshot()
    assert rebuild_register() == 2
    commit()
    assert snapshot() == live

    undo_decision(cadre(), decision_id, now=NOW)
    commit()
    assert people() == {first.uuid: ("王秀英", HOUSEHOLD_1, "13800000001", 1),
                        second.uuid: ("王秀瑛", HOUSEHOLD_2, "13900000009", 2)}
    after_undo = snapshot()
    assert {key: value for key, value in after_undo.items() if key != "history"} != before  # the later visit stays
    rebuild_register()
    commit()
    assert snapshot() == after_undo
    assert [c.id for c in person_candidates()] == [candidate.id]
    db.session.rollback()


def test_undo_right_after_a_merge_gives_back_the_register_as_it_was(phones):
    first = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    second = Member("王秀瑛", "female", "1975-05-06", id_number=resident_id("1975-05-06", male=False))
    register_two(phones, first, second)
    before = snapshot()
    (candidate,) = register_queries.open_candidates()
    decision_id = merge_candidate(cadre(), candidate.id, second.uuid, now=NOW)
    commit()
    assert snapshot() != before
    undo_decision(cadre(), decision_id, now=NOW)
    commit()
    assert snapshot() == before


def test_an_undone_automatic_merge_is_not_made_again(phones):
    number = resident_id("1980-03-04", male=True)
    first = Member("张伟", "male", "1980-03-04", id_number=number)
    second = Member("张伟", "male", "1980-03-04", id_number=number)
    register_two(phones, first, second)
    decision = db.session.scalars(select(RegisterDecision)).one()
    db.session.rollback()
    undo_decision(cadre(), decision.id, now=NOW)
    commit()
    send(phones["青山镇/东村/第二组"], household_visit(
        household=HOUSEHOLD_2, base_version=1, start="2026-11-20T09:00:00.000+08:00",
        updates=[dict(person_uuid=second.uuid, base_version=1, change="details_corrected", phone_now="13900000009")]))
    merge_all(NOW)
    assert set(people()) == {first.uuid, second.uuid}
    assert [(c.record_kind, c.automatic) for c in register_queries.open_candidates()] == [
        ("person", True), ("household", False)]
    db.session.rollback()


def test_a_pair_marked_distinct_is_not_proposed_again(phones):
    first = Member("王秀英", "female", "1975-05-06")
    second = Member("王秀瑛", "female", "1975-05-06")
    register_two(phones, first, second)
    (candidate,) = register_queries.open_candidates()
    mark_distinct(cadre(), candidate.id, now=NOW)
    commit()
    assert scan_duplicates(now=NOW) == (1, 0)
    commit()
    assert register_queries.open_candidates() == []
    with pytest.raises(DecisionNotPossible):
        merge_candidate(cadre(), candidate.id, first.uuid)
    db.session.rollback()


def test_only_the_cadre_of_the_village_may_decide(phones):
    first = Member("王秀英", "female", "1975-05-06")
    second = Member("王秀瑛", "female", "1975-05-06")
    register_two(phones, first, second)
    (candidate,) = register_queries.open_candidates()
    with pytest.raises(Forbidden):
        merge_candidate(cadre("xicun_cadre"), candidate.id, first.uuid)
    collector = db.session.scalar(select(RegisterDecision.id))
    assert collector is None
    db.session.rollback()


def test_people_of_different_villages_are_never_paired(phones):
    number = resident_id("1980-03-04", male=True)
    register_two(phones, Member("张伟", "male", "1980-03-04", id_number=number),
                 Member("张伟", "male", "1980-03-04", id_number=number), second_group="青山镇/西村/第一组")
    assert len(people()) == 2
    assert db.session.scalars(select(DuplicateCandidate)).all() == []
    db.session.rollback()


def test_a_household_moves_to_another_group_and_back_by_undo(phones):
    first = Member("张伟", "male", "1980-03-04")
    send(phones["青山镇/东村/第一组"], household_visit(household=HOUSEHOLD_1, new=("001", "东村一组1号"),
                                                 start="2026-11-01T09:00:00.000+08:00", members=[first]))
    merge_all(NOW)
    groups = {h.uuid: h.group_id for h in db.session.scalars(select(Household))}
    second_group = register_queries.household_area(HOUSEHOLD_1)[1]
    target = find_area("青山镇/东村/第二组").id
    before = snapshot()
    db.session.rollback()

    with pytest.raises(Forbidden):
        move_household(cadre("xicun_cadre"), HOUSEHOLD_1, target, now=NOW)
    decision_id = move_household(cadre(), HOUSEHOLD_1, target, now=NOW)
    commit()
    assert db.session.get(Household, HOUSEHOLD_1).group_id == target != groups[HOUSEHOLD_1]
    assert second_group == find_area("青山镇/东村").id
    live = snapshot()
    rebuild_register()
    commit()
    assert snapshot() == live
    undo_decision(cadre(), decision_id, now=NOW)
    commit()
    assert snapshot() == before


def test_review_from_the_command_line(server, phones):
    first = Member("王秀英", "female", "1975-05-06")
    second = Member("王秀瑛", "female", "1975-05-06")
    register_two(phones, first, second)
    runner = server.app.test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        db.session.rollback()
        assert result.exit_code == 0, result.output
        return result.output

    assert run("register", "scan") == "1 candidate pair(s), 0 merged automatically\n"
    (candidate,) = register_queries.open_candidates()
    a, b = candidate.a_uuid, candidate.b_uuid
    db.session.rollback()
    assert run("register", "duplicates", "--area", "青山镇/东村") == (
        f"{candidate.id:6} person    0.65 {a} {b}  Names sound the same (homophone characters); Same birth date; "
        "Same sex\n")
    refused = runner.invoke(cli, ["register", "merge-pair", str(candidate.id), "--keep", a, "--user", "xicun_cadre"])
    assert refused.exit_code == 1 and "You may not use this form or resource." in refused.output
    assert run("register", "merge-pair", str(candidate.id), "--keep", a, "--user", "dongcun_cadre") == (
        "merged: decision 1\n")
    assert list(people()) == [a]
    assert [line.split()[1] for line in run("register", "duplicates").splitlines()] == ["household"]
    assert run("register", "undo", "1", "--user", "dongcun_cadre") == "decision 1 undone\n"
    assert set(people()) == {a, b}
    assert run("rebuild") == "register rebuilt from 2 submission(s)\n"
    assert run("register", "distinct", str(candidate.id), "--user", "dongcun_cadre") == (
        f"candidate {candidate.id}: two people\n")
    assert run("register", "move-household", HOUSEHOLD_1, "青山镇/东村/第二组", "--user", "dongcun_cadre") == (
        "moved: decision 2\n")


def test_a_member_moves_to_another_household_and_a_household_splits(phones):
    phone = phones["青山镇/东村/第一组"]
    head, wife, son = (Member("张伟", "male", "1960-03-04"), Member("李芳", "female", "1962-01-02", relationship="spouse"),
                       Member("张磊", "male", "1988-07-08", relationship="child"))
    other = Member("王强", "male", "1970-01-01")
    send(phone, household_visit(household=HOUSEHOLD_1, new=("001", "东村一组1号"), start="2026-11-01T09:00:00.000+08:00",
                                members=[head, wife, son]))
    send(phone, household_visit(household=HOUSEHOLD_2, new=("002", "东村一组2号"), start="2026-11-01T10:00:00.000+08:00",
                                members=[other]))
    merge_all(NOW)

    # The son marries and goes to live in household 002 ...
    send(phone, household_visit(household=HOUSEHOLD_1, base_version=1, start="2026-11-10T09:00:00.000+08:00", updates=[
        dict(person_uuid=son.uuid, base_version=1, change="changed_household", to_household=HOUSEHOLD_2,
             event_date="2026-11-08")]))
    # ... and the parents split off a new household 003 (分户).
    new_household = "11111111-0000-4000-8000-000000000003"
    send(phone, household_visit(household=new_household, new=("003", "东村一组3号"), start="2026-11-12T09:00:00.000+08:00",
                                split_from=HOUSEHOLD_1, split_members={head.uuid: 1, wife.uuid: 1}))
    merge_all(NOW)

    assert {uuid: household for uuid, (_, household, _, _) in people().items()} == {
        head.uuid: new_household, wife.uuid: new_household, son.uuid: HOUSEHOLD_2, other.uuid: HOUSEHOLD_2}
    household = db.session.get(Household, new_household)
    assert (household.household_no, household.group_id) == ("003", db.session.get(Household, HOUSEHOLD_1).group_id)
    events = sorted((e.person_uuid, e.kind, str(e.event_date)) for e in db.session.scalars(
        select(LifeEventRecord).where(LifeEventRecord.kind.in_(["changed_household", "household_split"]))))
    assert events == sorted([(son.uuid, "changed_household", "2026-11-08"),
                             (head.uuid, "household_split", "2026-11-12"), (wife.uuid, "household_split", "2026-11-12")])
    assert [v.value for v in db.session.scalars(select(RegisterFieldValue).where(
        RegisterFieldValue.field == "split_from"))] == [HOUSEHOLD_1]
    live = snapshot()
    rebuild_register()
    commit()
    assert snapshot() == live


def test_a_household_registered_twice_is_queued_and_merging_it_moves_its_members(phones):
    phone = phones["青山镇/东村/第一组"]
    first, second = Member("张伟", "male", "1960-03-04"), Member("李芳", "female", "1962-01-02")
    send(phone, household_visit(household=HOUSEHOLD_1, new=("007", "东村一组7号"), start="2026-11-01T09:00:00.000+08:00",
                                members=[first]))
    send(phone, household_visit(household=HOUSEHOLD_2, new=("007", "东村一组 7 号"),
                                start="2026-11-03T09:00:00.000+08:00", members=[second]))
    merge_all(NOW)
    (candidate,) = register_queries.open_candidates()
    assert (candidate.record_kind, candidate.a_uuid, candidate.b_uuid, candidate.score, candidate.reasons) == (
        "household", HOUSEHOLD_1, HOUSEHOLD_2, 0.6, "same_household_no same_address")
    db.session.rollback()

    decision_id = merge_candidate(cadre(), candidate.id, HOUSEHOLD_1, now=NOW)
    commit()
    assert {uuid: household for uuid, (_, household, _, _) in people().items()} == {
        first.uuid: HOUSEHOLD_1, second.uuid: HOUSEHOLD_1}
    assert db.session.scalars(select(Household.uuid)).all() == [HOUSEHOLD_1]
    db.session.rollback()
    # A phone still listing the duplicate household registers a birth there: the baby joins the household kept.
    baby = Member("张小宝", "male", "2026-11-10", relationship="grandchild", reason="birth")
    send(phone, household_visit(household=HOUSEHOLD_2, base_version=1, start="2026-11-15T09:00:00.000+08:00",
                                members=[baby]))
    merge_all(NOW)
    assert people()[baby.uuid][1] == HOUSEHOLD_1
    live = snapshot()
    rebuild_register()
    commit()
    assert snapshot() == live
    undo_decision(cadre(), decision_id, now=NOW)
    commit()
    assert {uuid: household for uuid, (_, household, _, _) in people().items()} == {
        first.uuid: HOUSEHOLD_1, second.uuid: HOUSEHOLD_2, baby.uuid: HOUSEHOLD_2}


def test_merging_one_person_of_two_households_proposes_the_households(phones):
    number = resident_id("1980-03-04", male=True)
    register_two(phones, Member("张伟", "male", "1980-03-04", id_number=number),
                 Member("张伟", "male", "1980-03-04", id_number=number))
    (candidate,) = register_queries.open_candidates()
    assert (candidate.record_kind, candidate.a_uuid, candidate.b_uuid, candidate.reasons) == (
        "household", HOUSEHOLD_1, HOUSEHOLD_2, "shares_a_person")
    db.session.rollback()
