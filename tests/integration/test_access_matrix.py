"""Access matrix: every route of the app × every role × a resource of the user's own area or of another area →
the status the scope rule calls for (every screen and export scoped to the user's role and area; collectors use
OpenRosa only). A route without a row fails the test."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from requests.auth import HTTPDigestAuth
from sqlalchemy import select

from server.archive.operations import keep
from server.areas.operations import ensure_area, find_area
from server.database import commit
from server.extensions import db
from server.forms.operations import publish_form
from server.notices.operations import take_notice
from server.rechecks.operations import draw_sample
from server.register.decisions import resolve_conflict
from server.register.models import DuplicateCandidate, RegisterConflict
from server.register.worker import merge_next
from server.storage import blob_store
from server.submissions.models import Submission
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.notices import Notice, notice_to_json
from tests.collect import CollectClient
from tests.conftest import FIXTURES, REALM, ROOT, empty_tables
from tests.register_visits import VISIT_FORM_VERSION, Member, household_visit
from tests.submission_xml import JAVAROSA_DECLARATION, E, plain_submission, submission_bytes, submission_root
from tests.web import WebClient

ROLES = ("anonymous", "collector", "village_cadre", "town_officer", "county_admin")
PLACES = ("own", "other")
GROUP = {"own": "青山镇/东村/第一组", "other": "白水镇/南村/第一组"}
VILLAGE = {"own": "青山镇/东村", "other": "白水镇/南村"}
TOWN = {"own": "青山镇", "other": "白水镇"}
STAFF_AREA = {"village_cadre": VILLAGE["own"], "town_officer": TOWN["own"], "county_admin": None}
PASSWORD = "matrix-password-1"
MONTH = "2026-10"
RECHECK_MONTH = "2026-09"   # the month the world's re-check samples are drawn for (MONTH's are drawn by the cells)
CONFLICT_USERS = ("village_cadre", "town_officer", "county_admin", "spare")
"""Each of these has its own conflict and its own decision in each place, so that changing one does not change
what another cell finds (the 'spare' ones are those every refused cell asks for)."""


@dataclass
class Place:
    household: str
    person: str
    visit: int                       # a submission id
    instance_id: str                 # that submission's instanceID
    candidate: int                   # an open duplicate pair (person)
    conflicts: dict[str, int]        # per CONFLICT_USERS
    decisions: dict[str, int]        # per CONFLICT_USERS (set_field decisions, not undone)


@dataclass
class World:
    url: str
    places: dict[str, Place]
    web: dict[str, WebClient]                    # per role: signed-in staff; anonymous and collector are not
    digest: dict[str, CollectClient]             # per role, at the root URL (anonymous: no credentials)
    token: dict[str, CollectClient]              # per role, on the user's token URL (anonymous: a made-up token)
    paths: dict[str, str]                        # per place: the group's area path
    villages: dict[str, int] = field(default_factory=dict)    # per place: the village's id


def _area_form(form_id: str, area: str, blobs) -> None:
    """visit_with_media (logo.png and the generated households.csv), as a form of one area under its own id."""
    text = (FIXTURES / "forms" / "visit_with_media.xml").read_text(encoding="utf-8").replace(
        'id="visit_with_media"', f'id="{form_id}"')
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{form_id}.xml"
        path.write_text(text, encoding="utf-8")
        publish_form(path, blobs, media=[FIXTURES / "forms" / "logo.png", FIXTURES / "forms" / "households.csv"],
                     validate=False, area=area)


def _registration(place: str) -> str:
    return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{place}/registration')}"


def _place_data(phone: CollectClient, place: str) -> None:
    """A household with a person who has a near-duplicate in a second household, and members whose phone
    number two visits changed differently (one conflict each)."""
    number = "101" if place == "own" else "909"
    household, second = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/{name}")) for name in ("h1", "h2"))
    person = Member("王秀英", "female", "1975-05-06", uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/p")))
    twin = Member("王秀瑛", "female", "1975-05-06")
    conflicted = [Member(f"成员{index}", "male", f"19{60 + index}-01-0{index + 1}",
                         uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/c{index}")), relationship="child")
                  for index in range(2 * len(CONFLICT_USERS))]
    submissions = [household_visit(household=household, new=(number, f"{number}号"), members=[person, *conflicted],
                                   start="2026-10-01T09:00:00.000+08:00", instance_id=_registration(place)),
                   household_visit(household=second, new=(f"{number}2", "二号"), members=[twin],
                                   start="2026-10-01T10:00:00.000+08:00")]
    for hour, prefix in ((11, "1380000"), (12, "1390000")):
        submissions.append(household_visit(
            household=household, base_version=1, start=f"2026-10-02T{hour}:00:00.000+08:00",
            updates=[dict(person_uuid=member.uuid, base_version=1, change="details_corrected",
                          phone_now=f"{prefix}{index:04d}") for index, member in enumerate(conflicted)]))
    submissions.append(_service_visit(place, household, person.uuid))
    for xml in submissions:
        assert phone.post_submission(xml).status_code == 201


def _service_visit(place: str, household: str, person: str) -> bytes:
    """A visit that hands out supplies (an absurd quantity: flagged), refers the woman to antenatal care and notes
    a family benefit request: items 1 (supply), 2 (referral), 4 (support request) of `_service_instance(place)`."""
    start = "2026-10-03T09:00:00.000+08:00"
    root = submission_root(
        "household_visit", VISIT_FORM_VERSION, E.start(start), E.end(start), E.today(start[:10]),
        E.household_choice(E.mode("existing"), E.household(household)), E.household_uuid(household),
        E.household_base_version("1"), E.outcome_group(E.outcome("completed"), E.consent("yes")), E.recording("yes"),
        E.service_needs("pregnancy_reported supplies family_benefit"),
        E.pregnancy(E.pregnant_person(person), E.pregnancy_consent("yes"), E.antenatal_referral("yes")),
        E.supplies(E.supply(E.item("folic_acid"), E.quantity("5000"), E.given("yes"))),
        E.support(E.support_details("奖励扶助")), E.closing(), E.meta(E.instanceID(_service_instance(place))))
    return submission_bytes(root, JAVAROSA_DECLARATION)


def _service_instance(place: str) -> str:
    return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{place}/services')}"


def _place(place: str) -> Place:
    household = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/h1"))
    person = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/p"))
    members = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/c{index}")) for index in range(2 * len(CONFLICT_USERS))]
    conflicts = {row.record_uuid: row.id for row in db.session.scalars(select(RegisterConflict).where(
        RegisterConflict.record_uuid.in_(members), RegisterConflict.field == "phone"))}
    assert len(conflicts) == len(members)
    admin = principal_by_username("county_admin")
    decisions = {}
    for user, member in zip(CONFLICT_USERS, members[len(CONFLICT_USERS):]):
        decisions[user] = resolve_conflict(admin, conflicts[member], "13700000000")
    commit()
    (candidate,) = db.session.scalars(select(DuplicateCandidate.id).where(
        DuplicateCandidate.record_kind == "person", DuplicateCandidate.state == "open",
        (DuplicateCandidate.a_uuid == person) | (DuplicateCandidate.b_uuid == person)))
    visit = db.session.scalar(select(Submission.id).where(Submission.instance_id == _registration(place)))
    db.session.rollback()  # end the read (a SQLite transaction here would hold the server's requests up)
    return Place(household=household, person=person, visit=visit, instance_id=_registration(place),
                 candidate=candidate,
                 conflicts={user: conflicts[member] for user, member in zip(CONFLICT_USERS, members)},
                 decisions=decisions)


@pytest.fixture(scope="module")
def world(live_server):
    """Two places (a group in 青山镇 and one in 白水镇) with forms, register records, conflicts, decisions and
    duplicates; users of every role tied to the first; set up once per backend."""
    with live_server.app.app_context():
        empty_tables(live_server.backend)
        blobs = blob_store()
        publish_form(ROOT / "xlsforms" / "household_visit.xlsx", blobs,
                     media=list((ROOT / "xlsforms" / "fixtures").glob("*.csv")), validate=False)
        for place in PLACES:
            ensure_area(GROUP[place])
            _area_form(f"form_{place}", VILLAGE[place], blobs)
        tokens = {}
        users = [("collector", "collector", GROUP["own"]), ("collector_other", "collector", GROUP["other"]),
                 *((role, role, STAFF_AREA[role]) for role in STAFF_AREA),
                 *((f"spare_{use}_{place}", "collector", GROUP[place]) for use in ("token", "revoke", "activate")
                   for place in PLACES)]
        for username, role, area in users:
            created = add_user(username, role, area, realm=REALM, password=PASSWORD, with_token=True)
            tokens[username] = created.token
        commit()
        url = live_server.url
        for place, username in (("own", "collector"), ("other", "collector_other")):
            _place_data(CollectClient(f"{url}/key/{tokens[username]}"), place)
        while merge_next() is not None:
            commit()
        commit()
        places = {place: _place(place) for place in PLACES}
        web = {role: WebClient(url) for role in ROLES}
        for role in STAFF_AREA:
            assert web[role].sign_in(role, PASSWORD).status_code == 302
        web["collector"].session.auth = HTTPDigestAuth("collector", PASSWORD)   # all a collector has
        digest = {role: CollectClient(url, *((role, PASSWORD) if role != "anonymous" else ())) for role in ROLES}
        token = {role: CollectClient(f"{url}/key/{tokens.get(role, 'made-up-token-' + 'x' * 20)}") for role in ROLES}
        paths = {place: find_area(GROUP[place]).path for place in PLACES}
        villages = {place: find_area(VILLAGE[place]).id for place in PLACES}
        for place in PLACES:   # each village's re-check sample of RECHECK_MONTH: every household
            draw_sample(principal_by_username("county_admin"), villages[place], dt.date.fromisoformat(
                f"{RECHECK_MONTH}-01"), 100)
        commit()
        db.session.rollback()
        yield World(url, places, web, digest, token, paths, villages)
        db.session.remove()


# ---- the rows ----------------------------------------------------------------------------------------------------

Call = Callable[[World, str, str], requests.Response]   # (world, role, place) → response


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    call: Call
    expected: dict[str, tuple[int, int]]   # role → (own, other)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}{' ' + self.label if self.label else ''}"


def statuses(anonymous, collector, village_cadre, town_officer, county_admin) -> dict[str, tuple[int, int]]:
    """Expected statuses per role; a number means the same for own and other."""
    given = dict(anonymous=anonymous, collector=collector, village_cadre=village_cadre, town_officer=town_officer,
                 county_admin=county_admin)
    return {role: value if isinstance(value, tuple) else (value, value) for role, value in given.items()}


def openrosa(path: Callable[[World, str], str], method: str = "GET", *, via: str = "digest",
             body: Callable[[World, str], bytes] | None = None) -> Call:
    """An OpenRosa request as Collect makes it: Digest at the root URL, or the user's token URL."""
    def call(world: World, role: str, place: str) -> requests.Response:
        client = (world.digest if via == "digest" else world.token)[role]
        if method == "POST":
            return client.post_submission(body(world, place))
        return client.request(method, client.base + path(world, place))
    return call


