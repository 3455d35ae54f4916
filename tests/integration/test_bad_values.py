"""Bad values never answer 500 (issue 15, item 12): huge integers, years past 9999, NUL bytes and odd instanceIDs in
every field, argument, header and path of every route get a clear error in the channel's format, or are stored
safely; nothing is stored half-way, and what only the merge can see is kept raw without stalling the worker."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from requests.auth import HTTPDigestAuth
from sqlalchemy import select

from server.database import commit
from server.extensions import db
from server.register.models import Household, Person
from server.submissions.models import MergeQueueEntry
from server.users.operations import add_user
from sync import errors
from tests.collect import CollectClient
from tests.conftest import REALM, ROOT, merge_all, stored_attachments, stored_submissions
from tests.integration.test_hostile_input import (
    MULTIPART,
    assert_openrosa_error,
    blob_files,
    closed,
    part,
    post,
    xml_part,
)
from tests.register_visits import Member, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "bad-values-password-1"
HUGE = "99999999999999999999"
HOSTILE = {
    "huge": HUGE, "huge-negative": "-" + HUGE, "400-digits": "9" * 400, "year-10000": "10000-01-01",
    "datetime-year-10000": "10000-01-01T00:00:00+08:00", "last-day-west-of-utc": "9999-12-31T23:59:59-12:00",
    "first-day-east-of-utc": "0001-01-01T00:00:00+14:00", "year-9999": "9999-12-31", "month-99999": "99999-01",
    "nul": "\x00", "nul-inside": "a\x00b", "nan": "NaN", "infinity": "Infinity", "exponent": "1e400",
    "slash": "a/b", "dotdot": "..",
}
# Every query argument and form field a route of taizhang reads.
NAMES = ["q", "area", "as_of", "status", "month", "after", "limit", "undone_since", "next", "formID", "deviceID",
         "action", "keep", "back", "value", "other", "state", "comment", "group_id", "collector", "since", "until",
         "username", "password", "display_name", "role", "current_password", "new_password", "confirm_password"]


@dataclass
class World:
    url: str
    server: object
    staff: WebClient            # the county administrator, signed in
    phone: CollectClient        # a collector on the token URL
    digest: CollectClient       # the same collector with user name and password at the root URL
    token: str


@pytest.fixture
def world(server, create_collector, publish) -> World:
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    publish(XLSFORMS / "followup.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    collector = create_collector()
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    staff = WebClient(server.url)
    assert staff.sign_in("county", PASSWORD).status_code == 302
    return World(server.url, server, staff,
                 server.client(token=collector.token), server.client(collector.username, collector.password),
                 collector.token)


def queue() -> list[tuple[int, int]]:
    rows = [(entry.submission_id, entry.attempts) for entry in db.session.scalars(select(MergeQueueEntry))]
    db.session.rollback()
    return rows


def channel_of(response: requests.Response, path: str) -> str:
    if path.startswith("/key/") or "X-OpenRosa-Version" in response.request.headers:
        return "openrosa"
    return "json" if path.startswith("/api/") else "text"


def assert_clear(response: requests.Response, path: str) -> None:
    """Not a server error, and in the channel's own format."""
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    kind = channel_of(response, path)
    if response.status_code >= 400:
        expected = {"openrosa": ["text/xml; charset=utf-8"], "json": ["application/json"],
                    "text": ["text/plain; charset=utf-8", "text/html; charset=utf-8"]}[kind]  # a page or a message
        assert response.headers["Content-Type"] in expected, (path, response.headers["Content-Type"])


def routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, rule, variables) of every route but static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) or ["HEAD"]:
            found.append((method, rule.rule, sorted(rule.arguments)))
    return sorted(found)


def rule_is_openrosa(app, rule: str) -> bool:
    return any(r.rule == rule and r.endpoint.startswith("openrosa") for r in app.url_map.iter_rules())


def fill(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda match: quote(values[match.group(1)], safe=""), rule)


