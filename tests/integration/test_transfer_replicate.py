"""`taizhang-transfer replicate`: two town servers copied to the county server over HTTP, by cursor; the county
register equals the union of the towns' and a county rebuild equals it; recent submissions, late attachments,
refusals and unreachable servers."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import requests
from click.testing import CliRunner
from requests.auth import HTTPDigestAuth
from sqlalchemy import func, select

from server import clock
from server.areas.models import Area
from server.areas.operations import ensure_area
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.forms.operations import publish_form
from server.register import queries as register_queries
from server.register.decisions import (
    merge_duplicates,
    move_household,
    resolve_conflict,
    review_visit,
    set_tier,
    undo_decision,
)
from server.register.models import Person, RegisterConflict, RegisterDecision
from server.register.replays import rebuild_register
from server.replication import operations as replication_operations
from server.schedules.operations import current_schedule
from server.services import operations as service_operations
from server.services import queries as service_queries
from server.storage import blob_store
from server.submissions.models import Submission
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.replicate import Replicator
from sync.transfer import TransferError
from sync.transfer_cli import main as transfer_command
from tests.collect import visit_xml
from tests.conftest import (
    FIXTURES,
    REALM,
    ROOT,
    LiveServer,
    empty_tables,
    make_test_app,
    merge_all,
    start_live_server,
    stored_attachments,
    stored_submissions,
)
from tests.integration.test_questionnaire_filling import resident_id
from tests.register_visits import Member, household_visit

XLSFORMS = ROOT / "xlsforms"
LOGIN = {"青山镇": "qingshan", "白水镇": "baishui"}       # user names go into Digest headers: ASCII
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def town_servers(live_server, tmp_path_factory):
    """Two town servers (青山镇, 白水镇) on the county's database engine, each with its own database."""
    servers = []
    for suffix in ("_town1", "_town2"):
        app = make_test_app(tmp_path_factory, live_server.backend, database_suffix=suffix,
                            TAIZHANG_LOGIN_LIMIT="100000 per minute")
        url, stop = start_live_server(app)
        servers.append((LiveServer(app=app, url=url, backend=live_server.backend), stop))
    yield [town for town, _ in servers]
    for town, stop in servers:
        stop()
        with town.app.app_context():
            db.engine.dispose()


class Town:
    """A town server with a collector per group and a town officer who replicates."""

    def __init__(self, live: LiveServer, town: str, groups: list[str], form=XLSFORMS / "household_visit.xlsx") -> None:
        self.live, self.town = live, town
        with live.app.app_context():
            empty_tables(live.backend)
            publish_form(form, blob_store(), validate=False,
                         media=list((XLSFORMS / "fixtures").glob("*.csv")) if form.suffix == ".xlsx" else [])
            self.phones, self.tokens = {}, {}
            for number, group in enumerate(groups, start=1):
                ensure_area(f"{town}/{group}")
                token = add_user(f"{LOGIN[town]}-collector{number}", "collector", f"{town}/{group}", realm=REALM,
                                 with_token=True).token
                self.phones[group], self.tokens[group] = live.client(token=token), token
            add_user(f"{LOGIN[town]}-office", "town_officer", town, realm=REALM, password="town-secret")
            commit()

    def auth(self) -> HTTPDigestAuth:
        return HTTPDigestAuth(f"{LOGIN[self.town]}-office", "town-secret")

    def send(self, group: str, xml: bytes, attachments: dict[str, bytes] | None = None) -> None:
        assert self.phones[group].submit(xml, attachments).status_code == 201

    def merge(self) -> None:
        with self.live.app.app_context():
            merge_all(NOW)

    def snapshot(self) -> dict:
        with self.live.app.app_context():
            return portable_snapshot()