def page(path: Callable[[World, str], str], method: str = "GET", data: Callable[[World, str, str], dict] | None = None
         ) -> Call:
    """A web request with the role's browser session (and a valid CSRF token for POSTs)."""
    def call(world: World, role: str, place: str) -> requests.Response:
        client = world.web[role]
        if method == "POST":
            return client.post(path(world, place), data(world, role, place) if data else {}, allow_redirects=False)
        return client.get(path(world, place), allow_redirects=False)
    return call


def fresh_session(path: str) -> Call:
    """A POST from a session of its own (signing out must not end the session the other cells use)."""
    def call(world: World, role: str, place: str) -> requests.Response:
        client = WebClient(world.url)
        if role in STAFF_AREA:
            assert client.sign_in(role, PASSWORD).status_code == 302
        return client.post(path, {}, allow_redirects=False)
    return call


def form_path(suffix: str) -> Callable[[World, str], str]:
    return lambda world, place: f"/forms/form_{place}/versions/3/{suffix}"


def submission(world: World, place: str) -> bytes:
    return plain_submission(f"form_{place}", "3", f"uuid:{uuid.uuid4()}", {"household": "x"})


def same(path: str) -> Callable[[World, str], str]:
    return lambda world, place: path


def spare(use: str) -> Callable[[World, str], str]:
    return lambda world, place: f"/collectors/spare_{use}_{place}/{use}"