def test_every_route_answers_every_hostile_value_without_a_server_error(world, server):
    sent = 0
    for method, rule, variables in routes(server.app):
        for value in HOSTILE.values():
            path_values = {name: (world.token if name == "token" else value) for name in variables}
            path = fill(rule, path_values)
            arguments = {name: value for name in NAMES}
            if rule_is_openrosa(server.app, rule):
                response = world.digest.request(method, world.url + path, params=arguments, data=arguments)
            elif method == "GET":
                response = world.staff.session.get(world.url + path, params=arguments, timeout=30)
            elif method == "HEAD":
                response = world.staff.session.head(world.url + path, params=arguments, timeout=30)
            else:
                response = world.staff.post(path, arguments, allow_redirects=False)
            assert_clear(response, path)
            sent += 1
    assert sent > 300


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_api_answers_hostile_arguments_in_json(world, value):
    for path in ("/api/v1/replication/submissions", "/api/v1/replication/decisions", "/api/v1/due"):
        for name in ("after", "limit", "undone_since", "as_of", "area", "status"):
            response = world.staff.get(path, params={name: value})
            assert_clear(response, path)
    response = requests.post(f"{world.url}/api/v1/replication/decisions", auth=HTTPDigestAuth("county", PASSWORD),
                             timeout=30, json={
        "uuid": str(uuid.uuid4()), "kind": "set_tier", "subject": value, "target": value, "field": value,
        "after_instance_id": value, "decided_at": value, "undone_at": value})
    assert response.status_code == 400, response.text
    assert response.json()["code"].startswith("400.")


def test_a_nul_in_the_device_id_is_refused_in_openrosa_and_nothing_is_stored(world):
    before = stored_submissions(), blob_files_now(world)
    phone = CollectClient(world.phone.base, device_id="collect:\x00")
    response = phone.post_submission(visit("uuid:" + str(uuid.uuid4())))
    assert_openrosa_error(response, 400, errors.NulCharacter, "deviceID")
    assert (stored_submissions(), blob_files_now(world)) == before
    assert world.phone.submit(visit("uuid:" + str(uuid.uuid4()))).status_code == 201


@pytest.mark.parametrize("header", ["User-Agent", "X-Anything", "Date"])
def test_a_nul_in_a_header_is_refused(world, header):
    before = stored_submissions()
    response = world.phone.request(
        "POST", f"{world.phone.base}/submission", headers={header: "a\x00b"},
        files=[("xml_submission_file", ("submission.xml", visit("uuid:" + str(uuid.uuid4())), "text/xml"))])
    assert_openrosa_error(response, 400, errors.NulCharacter, header)
    assert stored_submissions() == before


def test_a_nul_written_as_an_escape_in_a_quoted_cookie_is_refused(world):
    # The raw header holds no NUL: the cookie's parser makes one of the escape.
    before = stored_submissions()
    response = world.phone.request(
        "POST", f"{world.phone.base}/submission", headers={"Cookie": 'note="a\\000b"'},
        files=[("xml_submission_file", ("submission.xml", visit("uuid:" + str(uuid.uuid4())), "text/xml"))])
    assert_openrosa_error(response, 400, errors.NulCharacter, "note")
    assert stored_submissions() == before


