"""Visits filled by JavaRosa, sent over HTTP, queued at intake and merged into the register; rebuild equals live."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select, update

from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register.models import Household, LifeEventRecord, Person, RegisterConflict
from server.register.replays import rebuild_register
from server.register.worker import merge_next, note_merge_failure
from server.submissions.models import MergeQueueEntry, Submission
from sync import replay
from sync.errors import EditOriginalUnknown
from tests.conftest import ROOT, merge_all, stored_submissions
from tests.formengine import fill_form

XLSFORMS = ROOT / "xlsforms"
FIXTURES = XLSFORMS / "fixtures"
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def visit_xform() -> bytes:
    return convert(xlsform=XLSFORMS / "household_visit.xlsx", file_type=".xlsx").xform.encode()


@pytest.fixture
def phone(server, create_collector, publish):
    publish(XLSFORMS / "household_visit.xlsx", media=list(FIXTURES.glob("*.csv")))
    return server.client(token=create_collector().token)


def register_lists() -> dict[str, bytes]:
    """households.csv and people.csv as the phone would get them from the current register."""
    def table(header, rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode()

    households = db.session.scalars(select(Household)).all()
    people = db.session.scalars(select(Person)).all()
    heads = {p.household_uuid: p.name for p in people if p.relationship == "head"}
    lists = {
        "households.csv": table(["name", "label", "household_no", "head_name", "address", "members", "base_version"],
                                [[h.uuid, f"{h.household_no} {heads.get(h.uuid, '')}", h.household_no,
                                  heads.get(h.uuid, ""), h.address, 0, h.version] for h in households]),
        "people.csv": table(["name", "label", "household", "person_name", "sex", "birth_date", "id_number",
                             "relationship", "phone", "residence", "hukou", "base_version"],
                            [[p.uuid, p.name, p.household_uuid, p.name, p.sex, p.birth_date, p.id_number or "",
                              p.relationship, p.phone or "", p.residence, p.hukou, p.version] for p in people]),
        **{name: (FIXTURES / name).read_bytes() for name in ("due.csv", "destinations.csv", "arrivals.csv")},
    }
    db.session.rollback()
    return lists


def register_new_household(phone, visit_xform) -> bytes:
    result = fill_form(visit_xform, [
        ("/data/household_choice/mode", "new"), ("/data/household_choice/new_household_no", "008"),
        ("/data/household_choice/new_address", "东村一组8号"), ("/data/outcome_group/outcome", "completed"),
        ("/data/outcome_group/consent", "yes"),
        ("/data/new_members[1]/new_member/person_name_new", "吴刚"), ("/data/new_members[1]/new_member/sex", "male"),
        ("/data/new_members[1]/new_member/birth_date", "1979-08-08"),
        ("/data/new_members[1]/new_member/relationship", "head"),
        ("/data/new_members[1]/new_member/phone", "13811112222"),
        ("/data/new_members[2]/new_member/person_name_new", "吴芳"), ("/data/new_members[2]/new_member/sex", "female"),
        ("/data/new_members[2]/new_member/birth_date", "1981-02-02"),
        ("/data/new_members[2]/new_member/relationship", "spouse"),
    ], media={p.name: p for p in FIXTURES.glob("*.csv")})
    assert result.ok, result.violations
    assert phone.submit(result.xml).status_code == 201
    return result.xml


def correct_phone(visit_xform, lists, household_uuid, person_uuid, number) -> bytes:
    result = fill_form(visit_xform, [
        ("/data/household_choice/mode", "existing"), ("/data/household_choice/household", household_uuid),
        ("/data/outcome_group/outcome", "completed"), ("/data/outcome_group/consent", "yes"),
        ("/data/changes/changed_people", person_uuid),
        ("/data/person_updates[1]/person_update/change", "details_corrected"),
        ("/data/person_updates[1]/person_update/phone_now", number),
    ], media=lists)
    assert result.ok, result.violations
    return result.xml


def test_intake_queues_and_the_merge_builds_the_register(phone, visit_xform):
    register_new_household(phone, visit_xform)
    assert db.session.scalars(select(MergeQueueEntry)).all() != []
    db.session.rollback()
    assert merge_all() == 1
    [household] = db.session.scalars(select(Household)).all()
    assert (household.household_no, household.address, household.version) == ("008", "东村一组8号", 1)
    assert household.group_id is not None
    people = sorted(db.session.scalars(select(Person)).all(), key=lambda p: p.name)
    assert [(p.name, p.sex, p.birth_date, p.relationship, p.household_uuid, p.version) for p in people] == [
        ("吴刚", "male", "1979-08-08", "head", household.uuid, 1),
        ("吴芳", "female", "1981-02-02", "spouse", household.uuid, 1)]
    assert sorted(e.kind for e in db.session.scalars(select(LifeEventRecord))) == ["registered", "registered"]
    assert db.session.scalars(select(MergeQueueEntry)).all() == []
    db.session.rollback()


def test_two_phones_changing_the_same_field_make_a_conflict_the_later_visit_wins(phone, visit_xform):
    register_new_household(phone, visit_xform)
    merge_all()
    lists = register_lists()
    head = next(row for row in csv.DictReader(io.StringIO(lists["people.csv"].decode())) if row["person_name"] == "吴刚")
    first = correct_phone(visit_xform, lists, head["household"], head["name"], "13900000001")
    second = correct_phone(visit_xform, lists, head["household"], head["name"], "13900000002")
    # The visit made second on the phone arrives first; the earlier one arrives late and must not overwrite it.
    assert phone.submit(second).status_code == 201
    assert phone.submit(first).status_code == 201
    assert merge_all() == 2
    person = db.session.get(Person, head["name"])
    assert (person.phone, person.version) == ("13900000002", 2)
    [conflict] = db.session.scalars(select(RegisterConflict)).all()
    assert (conflict.field, conflict.value, conflict.other_value) == ("phone", "13900000002", "13900000001")
    db.session.rollback()


def test_an_edit_replaces_what_the_original_contributed(phone, visit_xform):
    original = register_new_household(phone, visit_xform)
    merge_all()
    instance_id = re.search(rb"<instanceID>(.*?)</instanceID>", original).group(1).decode()
    edited = (original.replace("吴芳".encode(), "吴芬".encode())
              .replace(f"<instanceID>{instance_id}</instanceID>".encode(),
                       f"<instanceID>uuid:edit-1</instanceID><deprecatedID>{instance_id}</deprecatedID>".encode()))
    assert phone.submit(edited).status_code == 201
    assert merge_all() == 1
    names = sorted(p.name for p in db.session.scalars(select(Person)))
    assert names == ["吴刚", "吴芬"]
    assert {p.version for p in db.session.scalars(select(Person))} == {1}
    assert db.session.scalars(select(RegisterConflict)).all() == []
    db.session.rollback()


def test_an_edit_of_an_edit_arriving_before_the_edit_it_replaces_is_refused_until_that_edit_is_here(phone,
                                                                                                     visit_xform):
    """Versions reach the server out of order (original, then the second edit, then the first): the second edit is
    refused (409.9, nothing stored) until the first is here; sent again then, the register shows the last version,
    every version has the original as its chain root, and a rebuild agrees."""
    original = register_new_household(phone, visit_xform)
    merge_all()
    instance_id = re.search(rb"<instanceID>(.*?)</instanceID>", original).group(1).decode()

    def version(new_id: str, replaces: str, name: str) -> bytes:
        return (original.replace("吴芳".encode(), name.encode())
                .replace(f"<instanceID>{instance_id}</instanceID>".encode(),
                         f"<instanceID>{new_id}</instanceID><deprecatedID>{replaces}</deprecatedID>".encode()))

    early = phone.submit(version("uuid:edit-b", "uuid:edit-a", "吴芸"))
    assert (early.status_code, EditOriginalUnknown.message_en.encode() in early.content) == (409, True)
    assert [row["instance_id"] for row in stored_submissions()] == [instance_id]
    assert phone.submit(version("uuid:edit-a", instance_id, "吴芬")).status_code == 201
    assert phone.submit(version("uuid:edit-b", "uuid:edit-a", "吴芸")).status_code == 201
    merge_all()
    assert sorted(p.name for p in db.session.scalars(select(Person))) == ["吴刚", "吴芸"]
    roots = {row.instance_id: row.root_instance_id for row in db.session.execute(
        select(Submission.instance_id, Submission.root_instance_id))}
    assert roots == {instance_id: instance_id, "uuid:edit-a": instance_id, "uuid:edit-b": instance_id}
    ids = dict(db.session.execute(select(Submission.instance_id, Submission.id)).all())
    # Had the two edits been stored at the same instant, neither would have seen the other's root: the chain is
    # still found through the deprecatedID links.
    db.session.execute(update(Submission).where(Submission.instance_id == "uuid:edit-b")
                       .values(root_instance_id="uuid:edit-a"))
    assert register_queries.chain_ids({ids["uuid:edit-b"]}) == register_queries.chain_ids({ids[instance_id]}) == set(
        ids.values())
    db.session.rollback()
    live = register_queries.register_snapshot()
    rebuild_register()
    commit()
    assert register_queries.register_snapshot() == live
    db.session.rollback()


def test_rebuild_from_raw_submissions_equals_the_live_register(phone, visit_xform):
    original = register_new_household(phone, visit_xform)
    merge_all()
    lists = register_lists()
    head = next(row for row in csv.DictReader(io.StringIO(lists["people.csv"].decode())) if row["person_name"] == "吴刚")
    for number in ("13900000005", "13900000006"):
        assert phone.submit(correct_phone(visit_xform, lists, head["household"], head["name"], number)).status_code == 201
    instance_id = re.search(rb"<instanceID>(.*?)</instanceID>", original).group(1).decode()
    edit = original.replace(f"<instanceID>{instance_id}</instanceID>".encode(),
                            f"<instanceID>uuid:edit-2</instanceID><deprecatedID>{instance_id}</deprecatedID>".encode())
    assert phone.submit(edit.replace("吴芳".encode(), "吴芳芳".encode())).status_code == 201
    merge_all()
    live = register_queries.register_snapshot()
    rebuild_register()
    commit()
    assert register_queries.register_snapshot() == live
    db.session.rollback()


def test_a_submission_that_cannot_be_merged_is_retried_then_left_with_its_error(phone, visit_xform, monkeypatch):
    """Fault injection: the visit reader fails for one submission; the queue keeps it, counts attempts, moves on."""
    register_new_household(phone, visit_xform)

    def broken(_xml):
        raise RuntimeError("injected")

    monkeypatch.setattr(replay, "read_visit", broken)
    for attempt in range(1, 4):
        with pytest.raises(RuntimeError):
            merge_next()
        db.session.rollback()
        note_merge_failure(RuntimeError("injected"))
        commit()
        [entry] = db.session.scalars(select(MergeQueueEntry)).all()
        assert (entry.attempts, entry.last_error) == (attempt, "RuntimeError")
        db.session.rollback()
    assert merge_next() is None  # given up on: the worker is free for the next submission
    db.session.rollback()
    monkeypatch.undo()
    assert db.session.scalars(select(Household)).all() == []
    db.session.rollback()