def own_decider(role: str) -> str:
    """A role changing its own area's records uses its own conflict or decision; refused cells use the spare."""
    return role if role in CONFLICT_USERS else "spare"


def conflict_path(world: World, role: str, place: str) -> str:
    return f"/conflicts/{world.places[place].conflicts[own_decider(role)]}"


def undo_path(world: World, role: str, place: str) -> str:
    return f"/decisions/{world.places[place].decisions[own_decider(role)]}/undo"


def by_role(path: Callable[[World, str, str], str], data: dict | None = None) -> Call:
    """A POST to a path that depends on the role (its own conflict or decision)."""
    def call(world: World, role: str, place: str) -> requests.Response:
        return world.web[role].post(path(world, role, place), dict(data or {}), allow_redirects=False)
    return call


def service_item(path: str, seq: int, data: Callable[[], dict]) -> Call:
    """A post about one service item of the place (its key, the form's values)."""
    def call(world: World, role: str, place: str) -> requests.Response:
        return world.web[role].post(path, {"key": f"{_service_instance(place)}#{seq}", "back": "/inbox", **data()},
                                    allow_redirects=False)
    return call


def group_id(world: World, place: str) -> str:
    """The id of the place's group (the last step of its area path)."""
    return world.paths[place].strip("/").split("/")[-1]


def report(name: str, area: dict[str, str]) -> Callable[[World, str], str]:
    return lambda world, place: f"/reports/{name}?area={area[place]}&month={MONTH}"


LOGIN = 302   # to the sign-in page (checked in the test)


def full_form(world, role, place) -> dict:
    """An export asked for with ID numbers and phones in full, and why."""
    return {"full": "1", "reason": "核对联系方式"}


def month_path(month: str, action: str = "") -> Callable[[World, str], str]:
    """A village's month (the place's village, by its id: the step before the group's in its path)."""
    return lambda world, place: (f"/months/{world.paths[place].strip('/').split('/')[-2]}/{month}"
                                 + (f"/{action}" if action else ""))


_ARCHIVED: dict[tuple[str, str], int] = {}


def archived(world: World, place: str) -> str:
    """An archived report of the place's village (archived once per server, for the download's cells)."""
    if (world.url, place) not in _ARCHIVED:
        report = keep(principal_by_username("county_admin"), "monthly_change", find_area(VILLAGE[place]),
                      dt.date(2026, 8, 1), dt.date(2026, 8, 31), "月变更报告单.xlsx", b"archived", {})
        _ARCHIVED[world.url, place] = report.id
        commit()
    return f"/archive/{_ARCHIVED[world.url, place]}/download"