def portable_snapshot() -> dict:
    """The register with area ids as full names, submission ids as instanceIDs and decision ids as their uuids
    (ids differ between servers)."""
    shot = register_queries.register_snapshot()
    areas = {area.id: area.full_name for area in db.session.scalars(select(Area))}
    instances = dict(db.session.execute(select(Submission.id, Submission.instance_id)).all())
    instances |= {f"decision:{row.id}": f"decision:{row.uuid}"
                  for row in db.session.execute(select(RegisterDecision.id, RegisterDecision.uuid))}
    db.session.rollback()

    def portable(row):
        return tuple((name, areas[value] if name.endswith("_id") and value is not None else value)
                     for name, value in row)

    return {**shot, "households": sorted(map(portable, shot["households"])),
            "history": sorted((*entry[:2], areas[int(entry[2])] if entry[1] == "group" else entry[2], entry[3],
                               instances.get(entry[4], entry[4])) for entry in shot["history"]),
            "people": sorted(map(portable, shot["people"])),
            "anchors": sorted((*anchor[:3], instances[anchor[3]]) for anchor in shot["anchors"])}


def union(*shots: dict) -> dict:
    return {key: sorted(item for shot in shots for item in shot[key]) for key in shots[0]}


@pytest.fixture
def county(server, publish, create_collector):
    """The county server: the household visit published; an account for each town's replication."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    for town in ("青山镇", "白水镇"):
        create_collector(f"{town}/县里/占位组")    # the town exists on the county server, nothing more of it
        add_user(f"{LOGIN[town]}-sync", "town_officer", town, realm=REALM, password="county-secret")
    commit()
    return server


@pytest.fixture
def towns(town_servers, county):
    return (Town(town_servers[0], "青山镇", ["东村/第一组", "西村/第一组"]),
            Town(town_servers[1], "白水镇", ["南村/第一组"]))


@pytest.fixture
def settled(monkeypatch):
    """No settle time: the cursor may pass every stored submission and decision at once (the clock itself is
    left alone, since intake stamps arrivals with it)."""
    monkeypatch.setattr(replication_operations, "SETTLE", dt.timedelta(0))


def replicator(town: Town, county: LiveServer, state, **kwargs) -> Replicator:
    return Replicator(town.live.url, county.url, state, source_auth=town.auth(),
                      target_auth=HTTPDigestAuth(f"{LOGIN[town.town]}-sync", "county-secret"), **kwargs)


def register_households(town: Town, group: str, count: int, day: int) -> None:
    for number in range(count):
        members = [Member(f"{town.town[:1]}{group[:1]}户主{number}", "male", "1970-01-01"),
                   Member(f"{town.town[:1]}{group[:1]}配偶{number}", "female", "1972-02-02", relationship="spouse")]
        town.send(group, household_visit(household=f"{town.town}-{group}-{number}", new=(f"{number:03d}", "门牌"),
                                         start=f"2026-11-{day:02d}T09:{number:02d}:00.000+08:00", members=members))


def test_the_county_register_is_the_union_of_its_towns_and_a_rebuild_equals_it(county, towns, settled, tmp_path):
    qingshan, baishui = towns
    register_households(qingshan, "东村/第一组", 3, 1)
    register_households(qingshan, "西村/第一组", 2, 2)
    register_households(baishui, "南村/第一组", 4, 3)
    for town in towns:
        town.merge()

    results = [replicator(town, county, tmp_path / f"{town.town}.json", page_size=2).run() for town in towns]
    assert [(len(r.sent), r.already_there, r.incomplete, r.refused) for r in results] == [(5, [], [], []),
                                                                                          (4, [], [], [])]
    merge_all(NOW)
    county_register = portable_snapshot()
    assert county_register == union(qingshan.snapshot(), baishui.snapshot())
    assert len(county_register["people"]) == 18
    # New groups reached the county with the town's names; each visit kept its collector and arrival time.
    assert sorted(db.session.scalars(select(Area.full_name).where(Area.kind == "group"))) == [
        "白水镇/南村/第一组", "白水镇/县里/占位组", "青山镇/东村/第一组", "青山镇/县里/占位组", "青山镇/西村/第一组"]
    assert {row.collector_name for row in db.session.execute(select(Submission.collector_name))} == {
        "qingshan-collector1", "qingshan-collector2", "baishui-collector1"}
    db.session.rollback()

    rebuild_register()
    commit()
    assert portable_snapshot() == county_register

    # Incremental: a second run sends nothing; an edit and a new visit at one town are all the next run sends.
    again = replicator(qingshan, county, tmp_path / "青山镇.json").run()
    assert (again.sent, again.already_there) == ([], [])
    head = Member("新户主", "female", "1990-09-09")
    for instance_id, deprecated_id, address in (("uuid:later-1", None, "门牌"), ("uuid:later-2", "uuid:later-1", "新门牌")):
        qingshan.send("西村/第一组", household_visit(
            household="青山镇-西村/第一组-9", new=("009", address), start="2026-11-05T10:00:00.000+08:00",
            members=[head], instance_id=instance_id, deprecated_id=deprecated_id))
    qingshan.merge()
    later = replicator(qingshan, county, tmp_path / "青山镇.json").run()
    assert (later.sent, later.already_there) == (["uuid:later-1", "uuid:later-2"], [])
    merge_all(NOW)
    assert portable_snapshot() == union(qingshan.snapshot(), baishui.snapshot())


def test_the_cursor_waits_for_recent_submissions_and_nothing_is_sent_twice(county, towns, tmp_path, monkeypatch):
    """A submission younger than the settle time is sent but the cursor stays before it (PostgreSQL may still
    commit an earlier id); the state remembers it was sent, so the next run does not send it again."""
    qingshan, _ = towns
    register_households(qingshan, "东村/第一组", 2, 1)
    state = tmp_path / "state.json"
    first = replicator(qingshan, county, state).run()
    assert len(first.sent) == 2
    saved = json.loads(state.read_text())
    assert saved["cursor"] == 0 and len(saved["ahead"]) == 2 and saved["pending"] == {}
    assert replicator(qingshan, county, state).run().sent == []

    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2))
    assert replicator(qingshan, county, state).run().sent == []
    saved = json.loads(state.read_text())
    assert saved["cursor"] == 2 and saved["ahead"] == {}


def test_the_page_a_town_server_hands_out(county, towns, settled):
    """The replication API's shape: exact XML bytes, the group's full name, the collector, arrival, attachments."""
    qingshan, _ = towns
    xml = household_visit(household="h-1", new=("001", "门牌"), start="2026-11-01T09:00:00.000+08:00",
                          members=[Member("王秀英", "female", "1975-05-06")])
    qingshan.send("东村/第一组", xml)
    answer = requests.get(f"{qingshan.live.url}/api/v1/replication/submissions", params={"after": 0, "limit": 10},
                          auth=qingshan.auth(), timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    page = answer.json()
    (raw,) = page["submissions"]
    assert (page["cursor"], page["more"]) == (raw["cursor"], False)
    assert base64.b64decode(raw["xml"]) == xml
    assert (raw["area"], raw["collector"], raw["attachments"]) == ("青山镇/东村/第一组", "qingshan-collector1", [])
    assert dt.datetime.fromisoformat(raw["received_at"]).tzinfo is not None
    with qingshan.live.app.app_context():
        events = [(e.action, e.records) for e in db.session.scalars(select(AuditEvent))]
    assert events == [("replication.read", 1)]
    # Only the town office and the county replicate: a collector is refused, and so is a bad cursor.
    collector = requests.get(f"{qingshan.live.url}/key/{qingshan.tokens['东村/第一组']}"
                             "/api/v1/replication/submissions", timeout=30)
    assert collector.status_code == 404      # token URLs serve OpenRosa only
    bad = requests.get(f"{qingshan.live.url}/api/v1/replication/submissions", params={"after": -1},
                       auth=qingshan.auth(), timeout=30)
    assert (bad.status_code, bad.json()["code"]) == (400, "400.0")


def test_attachments_follow_even_when_they_reach_the_town_late(server, publish, town_servers, settled, tmp_path):
    """A photo still on its way to the town server: the form is replicated now and the photo on a later run."""
    placeholder = FIXTURES / "forms" / "household_visit_placeholder.xml"
    publish(placeholder)
    ensure_area("青山镇")
    add_user("qingshan-sync", "town_officer", "青山镇", realm=REALM, password="county-secret")
    commit()
    town = Town(town_servers[0], "青山镇", ["东村/第一组"], form=placeholder)
    xml = visit_xml(photo="photo.jpg")
    assert town.phones["东村/第一组"].post_submission(xml).status_code == 201   # the XML first, the photo to come
    state = tmp_path / "state.json"
    first = replicator(town, server, state).run()
    assert (first.sent, len(first.incomplete)) == ([], 1)
    assert [a["sha256"] for a in stored_attachments()] == [None]
    db.session.rollback()

    assert town.phones["东村/第一组"].post_submission(xml, {"photo.jpg": b"\xff\xd8jpeg"}).status_code == 201
    second = replicator(town, server, state).run()
    assert (len(second.sent), second.incomplete) == (1, [])
    assert [a["size"] for a in stored_attachments()] == [6]
    assert json.loads(state.read_text())["pending"] == {}


def test_refusals_are_reported_kept_and_retried(county, towns, settled, tmp_path):
    qingshan, _ = towns
    register_households(qingshan, "东村/第一组", 1, 1)
    state = tmp_path / "state.json"
    # The county account of 白水镇 may not write 青山镇's visits: refused with the county's message, and kept.
    wrong = Replicator(qingshan.live.url, county.url, state, source_auth=qingshan.auth(),
                       target_auth=HTTPDigestAuth("baishui-sync", "county-secret")).run()
    assert [message for _, message in wrong.refused] == [
        "您没有权限使用这个表单或资源。 / You may not use this form or resource. (青山镇/东村/第一组)"]
    assert list(json.loads(state.read_text())["pending"].values()) == [f"refused: {wrong.refused[0][1]}"]
    assert stored_submissions() == []
    # The next run (with the right account) tries it again, though the cursor has passed it.
    right = replicator(qingshan, county, state).run()
    assert (right.sent, right.refused) == ([wrong.refused[0][0]], [])
    assert json.loads(state.read_text())["pending"] == {} and len(stored_submissions()) == 1

    # Wrong credentials stop the run with a clear message.
    with pytest.raises(TransferError, match="refused the credentials"):
        Replicator(qingshan.live.url, county.url, tmp_path / "x.json", source_auth=HTTPDigestAuth("qingshan-office", "no"),
                   target_auth=HTTPDigestAuth("qingshan-sync", "county-secret")).run()


def test_an_unreachable_server_is_retried_with_bounded_backoff(county, towns, tmp_path):
    qingshan, _ = towns
    waits = []
    with pytest.raises(TransferError, match="cannot be reached"):
        Replicator("http://127.0.0.1:9", county.url, tmp_path / "s.json", source_auth=qingshan.auth(),
                   target_auth=HTTPDigestAuth("qingshan-sync", "county-secret"), sleep=waits.append).run()
    assert waits == [1, 2, 4, 8]


def test_the_console_command(county, towns, settled, tmp_path):
    qingshan, _ = towns
    register_households(qingshan, "东村/第一组", 2, 1)
    arguments = ["replicate", "--from", qingshan.live.url, "--from-user", "qingshan-office", "--to", county.url,
                 "--to-user", "qingshan-sync", "--state", str(tmp_path / "state.json")]
    environment = {"TAIZHANG_SOURCE_PASSWORD": "town-secret", "TAIZHANG_TARGET_PASSWORD": "county-secret"}
    result = CliRunner().invoke(transfer_command, arguments, env=environment)
    assert (result.exit_code, result.output.splitlines()[-3:]) == (0, [
        "sent 2, already there 0, waiting for attachments 0, refused 0",
        "decisions: sent 0, waiting for their visits to be merged 0, refused 0",
        "service notices: sent 0, brought back 0, refused 0"])
    again = CliRunner().invoke(transfer_command, arguments, env=environment)
    assert again.output.splitlines()[-3] == "sent 0, already there 0, waiting for attachments 0, refused 0"


def test_the_towns_decisions_follow_once_their_visits_are_merged_and_so_does_their_undoing(county, towns, settled,
                                                                                          tmp_path):
    """The town office settles a conflict, merges a duplicate, moves a household, gives tiers, rejects a visit
    and undoes a tier; the
    county records each decision once its visits are merged there, at its place, and later undoing follows."""
    qingshan, _ = towns
    twin_a, twin_b = Member("李秀英", "female", "1975-05-06"), Member("李秀瑛", "female", "1975-05-06")
    head, mover = Member("张伟", "male", "1970-01-02"), Member("赵军", "male", "1980-03-04")
    for number, members in enumerate(([twin_a, head], [twin_b], [mover]), start=1):
        qingshan.send("东村/第一组", household_visit(household=f"h-{number}", new=(f"00{number}", "门牌"),
                                                  start=f"2026-11-0{number}T09:00:00.000+08:00", members=members))
    qingshan.send("东村/第一组", household_visit(household="h-9", new=("009", "门牌"),
                                              start="2026-11-04T09:00:00.000+08:00", instance_id="uuid:rejected",
                                              members=[Member("钱多", "male", "1990-01-01")]))
    for hour, phone in ((11, "13800000001"), (12, "13900000001")):   # two visits change head's phone differently
        qingshan.send("东村/第一组", household_visit(
            household="h-1", base_version=1, start=f"2026-11-05T{hour}:00:00.000+08:00",
            updates=[dict(person_uuid=head.uuid, base_version=1, change="details_corrected", phone_now=phone)]))
    qingshan.merge()
    with qingshan.live.app.app_context():
        office = principal_by_username("qingshan-office")
        tiers = current_schedule().tier_names
        (conflict,) = db.session.scalars(select(RegisterConflict.id).where(RegisterConflict.state == "open"))
        resolve_conflict(office, conflict, "13700000001", now=NOW)
        merge_duplicates(office, twin_a.uuid, twin_b.uuid, now=NOW)
        west = db.session.scalar(select(Area.id).where(Area.full_name == "青山镇/西村/第一组"))
        move_household(office, "h-3", west, now=NOW)
        set_tier(office, head.uuid, tiers[0], tiers=tiers, now=NOW)
        undone_tier = set_tier(office, mover.uuid, tiers[0], tiers=tiers, now=NOW)
        undo_decision(office, undone_tier, now=NOW)
        rejected = db.session.scalar(select(Submission.id).where(Submission.instance_id == "uuid:rejected"))
        review_visit(office, rejected, "rejected", now=NOW)
        commit()

    state = tmp_path / "state.json"
    first = replicator(qingshan, county, state, page_size=2).run()    # three pages of decisions
    # The county has the visits but has not merged them yet: every decision waits, kept in the state file.
    assert (len(first.sent), first.decisions_sent, len(first.decisions_waiting)) == (6, [], 6)
    saved = json.loads(state.read_text())
    assert len(saved["decisions_pending"]) == 6
    with qingshan.live.app.app_context():
        assert saved["decision_cursor"] == db.session.scalar(select(func.max(RegisterDecision.id)))
    merge_all(NOW)
    second = replicator(qingshan, county, state).run()
    assert (second.sent, len(second.decisions_sent), second.decisions_waiting, second.decisions_refused) == (
        [], 6, [], [])
    assert json.loads(state.read_text())["decisions_pending"] == {}
    county_register = portable_snapshot()
    assert county_register == qingshan.snapshot()
    people = dict(db.session.execute(select(Person.name, Person.phone)).all())
    assert "李秀瑛" not in people and "钱多" not in people   # merged away; the rejected visit's household is out
    assert people["张伟"] == "13700000001"                     # the value the town office settled the conflict with
    db.session.rollback()
    rebuild_register()
    commit()
    assert portable_snapshot() == county_register

    # Nothing new: nothing sent. Then the town undoes the merge and approves the rejected visit: both follow.
    assert replicator(qingshan, county, state).run().decisions_sent == []
    with qingshan.live.app.app_context():
        office = principal_by_username("qingshan-office")
        merge = db.session.scalar(select(RegisterDecision.id).where(RegisterDecision.kind == "merge_people"))
        undo_decision(office, merge, now=clock.now())      # the town's clock, as when a cadre clicks "undo"
        review_visit(office, rejected, "approved", now=clock.now())
        commit()
    undone = replicator(qingshan, county, state).run()
    assert len(undone.decisions_sent) == 2
    assert portable_snapshot() == qingshan.snapshot()
    with county.app.app_context():
        replicated = sorted(e.action for e in db.session.scalars(select(AuditEvent))
                            if e.action.startswith("replication.") and e.action != "replication.read")
    assert replicated == ["replication.merge_people", "replication.move_household", "replication.reject_visit",
                          "replication.set_field", "replication.set_tier", "replication.set_tier",
                          "replication.undo_merge_people",
                          "replication.undo_reject_visit", "replication.undo_set_tier"]


def test_decisions_about_service_items_follow_to_the_county(county, towns, settled, tmp_path):
    """A referral's result and a support request's outcome, recorded in the town, name the items by their keys,
    which are the same on the county server: the county reads the items as the town does."""
    qingshan, _ = towns
    mother = Member("孙丽", "female", "1996-03-04")
    qingshan.send("东村/第一组", household_visit(household="h-s", new=("001", "门牌"), members=[mother],
                                              start="2026-11-01T09:00:00.000+08:00"))
    qingshan.send("东村/第一组", household_visit(
        household="h-s", base_version=1, start="2026-11-02T09:00:00.000+08:00", instance_id="uuid:support-visit",
        pregnancy=(mother.uuid, "yes", "yes"),
        support={"needs": ("family_benefit",), "details": "申请奖励扶助", "benefit_kind": "reward",
                 "person": mother.uuid}))
    qingshan.merge()
    with qingshan.live.app.app_context():
        office = principal_by_username("qingshan-office")
        service_operations.record_referral_result(office, "uuid:support-visit#1", "attended", now=NOW)
        service_operations.record_support_outcome(office, "uuid:support-visit#3", "outcome", "granted", now=NOW)
        paid = service_operations.record_support_outcome(office, "uuid:support-visit#3", "amount", "960", now=NOW)
        undo_decision(office, paid, now=NOW)
        commit()
        in_town = [(placed.key, placed.state) for placed in service_queries.placed_items(person_uuid=mother.uuid)]
        db.session.rollback()
    state = tmp_path / "state.json"
    replicator(qingshan, county, state).run()
    merge_all(NOW)
    sent = replicator(qingshan, county, state).run()
    assert (len(sent.decisions_sent), sent.decisions_refused) == (3, [])
    in_county = [(placed.key, placed.state) for placed in service_queries.placed_items(person_uuid=mother.uuid)]
    assert in_county == in_town
    assert [(key, state.result, dict(state.support)) for key, state in in_county] == [
        ("uuid:support-visit#1", "attended", {}), ("uuid:support-visit#2", None, {}),
        ("uuid:support-visit#3", None, {"outcome": "granted"})]
    db.session.rollback()


def test_a_decision_outside_the_accounts_area_is_refused_and_kept(county, towns, settled, tmp_path):
    qingshan, _ = towns
    head = Member("张伟", "male", "1970-01-02")
    qingshan.send("东村/第一组", household_visit(household="h-1", new=("001", "门牌"),
                                              start="2026-11-01T09:00:00.000+08:00", members=[head]))
    qingshan.merge()
    with qingshan.live.app.app_context():
        tiers = current_schedule().tier_names
        set_tier(principal_by_username("qingshan-office"), head.uuid, tiers[0], tiers=tiers, now=NOW)
        commit()
    replicator(qingshan, county, tmp_path / "state.json").run()
    merge_all(NOW)
    state = tmp_path / "state.json"
    wrong = Replicator(qingshan.live.url, county.url, state, source_auth=qingshan.auth(),
                       target_auth=HTTPDigestAuth("baishui-sync", "county-secret")).run()
    assert [message for _, message in wrong.decisions_refused] == [
        "您没有权限使用这个表单或资源。 / You may not use this form or resource. (only the village cadre or the town "
        "office of these records may change them)"]
    right = replicator(qingshan, county, state).run()
    assert (len(right.decisions_sent), right.decisions_refused) == (1, [])


def test_the_decision_api_refuses_bad_input_with_its_message(county, towns):
    qingshan, _ = towns
    url = f"{county.url}/api/v1/replication/decisions"
    auth = HTTPDigestAuth("qingshan-sync", "county-secret")
    not_json = requests.post(url, data=b"kind=set_tier", auth=auth, timeout=30)
    assert (not_json.status_code, not_json.json()["code"]) == (400, "400.0")
    unknown = requests.post(url, json={"uuid": "not-a-uuid", "kind": "fine", "subject": "x", "target": "",
                                       "decided_at": "2026-11-22T12:00:00+00:00"}, auth=auth, timeout=30)
    assert (unknown.status_code, unknown.json()["code"]) == (400, "400.0")
    assert "kind" in unknown.json()["message"] and "uuid" in unknown.json()["message"]
    waiting = requests.post(url, json={"uuid": "6f1c3c1e-0000-4000-8000-000000000001", "kind": "set_tier",
                                       "subject": "nobody", "target": "key", "after_instance_id": "uuid:not-here",
                                       "decided_at": "2026-11-22T12:00:00+00:00"}, auth=auth, timeout=30)
    assert (waiting.status_code, waiting.json()["code"]) == (409, "409.8")
    unknown_tier = requests.post(url, json={"uuid": "6f1c3c1e-0000-4000-8000-000000000002", "kind": "set_tier",
                                            "subject": "nobody", "target": "gold",
                                            "decided_at": "2026-11-22T12:00:00+00:00"}, auth=auth, timeout=30)
    assert (unknown_tier.status_code, unknown_tier.json()["code"]) == (409, "409.5")
    assert "unknown tier 'gold'" in unknown_tier.json()["message"]
    collector = requests.get(f"{qingshan.live.url}/api/v1/replication/decisions", timeout=30)
    assert collector.status_code == 401


def test_an_automatic_merge_the_town_undid_is_undone_on_the_county_too(county, towns, settled, tmp_path):
    """Both servers merge a near-certain duplicate by themselves (the same rule on the same visits); when the town
    office undoes the town's, the county undoes its own, and neither makes it again."""
    qingshan, _ = towns
    number = resident_id("1980-03-04", male=True)
    for household, member in (("h-1", Member("张伟", "male", "1980-03-04", id_number=number)),
                              ("h-2", Member("张伟", "male", "1980-03-04", id_number=number))):
        qingshan.send("东村/第一组", household_visit(household=household, new=(household[-1], "门牌"),
                                                  start="2026-11-01T09:00:00.000+08:00", members=[member]))
    qingshan.merge()
    state = tmp_path / "state.json"
    assert len(replicator(qingshan, county, state).run().sent) == 2
    merge_all(NOW)
    automatic = dict(db.session.execute(select(RegisterDecision.kind, RegisterDecision.decided_by)).all())
    assert automatic == {"merge_people": None}
    db.session.rollback()
    assert portable_snapshot() == qingshan.snapshot()
    assert replicator(qingshan, county, state).run().decisions_sent == []   # the town's own is not sent

    with qingshan.live.app.app_context():
        town_merge = db.session.scalar(select(RegisterDecision.id))
        undo_decision(principal_by_username("qingshan-office"), town_merge, now=clock.now())
        commit()
    assert len(replicator(qingshan, county, state).run().decisions_sent) == 1
    assert portable_snapshot() == qingshan.snapshot()
    assert len(db.session.scalars(select(Person)).all()) == 2
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "replication.undo_automatic_merge"))] == ["replication.undo_automatic_merge"]
    db.session.rollback()
    assert replicator(qingshan, county, state).run().decisions_sent == []   # undone once