def test_a_nul_in_a_staff_form_and_a_search_is_a_page_in_the_users_language(world):
    response = world.staff.get("/search", params={"q": "王\x00"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == f"{errors.NulCharacter.message_zh} / {errors.NulCharacter.message_en} (q)\n"


@pytest.mark.parametrize("instance_id", ["uuid:a/b", "uuid:../x", "..", ".", "uuid:a\\b", "uuid:a b",
                                         "uuid:a\tb", "uuid:\u200b"])
def test_an_instance_id_that_is_not_a_plain_identifier_is_refused_at_intake(world, instance_id):
    before = stored_submissions()
    response = world.phone.post_submission(visit(instance_id))
    assert_openrosa_error(response, 400, errors.InstanceIdInvalid)
    assert stored_submissions() == before


def test_a_deprecated_id_with_a_slash_is_refused_at_intake(world):
    original = "uuid:" + str(uuid.uuid4())
    assert world.phone.submit(visit(original)).status_code == 201
    before = stored_submissions()
    response = world.phone.post_submission(visit("uuid:" + str(uuid.uuid4()), deprecated_id="uuid:x/../" + original))
    assert_openrosa_error(response, 400, errors.InstanceIdInvalid)
    assert stored_submissions() == before


def visit(instance_id: str, **kwargs) -> bytes:
    return household_visit(household=str(uuid.uuid4()), new=("001", "东村一组1号"), instance_id=instance_id,
                           start="2026-11-01T09:00:00.000+08:00",
                           members=[Member("王秀英", "female", "1975-05-06")], **kwargs)


def blob_files_now(world) -> list[str]:
    return blob_files(world.server)


@pytest.mark.parametrize("change", [
    {"base_version": int(HUGE)},
    {"base_version": int("9" * 400)},
    {"base_version": -int(HUGE)},
    {"start": "10000-01-01T09:00:00.000+08:00"},
    {"start": "9999-12-31T23:59:59.000-12:00"},
    {"members": [Member("王秀英", "female", "10000-01-01")]},
    {"members": [Member("王秀英", "female", "9999-12-31")]},
    {"members": [Member("王秀英", "female", "0001-01-01")]},
    {"postpartum": ("P", "10000-01-01")},
    {"postpartum": ("P", "9999-12-31")},
    {"supplies": [("p" * 500, "x" * 500, "9" * 400, "yes"), ("", "folic_acid", HUGE, "maybe")]},
    {"support": {"needs": ("family_benefit",), "benefit_kind": "b" * 300, "person": "q" * 300,
                 "details": "长" * 20000}, "next_visit": "10000-01-01", "location": "1e999 -1e999 nan inf"},
], ids=["base-version-20-digits", "base-version-400-digits", "base-version-negative", "start-year-10000",
        "start-last-instant", "birth-year-10000", "birth-9999-12-31", "birth-year-1", "postpartum-year-10000",
        "postpartum-9999-12-31", "supplies-huge-and-long", "support-long-and-odd-closing"])
def test_huge_numbers_and_odd_dates_in_a_visit_are_stored_and_never_stall_the_merge(world, server, change):
    """Stored raw (the phone's data is never refused for a value), then merged or kept raw, and the worker moves
    on: the queue is empty, nothing failed, and the register's pages still answer."""
    household = str(uuid.uuid4())
    members = change.pop("members", [Member("王秀英", "female", "1975-05-06")])
    if "postpartum" in change:
        change["postpartum"] = (members[0].uuid, change["postpartum"][1])
    new = None if "base_version" in change else ("001", "东村一组1号")
    xml = household_visit(household=household, new=new, members=members if new else [],
                          start=change.pop("start", "2026-11-01T09:00:00.000+08:00"), **change)
    assert world.phone.submit(xml).status_code == 201
    merge_all()
    assert queue() == []
    for path in ("/inbox", "/due", "/api/v1/due", "/search?q=王", f"/households/{household}",
                 f"/people/{members[0].uuid}", "/reports/register.xlsx", "/reports/coverage.xlsx",
                 "/duplicates", "/conflicts"):
        assert_clear(world.staff.get(path), path)
    submission_ids = [row["id"] for row in stored_submissions()]
    for submission_id in submission_ids:
        assert_clear(world.staff.get(f"/visits/{submission_id}"), "/visits")
    second = household_visit(household=str(uuid.uuid4()), new=("002", "东村一组2号"),
                             start="2026-11-02T09:00:00.000+08:00", members=[Member("李明", "male", "1970-01-01")])
    assert world.phone.submit(second).status_code == 201
    assert merge_all() == 1   # the worker is not stuck on the odd one
    assert [h.household_no for h in db.session.scalars(select(Household).where(Household.household_no == "002"))] \
        == ["002"]
    assert db.session.scalars(select(Person).where(Person.name == "李明")).one()
    db.session.rollback()


def test_a_file_part_without_a_name_is_ignored_and_leaves_no_blob(world):
    """A multipart part with filename="" (an empty file input) is not an attachment: the submission is stored and
    no file is kept for it."""
    before = blob_files_now(world)
    instance_id = "uuid:" + str(uuid.uuid4())
    body = closed(xml_part(visit(instance_id)), part("photo", b"\xff\xd8unnamed", filename=""),
                  part("other", b"\xff\xd8no-filename-at-all", filename=None, content_type="image/jpeg"))
    response = post(world.phone, MULTIPART, body)
    assert response.status_code == 201, response.text
    assert stored_submissions()[-1]["instance_id"] == instance_id
    assert stored_attachments() == []
    assert blob_files_now(world) == before


def test_a_file_the_form_does_not_take_leaves_no_blob(world):
    """A file whose name appears in the XML, but not in one of the form's file fields, is not kept."""
    before = blob_files_now(world)
    xml = visit("uuid:" + str(uuid.uuid4())).replace("王秀英".encode(), b"note.jpg")
    response = post(world.phone, MULTIPART, closed(xml_part(xml), part("note.jpg", b"\xff\xd8note",
                                                                       filename="note.jpg")))
    assert response.status_code == 201, response.text
    assert blob_files_now(world) == before