def replicated_post(world: World, role: str, place: str) -> requests.Response:
    """A submission replicated from a town server into the place's group (Digest only, as a program sends it)."""
    return requests.post(f"{world.url}/api/v1/replication/submissions", params={
        "area": GROUP[place], "collector": "town-collector", "received_at": "2026-11-20T09:00:00+08:00"},
        files={"xml_submission_file": ("submission.xml", submission(world, place), "text/xml")},
        auth=HTTPDigestAuth(role, PASSWORD) if role != "anonymous" else None, timeout=30)

def replicated_decision(world: World, role: str, place: str) -> requests.Response:
    """A town's decision (no tier for the place's person) replicated to this server (Digest only)."""
    return requests.post(f"{world.url}/api/v1/replication/decisions", json={
        "uuid": str(uuid.uuid4()), "kind": "set_tier", "subject": world.places[place].person, "target": "",
        "decided_at": "2026-11-20T09:00:00+08:00"},
        auth=HTTPDigestAuth(role, PASSWORD) if role != "anonymous" else None, timeout=30)


def service_notice(place: str, uuid_: str | None = None) -> Notice:
    """A service notice from 红石镇 to the place's town."""
    return Notice(uuid_ or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/notice")), "红石镇", False, TOWN[place],
                  False, "王秀英", "female", dt.date(1975, 5, 6), None, "某地 1 号", None, "supplies", None,
                  dt.date(2026, 12, 31), dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc), "红石镇计生办")


_NOTICES: set[tuple[str, str]] = set()


def notice_path(suffix: str = "") -> Callable[[World, str], str]:
    """A notice to the place's town (taken in once per server, for the notice's cells)."""
    def path(world: World, place: str) -> str:
        if (world.url, place) not in _NOTICES:
            take_notice(principal_by_username("county_admin"), service_notice(place), source="file")
            commit()
            _NOTICES.add((world.url, place))
        return f"/notices/{service_notice(place).uuid}{suffix}"
    return path


def replicated_notice(world: World, role: str, place: str) -> requests.Response:
    """A notice sent from the place's town to 红石镇, replicated to this server (Digest only)."""
    sent = dataclasses.replace(service_notice(place, str(uuid.uuid4())), from_place=TOWN[place], to_place="红石镇")
    return requests.post(f"{world.url}/api/v1/replication/notices", json=notice_to_json(sent),
                         auth=HTTPDigestAuth(role, PASSWORD) if role != "anonymous" else None, timeout=30)


def recheck_path(suffix: str, month: str = MONTH) -> Callable[[World, str], str]:
    return lambda world, place: f"/rechecks/{world.villages[place]}/{month}{suffix}"


