"""ID numbers and phones masked by default, through HTTP on SQLite and PostgreSQL: every page and download a village
cadre, the town office and the county reach from their home page shows them masked (3301**********1234,
138****5678) and never in full, except the person page; an export in full only with a reason, audited with it; an
empty reason refused, nothing exported, nothing audited (issue 21)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.html
import openpyxl
from sqlalchemy import select

from server import clock
from server.areas.models import Area
from server.audit.models import AuditEvent
from server.database import commit
from server.demo import seed_demo
from server.extensions import db
from server.rechecks.operations import draw_sample, record_recheck
from server.rechecks.queries import register_people
from server.register.models import Person, RegisterConflict
from server.users.models import User
from server.users.queries import principal_by_username
from sync.privacy import mask_value
from sync.rechecks import Observed
from tests.conftest import ROOT, command_env, merge_all, taizhang
from tests.register_visits import Member, household_visit
from tests.web import WebClient

UUID = "[0-9a-f-]{36}"
# The pages about one person, whose read is audited: the person page and its correction forms; a service notice, its
# export (the file another town imports) and the form writing one about a person.
PERSON_PAGES = re.compile(rf"^/people/{UUID}(/correct(/\w+)?)?(\?.*)?$|^/notices/{UUID}(/export\.\w+)?$|"
                          rf"^/notices/new\?person={UUID}$")
# Links the crawl does not follow: signing out, switching language (a redirect back), a collector's token page
# (it makes a new token), the raw submissions (the support pages of an administrator).
SKIPPED = re.compile(r"^/(logout|language/|collectors/[^/]+/token)")
MAX_PAGES = 600
# What people type into the search forms (the beginnings of an ID number and of a phone; a name).
TYPED = ["/search?q=5107", "/search?q=138", "/search?q=王", "/notices/new?q=5107"]


WANG, WANG_HOUSEHOLD = "ee8f2d8e-178a-5bd6-9eaa-f53560c0d813", "689047be-f51b-5fa2-83b1-af90b0d336cb"
LIU_WEI = "f4cfbcc6-8e25-5343-92a1-de0e0e305756"
# Values written by the visits and the re-check below (besides the register's): a phone both visits corrected
# differently (a conflict), the phone a re-check found, the phone of a service notice.
CONFLICT_PHONES, RECHECKED_PHONE, NOTICE_PHONE = ("13911112222", "13933334444"), "13955556666", "13977778888"
BROWSER = {"Accept": "text/html,application/xhtml+xml"}   # as a browser asks: the error is a page
REASON = "县卫健局核对低保户联系方式（2026年12月）"


def people_values() -> dict[str, str]:
    """Every full ID number and phone in the register, the demo's lists and the visits, notice and re-check below
    → its masked form."""
    numbers = [("phone", phone) for phone in (RECHECKED_PHONE, NOTICE_PHONE, *CONFLICT_PHONES)]
    for person in db.session.scalars(select(Person)):
        numbers += [("id_number", person.id_number), ("phone", person.phone)]
    db.session.rollback()
    with (ROOT / "xlsforms" / "fixtures" / "people.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            numbers += [("id_number", row["id_number"]), ("phone", row["phone"])]
    return {value: mask_value(field, value) for field, value in numbers if value}


def more_to_mask(server, demo) -> None:
    """Besides the demo: a duplicate pair (a new person with 王建国's ID number), a conflict over 王建国's phone, a
    re-check of his household that found another phone, and a service notice about 刘伟 (both ways: a list and a
    file)."""
    collector = demo.collectors[0][0]
    phone = server.client(token=collector.token)
    version = db.session.get(Person, WANG).version
    db.session.rollback()
    day = clock.today()
    visits = [household_visit(household=str(uuid.uuid4()), new=("099", "东村一组99号"),
                              members=[Member("赵四", "male", "1968-03-12", id_number="510723196803120111")],
                              start=f"{day - dt.timedelta(days=3)}T09:00:00.000+08:00")]
    # Two visits correcting his phone from the same version: the later one on the phone arrives first.
    for phone_now, hour in zip(CONFLICT_PHONES, ("11", "10")):
        visits.append(household_visit(household=WANG_HOUSEHOLD, start=f"{day - dt.timedelta(days=2)}T{hour}:00:00.000+08:00",
                                      updates=[{"person_uuid": WANG, "base_version": version,
                                                "change": "details_corrected", "phone_now": phone_now}]))
    for xml in visits:
        assert phone.submit(xml).status_code == 201
    merge_all()
    assert db.session.scalars(select(RegisterConflict)).all() != []
    db.session.rollback()

    officer = principal_by_username(demo.officer[0].username)
    village = db.session.scalar(select(Area.id).where(Area.full_name == "青山镇/东村"))
    draw_sample(officer, village, day.replace(day=1), 100.0)
    people = {person.uuid: Observed(True) for person in register_people(WANG_HOUSEHOLD)}
    people[WANG] = Observed(True, {"phone": RECHECKED_PHONE})
    record_recheck(officer, village, day.replace(day=1), WANG_HOUSEHOLD, checked_on=day, observed=people)
    commit()

    client = WebClient(server.url)
    assert client.sign_in(demo.officer[0].username, demo.officer[0].password).status_code == 302
    sent = client.post("/notices/new", {"person": LIU_WEI, "to": "红山镇", "outside_place": "",
                                        "address": "红山镇北村二组 5 号", "phone": NOTICE_PHONE,
                                        "service": "other", "service_note": "外出务工人员健康随访",
                                        "reply_by": (day + dt.timedelta(days=14)).isoformat()}, allow_redirects=False)
    assert sent.status_code == 302


def texts_of(response) -> tuple[str, list[str]]:
    """What a response carries as text (an .xlsx: every cell), and the links and GET forms of a page to follow."""
    kind = response.headers.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        cells = [str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                 if cell.value is not None]
        return "\n".join(cells), []
    if "json" in kind:
        return json.dumps(response.json(), ensure_ascii=False), []
    if "html" not in kind:
        return response.text, []
    page = lxml.html.fromstring(response.content)
    links = [element.get("href") for element in page.iter("a") if element.get("href")]
    for form in page.forms:
        if (form.method or "GET").upper() == "GET":
            action = urlsplit(urljoin(response.url, form.action or ""))
            links.append(f"{action.path}?{urlencode(form.form_values())}")
    return response.text, links


def crawl(client: WebClient, values: dict[str, str]) -> tuple[dict[str, list[str]], str]:
    """Every same-origin page and download reachable from the home page: where a full value appears outside the
    person pages (path → the values), and all the text read outside them."""
    base = urlsplit(client.base)
    seen, queue, leaks, everything = set(), ["/", *TYPED], {}, []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 400, 403, 404), (path, response.status_code)
        text, links = texts_of(response)
        if not PERSON_PAGES.match(path):
            everything.append(text)
            found = [value for value in values if value in text]
            if found:
                leaks[path] = found
        for link in links:
            target = urlsplit(urljoin(response.url, link))
            if (target.scheme, target.netloc) != (base.scheme, base.netloc) or SKIPPED.match(target.path):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) < MAX_PAGES
    return leaks, "\n".join(everything)


def test_crawl_shows_only_masked_values(server):
    """As a village cadre, the town office and the county: every page and download reachable from the home page
    (and the searches people type) shows ID numbers and phones masked, never in full, but on the person pages."""
    demo = seed_demo()
    more_to_mask(server, demo)
    values = people_values()
    assert len(values) == 19   # 8 ID numbers and 7 phones of the demo, 4 phones above
    for account in (demo.cadre[0], demo.officer[0], demo.county):
        client = WebClient(server.url)
        assert client.sign_in(account.username, account.password).status_code == 302
        leaks, text = crawl(client, values)
        assert leaks == {}, account.username
        # The masked forms are there: search results, the register export, the queues, the visits' answers.
        for full in ("510723196803120111", "13812345678", "13712345678", CONFLICT_PHONES[0]):
            assert values[full] in text, (account.username, full)
        if account.username != demo.cadre[0].username:   # the town office's: re-checks and notices
            for full in (RECHECKED_PHONE, NOTICE_PHONE):
                assert values[full] in text, (account.username, full)


def audited(prefix: str, username: str | None = None) -> list[tuple[str, str | None]]:
    """(action, reason) of each audit event whose action starts with `prefix` (by `username`'s account), in order."""
    query = select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
    if username is not None:
        query = query.join(User, User.id == AuditEvent.user_id).where(User.username == username)
    rows = [(event.action, event.reason) for event in db.session.scalars(query)]
    db.session.rollback()
    return rows


def cells(response) -> str:
    assert response.status_code == 200 and "spreadsheetml" in response.headers["Content-Type"], response.text[:300]
    return texts_of(response)[0]


def test_an_export_in_full_only_with_a_reason_audited_with_it(server, tmp_path):
    """The register export, a named register and the notices list: masked when downloaded; in full when posted
    with the option and a reason, audited as such with the reason (the audit page shows it); an empty or too long
    reason refused with a message, nothing exported, nothing audited. `taizhang report register` likewise."""
    demo = seed_demo()
    more_to_mask(server, demo)
    officer = demo.officer[0]
    client = WebClient(server.url)
    assert client.sign_in(officer.username, officer.password).status_code == 302
    wang_id, wang_phone = "510723196803120111", "13712345678"   # 王建国's ID number, 王磊's phone (working away)

    masked = cells(client.get("/reports/register.xlsx", params={"area": "青山镇/东村"}))
    assert "5107**********0111" in masked and wang_id not in masked and "137****5678" in masked
    full = cells(client.post("/reports/register.xlsx", {"area": "青山镇/东村", "full": "1", "reason": REASON}))
    assert wang_id in full and wang_phone in full and "5107**********0111" not in full
    # (the demo's cadre exported the village register too: the officer's own exports are these two)
    assert audited("export.register", officer.username) == [("export.register", None),
                                                            ("export.register.full", REASON)]

    away = cells(client.post("/registers/working-away.xlsx", {"full": "1", "reason": f"  {REASON} "}))
    assert wang_phone in away
    assert "137****5678" in cells(client.get("/registers/working-away.xlsx"))
    assert audited("registers.export") == [("registers.export.full", REASON), ("registers.export", None)]

    listed = client.post("/notices/export.json", {"full": "1", "reason": REASON})
    assert listed.status_code == 200
    [notice] = listed.json()["notices"]
    assert (notice["person"]["id_number"], notice["person"]["phone"]) == ("510723197209090612", NOTICE_PHONE)
    [notice] = client.get("/notices/export.json").json()["notices"]
    assert (notice["person"]["id_number"], notice["person"]["phone"]) == ("5107**********0612", "139****8888")
    assert NOTICE_PHONE in cells(client.post("/notices/export.xlsx", {"full": "1", "reason": REASON}))
    assert audited("notice.export") == [("notice.export.full", REASON), ("notice.export", None),
                                        ("notice.export.full", REASON)]
    page = client.get("/audit").text
    assert REASON in page and "导出台账（完整身份证号和电话）" in page

    # Without a reason (or with one too long): refused, said in the reader's language; nothing exported or audited.
    before = audited("")
    for path in ("/reports/register.xlsx", "/registers/working-away.xlsx", "/notices/export.json",
                 "/notices/export.xlsx"):
        for reason in ("", "   ", "理" * 301):
            refused = client.post(path, {"area": "青山镇/东村", "full": "1", "reason": reason},
                                  headers=BROWSER)
            assert refused.status_code == 400 and refused.headers["Content-Type"].startswith("text/html"), path
            assert wang_id not in refused.text and NOTICE_PHONE not in refused.text
            assert ("导出完整身份证号和电话须写明原因；没有导出。" if len(reason) < 300 else "导出原因最多300个字；没有导出。") \
                in refused.text, (path, reason)
    english = WebClient(server.url)
    english.session.headers["Accept-Language"] = "en"
    english.sign_in(officer.username, officer.password)
    refused = english.post("/reports/register.xlsx", {"area": "青山镇/东村", "full": "1", "reason": ""},
                           headers=BROWSER)
    assert refused.status_code == 400
    assert "An export with full ID numbers and phones needs a reason; nothing was exported." in refused.text
    assert audited("") == before

    # The console command: --full needs --reason.
    env = command_env(server.app)
    out = tmp_path / "register.xlsx"
    refused = taizhang(env, "report", "register", "青山镇/东村", "--out", str(out), "--user", officer.username, "--full")
    assert refused.returncode != 0 and "导出完整身份证号和电话须写明原因" in refused.stderr and not out.exists()
    done = taizhang(env, "report", "register", "青山镇/东村", "--out", str(out), "--user", officer.username, "--full",
                    "--reason", REASON)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    assert wang_id in {str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert audited("export.register")[-1] == ("export.register.full", REASON)


def test_masked_choices_and_links_still_carry_the_full_value_to_the_person(server):
    """The conflicts page posts which of the two phones (not the phone): the register takes the visit's in full; a
    re-check's disagreement over a phone links to the correction without the phone, which offers the value found."""
    demo = seed_demo()
    more_to_mask(server, demo)
    officer = demo.officer[0]
    client = WebClient(server.url)
    assert client.sign_in(officer.username, officer.password).status_code == 302
    [conflict] = db.session.scalars(select(RegisterConflict)).all()
    conflict_id, kept, other = conflict.id, conflict.value, conflict.other_value
    db.session.rollback()
    page = client.get("/conflicts").text
    assert kept not in page and other not in page
    assert 'name="value" value="__register__"' in page and 'name="value" value="__visit__"' in page
    assert client.post(f"/conflicts/{conflict_id}", {"value": "__visit__"}).status_code == 200
    assert db.session.get(Person, WANG).phone == other
    db.session.rollback()

    village = db.session.scalar(select(Area.id).where(Area.full_name == "青山镇/东村"))
    db.session.rollback()
    sample = client.get(f"/rechecks/{village}/{clock.today():%Y-%m}").text
    [link] = re.findall(rf'href="(/people/{WANG}/correct/phone\?[^"]+)"', sample)
    assert RECHECKED_PHONE not in link and RECHECKED_PHONE not in sample and mask_value("phone", RECHECKED_PHONE) in sample
    correction = client.get(link.replace("&amp;", "&")).text
    assert f'name="value" value="{RECHECKED_PHONE}"' in correction