def _second_household(place: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{place}/h2"))


def rechecked(world: World, role: str, place: str) -> requests.Response:
    """A household of the place's sample re-checked, every member found as registered (the town office its first
    household, the county its second: each records once)."""
    household = world.places[place].household if role == "town_officer" else _second_household(place)
    path = recheck_path(f"/households/{household}", RECHECK_MONTH)(world, place)
    members = re.findall(r'name="(found-[^"]+)" value="1"', world.web["county_admin"].get(path).text)
    return world.web[role].post(path, {"checked_on": f"{RECHECK_MONTH}-15", **dict.fromkeys(members, "1")},
                                allow_redirects=False)


ROWS = [
    # OpenRosa, with Digest at the root URL. Staff authenticate but fill no collector form.
    Row("openrosa.form_list", "GET", openrosa(same("/formList")), statuses(401, 200, 200, 200, 200)),
    Row("openrosa.form_xml", "GET", openrosa(form_path("form.xml")), statuses(401, (200, 404), 404, 404, 404)),
    Row("openrosa.form_manifest", "GET", openrosa(form_path("manifest")), statuses(401, (200, 404), 404, 404, 404)),
    Row("openrosa.form_media", "GET", openrosa(form_path("media/logo.png")),
        statuses(401, (200, 404), 404, 404, 404), "logo.png"),
    Row("openrosa.form_media", "GET", openrosa(form_path("media/households.csv")),
        statuses(401, (200, 404), 404, 404, 404), "generated households.csv"),
    Row("openrosa.submission_head", "HEAD", openrosa(same("/submission"), "HEAD"), statuses(401, 204, 204, 204, 204)),
    Row("openrosa.submission_post", "POST", openrosa(same("/submission"), "POST", body=submission),
        statuses(401, (201, 403), 403, 403, 403)),
    # The same on token URLs (anonymous: a made-up token).
    Row("openrosa_token.form_list", "GET", openrosa(same("/formList"), via="token"), statuses(403, 200, 200, 200, 200)),
    Row("openrosa_token.form_xml", "GET", openrosa(form_path("form.xml"), via="token"),
        statuses(403, (200, 404), 404, 404, 404)),
    Row("openrosa_token.form_manifest", "GET", openrosa(form_path("manifest"), via="token"),
        statuses(403, (200, 404), 404, 404, 404)),
    Row("openrosa_token.form_media", "GET", openrosa(form_path("media/households.csv"), via="token"),
        statuses(403, (200, 404), 404, 404, 404), "generated households.csv"),
    Row("openrosa_token.submission_head", "HEAD", openrosa(same("/submission"), "HEAD", via="token"),
        statuses(403, 204, 204, 204, 204)),
    Row("openrosa_token.submission_post", "POST", openrosa(same("/submission"), "POST", via="token", body=submission),
        statuses(403, (201, 403), 403, 403, 403)),
    # Signing in and out, the language, static files: the same for everyone.
    Row("accounts.home", "GET", page(same("/")), statuses(LOGIN, LOGIN, 302, 302, 302)),
    Row("home.home_page", "GET", page(same("/home")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("accounts.login_form", "GET", page(same("/login")), statuses(200, 200, 200, 200, 200)),
    Row("accounts.login", "POST", page(same("/login"), "POST", lambda world, role, place: {
        "username": "nobody", "password": "wrong-password"}), statuses(401, 401, 401, 401, 401), "wrong password"),
    Row("accounts.logout", "POST", fresh_session("/logout"), statuses(302, 302, 302, 302, 302)),
    Row("accounts.language", "GET", page(same("/language/en")), statuses(302, 302, 302, 302, 302)),
    Row("static", "GET", page(same("/static/none.css")), statuses(404, 404, 404, 404, 404)),
    Row("accounts.password", "GET", page(same("/account/password")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("accounts.password", "POST", page(same("/account/password"), "POST", lambda world, role, place: {
        "current": "not-the-password", "new": "another-password-2"}), statuses(LOGIN, LOGIN, 400, 400, 400),
        "wrong current password"),
    # Register pages: the reader's area only.
    Row("register.inbox", "GET", page(same("/inbox")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("register.search", "GET", page(same("/search?q=王秀英")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("register.duplicates", "GET", page(same("/duplicates")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("register.conflicts", "GET", page(same("/conflicts")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("register.person", "GET", page(lambda world, place: f"/people/{world.places[place].person}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("register.household", "GET", page(lambda world, place: f"/households/{world.places[place].household}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("register.visit", "GET", page(lambda world, place: f"/visits/{world.places[place].visit}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("register.review", "POST", page(lambda world, place: f"/visits/{world.places[place].visit}/review", "POST",
                                        lambda world, role, place: {"state": "approved"}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    # Deciding a pair: the area is checked before the choice (a record outside the pair: 409, nothing changes).
    Row("register.decide_duplicate", "POST", page(
        lambda world, place: f"/duplicates/{world.places[place].candidate}", "POST",
        lambda world, role, place: {"action": "merge", "keep": "not-one-of-the-pair"}),
        statuses(LOGIN, LOGIN, (409, 403), (409, 403), 409)),
    Row("register.settle_conflict", "POST", by_role(conflict_path, data={"value": "13600000000"}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    Row("register.undo", "POST", by_role(undo_path), statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    # Undo from a message: "not the same" (the pair is open: said on the page) and a review (put back as approved).
    Row("register.undo_distinct_view", "POST", page(
        lambda world, place: f"/duplicates/{world.places[place].candidate}/reopen", "POST"),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    Row("register.undo_review_view", "POST", page(lambda world, place: f"/visits/{world.places[place].visit}/review/undo",
                                                  "POST", lambda world, role, place: {"state": "approved"}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    # Register corrections, tiers and new members from the web: staff, each within their area.
    Row("corrections.correct_person", "GET", page(lambda world, place: f"/people/{world.places[place].person}/correct"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("corrections.correct_field", "GET", page(
        lambda world, place: f"/people/{world.places[place].person}/correct/phone"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("corrections.correct_field", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/correct/phone", "POST",
        lambda world, role, place: {"value": f"136{uuid.uuid4().int % 10 ** 8:08d}", "note": ""}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    Row("corrections.set_tier", "GET", page(lambda world, place: f"/people/{world.places[place].person}/tier"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("corrections.set_tier", "POST", page(lambda world, place: f"/people/{world.places[place].person}/tier", "POST",
                                             lambda world, role, place: {"tier": "key", "note": ""}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    Row("corrections.new_member", "GET", page(
        lambda world, place: f"/households/{world.places[place].household}/members/new"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("corrections.new_member", "POST", page(
        lambda world, place: f"/households/{world.places[place].household}/members/new", "POST",
        lambda world, role, place: {"event": "registered", "name": "新成员", "sex": "female",
                                    "birth_date": "1990-01-01", "relationship": "child", "id_number": "", "phone": "",
                                    "residence": "here", "hukou": "here", "note": ""}),
        statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    # A person's consent withdrawn (sync/consent.py): the form of a person of the reader's area; a day to come is
    # refused with the form again (400, nothing recorded).
    Row("corrections.withdraw_consent", "GET", page(lambda world, place: f"/people/{world.places[place].person}/consent"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("corrections.withdraw_consent", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/consent", "POST",
        lambda world, role, place: {"day": "2199-01-01", "note": "", "confirm": "yes"}),
        statuses(LOGIN, LOGIN, (400, 403), (400, 403), 400)),
    # People who move (docs/moves.md): the moves page of the reader's area; a move out of a person of it (an unknown
    # destination: the form again with why, 404, nothing recorded); an arrival confirmed into a household of it (the
    # person is not expected there: 409, nothing changed).
    Row("moves.moves_page", "GET", page(same("/moves")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("moves.record_move", "GET", page(lambda world, place: f"/people/{world.places[place].person}/move"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("moves.record_move", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/move", "POST",
        lambda world, role, place: {"destination": "青山镇/没有这个村", "place": "", "day": "2026-11-01"}),
        statuses(LOGIN, LOGIN, (404, 403), (404, 403), 404)),
    Row("moves.confirm_arrival", "POST", page(
        lambda world, place: f"/moves/arrivals/{world.places[place].person}", "POST",
        lambda world, role, place: {"household": world.places[place].household, "day": "2026-11-01"}),
        statuses(LOGIN, LOGIN, (409, 403), (409, 403), 409)),
    # A person's own copy (issue 21): staff of the area the person lives in; another area's person is refused before
    # anything is read or recorded (a request without the requester's name: 400; a request id not the person's: 404).
    Row("copies.copies", "GET", page(lambda world, place: f"/people/{world.places[place].person}/copies"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("copies.record_request", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/copies", "POST",
        lambda world, role, place: {"requester": "self", "requested_by": "", "day": "2026-11-01", "format": "pdf"}),
        statuses(LOGIN, LOGIN, (400, 403), (400, 403), 400)),
    Row("copies.produce", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/copies/999999/produce", "POST"),
        statuses(LOGIN, LOGIN, (404, 403), (404, 403), 404)),
    Row("copies.hand_over", "POST", page(
        lambda world, place: f"/people/{world.places[place].person}/copies/999999/handover", "POST"),
        statuses(LOGIN, LOGIN, (404, 403), (404, 403), 404)),
    # What the phone did not bring, about a service item: the cadre and the town office of its area; a support
    # request's outcome is the town office's only.
    Row("services.referral_result", "POST", service_item("/services/referral-result", 2, lambda: {
        "result": "not_attended"}), statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    Row("services.support_outcome", "POST", service_item("/services/support-outcome", 4, lambda: {
        "note": uuid.uuid4().hex}), statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    Row("services.correction", "POST", service_item("/services/correction", 1, lambda: {
        "column": "quantity", "value": "3"}), statuses(LOGIN, LOGIN, (302, 403), (302, 403), 302)),
    # The village's named registers: staff, each within their area (an area outside it is refused).
    Row("registers.index", "GET", page(same("/registers/")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("registers.page", "GET", page(lambda world, place: f"/registers/supplies?area={group_id(world, place)}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("registers.workbook", "GET",
        page(lambda world, place: f"/registers/supplies.xlsx?area={group_id(world, place)}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("registers.workbook", "POST",
        page(lambda world, place: f"/registers/working-away.xlsx?area={group_id(world, place)}", "POST", full_form),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200), "in full"),
    # Due lists, as a page and as JSON (which also takes Digest: a collector is refused, anonymous challenged).
    Row("schedules.due_page", "GET", page(lambda world, place: f"/due?area={VILLAGE[place]}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("schedules.due_json", "GET", page(lambda world, place: f"/api/v1/due?area={VILLAGE[place]}"),
        statuses(401, 403, (200, 403), (200, 403), 200)),
    # The indicators, as a page and as JSON (which also takes Digest): staff, each within their area.
    Row("indicators.indicators_page", "GET",
        page(lambda world, place: f"/indicators?area={VILLAGE[place]}&period={MONTH}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("indicators.indicators_json", "GET",
        page(lambda world, place: f"/api/v1/indicators?area={VILLAGE[place]}&period={MONTH}"),
        statuses(401, 403, (200, 403), (200, 403), 200)),
    # Reports and their downloads.
    Row("exports.reports_page", "GET", page(same("/reports")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("exports.monthly_change", "GET", page(report("monthly-change.xlsx", VILLAGE)),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("exports.coverage", "GET", page(report("coverage.xlsx", VILLAGE)),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("exports.register", "GET", page(report("register.xlsx", VILLAGE)),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("exports.register", "POST", page(report("register.xlsx", VILLAGE), "POST", full_form),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200), "in full"),
    Row("exports.monthly_change", "GET", page(report("monthly-change.xlsx", TOWN)),
        statuses(LOGIN, LOGIN, 403, (200, 403), 200), "town"),
    Row("exports.monthly_change", "GET", page(same(f"/reports/monthly-change.xlsx?area=全县&month={MONTH}")),
        statuses(LOGIN, LOGIN, 403, 403, 200), "county"),
    # The town office's pages: the audit log and collectors (QR codes).
    Row("audit.audit_page", "GET", page(same("/audit")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("users.collectors", "GET", page(same("/collectors")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("users.new_collector", "POST", page(same("/collectors"), "POST", lambda world, role, place: {
        "username": f"new_{role}_{place}_{uuid.uuid4().hex[:6]}", "display_name": "新采集员",
        "group": group_id(world, place)}), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("users.confirm_new_token", "GET", page(spare("token")), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("users.new_token", "POST", page(spare("token"), "POST"), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("users.revoke", "POST", page(spare("revoke"), "POST"), statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    Row("users.activate", "POST", page(spare("activate"), "POST"), statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    # Re-checks: the town office and the county; a village does not re-check itself. Drawing again (explicitly)
    # before any re-check of the sample; recording a household's re-check.
    Row("rechecks.overview", "GET", page(same("/rechecks")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("rechecks.sample", "GET", page(recheck_path("")), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("rechecks.confirm_redraw", "GET", page(recheck_path("/redraw")), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("rechecks.draw", "POST", page(recheck_path("/draw"), "POST", lambda world, role, place: {
        "percent": "50", "again": "1"}), statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    Row("rechecks.household", "GET", page(lambda world, place: recheck_path(
        f"/households/{world.places[place].household}", RECHECK_MONTH)(world, place)),
        statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("rechecks.household", "POST", rechecked, statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    # Replication (town → county): the town office and the county only; a session or Digest for reads.
    Row("replication.submissions_after", "GET", page(same("/api/v1/replication/submissions")),
        statuses(401, 403, 403, 200, 200)),
    Row("replication.submission", "GET", page(lambda world, place: f"/api/v1/replication/submissions/"
                                                                   f"{world.places[place].instance_id}"),
        statuses(401, 403, 403, (200, 404), 200)),
    Row("replication.attachment", "GET", page(lambda world, place: f"/api/v1/replication/submissions/"
                                                                   f"{world.places[place].instance_id}/attachments/x.jpg"),
        statuses(401, 403, 403, 404, 404), "not arrived"),
    Row("replication.receive", "POST", replicated_post, statuses(401, 403, 403, (201, 403), 201)),
    Row("replication.decisions_after", "GET", page(same("/api/v1/replication/decisions")),
        statuses(401, 403, 403, 200, 200)),
    Row("replication.receive_decision", "POST", replicated_decision, statuses(401, 403, 403, (200, 403), 200)),
    # A village's month: its cadre submits it (once: a second time is 409), its town office returns or accepts it (a
    # month never submitted: 409); the county reads, it does not decide. The archive: the reader's area only.
    Row("months.months_page", "GET", page(same("/months")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("months.signoff", "GET", page(month_path(MONTH)), statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("months.submit", "POST", page(month_path(MONTH, "submit"), "POST", lambda world, role, place: {
        "confirm": "yes"}), statuses(LOGIN, LOGIN, (302, 403), 403, 403)),
    Row("months.return_month", "POST", page(month_path("2026-09", "return"), "POST", lambda world, role, place: {
        "comment": "请核实"}), statuses(LOGIN, LOGIN, 403, (409, 403), 403)),
    Row("months.accept", "POST", page(month_path("2026-09", "accept"), "POST"),
        statuses(LOGIN, LOGIN, 403, (409, 403), 403)),
    Row("archive.archive_page", "GET", page(same("/archive")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    Row("archive.download", "GET", page(archived), statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    # Collector monitoring: staff, each the collectors of their own area.
    Row("monitoring.monitoring_page", "GET", page(same("/monitoring")), statuses(LOGIN, LOGIN, 200, 200, 200)),
    # The monthly meeting sheet of a village; the village reviews (a download for staff, filing for the town office).
    Row("meetings.meeting_page", "GET", page(lambda world, place: f"/meetings?area={VILLAGE[place]}&month={MONTH}"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("meetings.village_review_download", "GET",
        page(lambda world, place: f"/reports/village-review.xlsx?area={VILLAGE[place]}&period=2026-Q4"),
        statuses(LOGIN, LOGIN, (200, 403), (200, 403), 200)),
    Row("meetings.village_review_file", "POST", page(same("/reports/village-review"), "POST", lambda world, role, place: {
        "area": VILLAGE[place], "period": "2026-Q4"}), statuses(LOGIN, LOGIN, 403, (302, 403), 302)),
    # Service notices: the town office's, about its town (a notice to it, a person of its register); the county
    # reads them all but neither sends nor answers.
    Row("notices.list_page", "GET", page(same("/notices")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("notices.new_notice", "GET", page(lambda world, place: f"/notices/new?person={world.places[place].person}"),
        statuses(LOGIN, LOGIN, 403, (200, 404), 403)),
    Row("notices.send_notice", "POST", page(same("/notices/new"), "POST", lambda world, role, place: {
        "person": world.places[place].person, "to": "outside", "outside_place": "某县", "address": "某地 1 号",
        "service": "supplies", "reply_by": "2199-12-31"}), statuses(LOGIN, LOGIN, 403, (302, 404), 403)),
    Row("notices.notice_page", "GET", page(notice_path()), statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("notices.answer", "POST", page(notice_path("/answer"), "POST", lambda world, role, place: {
        "done": "已办理", "result": "served", "day": "2026-11-20"}), statuses(LOGIN, LOGIN, 403, (302, 403), 403)),
    Row("notices.export_notice", "GET", page(notice_path("/export.xlsx")),
        statuses(LOGIN, LOGIN, 403, (200, 403), 200)),
    Row("notices.export_list", "GET", page(same("/notices/export.json")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("notices.export_list", "POST", page(same("/notices/export.json"), "POST", full_form),
        statuses(LOGIN, LOGIN, 403, 200, 200), "in full"),
    Row("notices.import_file", "GET", page(same("/notices/import")), statuses(LOGIN, LOGIN, 403, 200, 200)),
    Row("notices.import_file", "POST", page(same("/notices/import"), "POST"), statuses(LOGIN, LOGIN, 403, 400, 400),
        "no file"),
    Row("notice_replication.notices_after", "GET", page(same("/api/v1/replication/notices")),
        statuses(401, 403, 403, 200, 200)),
    Row("notice_replication.receive_notice", "POST", replicated_notice, statuses(401, 403, 403, (200, 403), 200)),
    # The purge's dry run (docs/retention.md): the town office and the county, counts of their area only.
    Row("privacy.purge_page", "GET", page(same("/privacy/purge")), statuses(LOGIN, LOGIN, 403, 200, 200)),
]


def test_every_route_has_a_row(live_server):
    """A new endpoint (or method) without a row here fails: its access must be decided."""
    routes = {(rule.endpoint, method) for rule in live_server.app.url_map.iter_rules()
              for method in (rule.methods - {"OPTIONS", "HEAD"} or {"HEAD"})}
    assert routes == {(row.endpoint, row.method) for row in ROWS}


CELLS = [pytest.param(row, role, place, id=f"{row.id}|{role}|{place}") for row in ROWS for role in ROLES
         for place in PLACES]


@pytest.mark.parametrize(("row", "role", "place"), CELLS)
def test_access(world, row, role, place):
    response = row.call(world, role, place)
    expected = row.expected[role][PLACES.index(place)]
    assert response.status_code == expected, response.text[:300]
    if expected == LOGIN and role in ("anonymous", "collector") and row.endpoint not in (
            "accounts.logout", "accounts.language"):
        assert re.fullmatch(r"/login\?next=.+", response.headers["Location"]), response.headers["Location"]
    if row.endpoint.startswith("openrosa") and expected >= 400 and row.method != "HEAD":
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert '<message nature="error">' in response.text
    if expected == 401 and row.endpoint.startswith(("openrosa.", "schedules.due_json")):
        assert response.headers["WWW-Authenticate"].startswith("Digest ")


# ---- what the pages show: the reader's area only -------------------------------------------------------------

def _markers(world: World, place: str) -> dict[str, str]:
    """Per list page, a piece of HTML that shows the place's records (all stay open or present throughout)."""
    data = world.places[place]
    return {
        "/inbox": f'id="visit-{data.visit}"',
        "/search?q=王秀英": f'href="/people/{data.person}"',
        "/duplicates": f'id="pair-{data.candidate}"',
        "/conflicts": f'action="/conflicts/{data.conflicts["spare"]}"',
        "/collectors": f'id="collector-{"collector" if place == "own" else "collector_other"}"',
        "/audit": f'<td class="area">{GROUP[place].replace("/", " › ")}</td>',
        "/reports": f'<option value="{VILLAGE[place]}">{VILLAGE[place].replace("/", " › ")}</option>',
        "/home": f"{TOWN[place]} › ",     # a village (cadre, town office) or a collector's group (county) of it
    }


LIST_PAGES = ["/inbox", "/search?q=王秀英", "/duplicates", "/conflicts", "/collectors", "/audit", "/reports", "/home"]
TOWN_OFFICE_PAGES = {"/collectors", "/audit"}


@pytest.mark.parametrize(("path", "role"), [(path, role) for path in LIST_PAGES for role in STAFF_AREA
                                            if not (path in TOWN_OFFICE_PAGES and role == "village_cadre")])
def test_list_pages_show_the_readers_area_only(world, path, role):
    text = world.web[role].get(path).text
    if path == "/audit":   # the log is paged, newest first: every page of it
        for number in range(2, 100):
            more = world.web[role].get(f"/audit?page={number}").text
            if '<td class="area">' not in more:
                break
            text += more
    if path == "/collectors" and role == "county_admin":   # the county's lists its towns: each town's page
        for place in ("own", "other"):
            text += world.web[role].get(path, params={"area": TOWN[place]}).text
    if path == "/home" and role == "county_admin":   # its rows are towns (its silent collectors: counted per town)
        assert f'<tr data-area="{TOWN["own"]}">' in text and f'<tr data-area="{TOWN["other"]}">' in text
        return
    assert _markers(world, "own")[path] in text
    assert (_markers(world, "other")[path] in text) == (role == "county_admin")


def test_generated_lists_hold_the_collectors_own_group_only(world):
    """households.csv is made per collector from the register of their group."""
    text = world.token["collector"].get(f"{world.token['collector'].base}/forms/form_own/versions/3/media/"
                                        "households.csv").text
    numbers = {line.split(",")[2] for line in text.splitlines()[1:]}
    assert numbers == {"101", "1012"}


def test_collectors_cannot_sign_in_to_the_web_pages(world):
    response = WebClient(world.url).sign_in("collector", PASSWORD)
    assert response.status_code == 401 and "ODK Collect" in response.text
