"""Home pages over HTTP: `/` takes each role to its page; a village cadre's to-do, the town office's dashboard per
village and the county's per town count exactly what was built, each only inside the reader's area, with the chart's
bars drawn on the server."""

from __future__ import annotations

import datetime as dt
import gc
import re
from urllib.parse import quote

import pytest
from requests.auth import HTTPDigestAuth
from sqlalchemy import func, select

from server import clock
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.register.decisions import review_visit, set_tier, undo_decision
from server.register.models import RegisterDecision
from server.schedules.counted import counted, wait_for_counts
from server.submissions.models import Submission
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "home-pages-password"
TIERS = default_schedule().tier_names
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=UTC)          # 2026-11-22 11:00 in China
H1, H2, H3, H4, H9 = (f"33333333-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 4, 9))
# (user name, role, area, display name)
USERS = [("d1", "collector", "青山镇/东村/第一组", "王秀兰"), ("d2", "collector", "青山镇/东村/第二组", "李桂英"),
         ("x1", "collector", "青山镇/西村/第一组", "张丽"), ("n1", "collector", "白水镇/南村/第一组", "刘芳"),
         ("dongcun_cadre", "village_cadre", "青山镇/东村", "陈红"),
         ("xicun_cadre", "village_cadre", "青山镇/西村", "周敏"),
         ("qingshan_officer", "town_officer", "青山镇", "王主任"),
         ("baishui_officer", "town_officer", "白水镇", "赵主任"),
         ("county", "county_admin", None, "县管理员")]


@pytest.fixture
def town(server, publish, monkeypatch):
    """青山镇 (东村 with two groups, 西村 with one) and 白水镇 (南村), a collector per group, the staff of each level,
    and visits from August to November 2026 as of 2026-11-22 (a settable clock)."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    tokens = {}
    for area in {area for _, role, area, _ in USERS if role == "collector"}:
        ensure_area(area)
    for username, role, area, name in USERS:
        created = add_user(username, role, area, realm=REALM, display_name=name, password=PASSWORD,
                           with_token=role == "collector")
        tokens[username] = created.token
    commit()
    now = {"at": NOW}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    phones = {username: server.client(token=token) for username, token in tokens.items() if token}
    TOKENS.clear()
    TOKENS.update(tokens)

    def send(collector: str, xml: bytes, received: dt.datetime) -> None:
        now["at"] = received
        assert phones[collector].submit(xml).status_code == 201
        now["at"] = NOW

    a, b = Member("王秀瑛", "female", "1975-05-06"), Member("李芳", "female", "1990-01-02")
    c = Member("何芳", "female", "1992-12-01")
    baby = Member("何小宝", "male", "2026-11-01", relationship="child", reason="birth")
    d = Member("王秀英", "female", "1975-05-06")                       # a possible duplicate of a
    e = Member("刘明", "male", "1980-03-03")
    aug = "2026-08-03T09:00:00.000+08:00"
    # 东村第一组: a and b given the key tier in August; b visited in November, a not since registration.
    send("d1", household_visit(household=H1, new=("001", "一组1号"), start=aug, members=[a]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    send("d1", household_visit(household=H2, new=("002", "一组2号"), start=aug, members=[b]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    send("d1", household_visit(household=H2, base_version=1, start="2026-11-10T10:00:00.000+08:00"),
         dt.datetime(2026, 11, 12, 2, 0, tzinfo=UTC))                                        # d1's last sync
    # 东村第二组: a household registered in November with a birth, a follow-up referring 何芳 to the health centre
    # (both agreeing a next visit in December: upcoming, not asked for yet), and a household whose member's phone
    # two September visits changed differently (a conflict).
    send("d2", household_visit(household=H3, new=("003", "二组3号"), start="2026-11-03T09:00:00.000+08:00",
                               members=[c, baby], next_visit="2026-12-10"), dt.datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    send("d2", household_visit(household=H4, new=("004", "二组4号"), start=aug, members=[d]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    for hour, phone in ((10, "13800000001"), (11, "13900000002")):
        send("d2", household_visit(household=H4, base_version=1, start=f"2026-09-02T{hour}:00:00.000+08:00",
                                   updates=[dict(person_uuid=d.uuid, base_version=1, change="details_corrected",
                                                 phone_now=phone)]), dt.datetime(2026, 9, 2, 4, tzinfo=UTC))
    send("d2", followup_visit(person=c.uuid, household=H3, followup_type="tier_general",
                              start="2026-11-15T15:00:00.000+08:00",
                              referral=("health_centre", "青山镇卫生院", "血压偏高"), next_date="2026-12-20"),
         dt.datetime(2026, 11, 21, 1, 30, tzinfo=UTC))                                       # d2's last sync
    # 白水镇南村: a key-tier person overdue and a visit this month; none of it shows in 青山镇.
    send("n1", household_visit(household=H9, new=("901", "南村1号"), start=aug, members=[e]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    send("n1", household_visit(household=H9, base_version=1, start="2026-11-08T10:00:00.000+08:00"),
         dt.datetime(2026, 11, 20, tzinfo=UTC))
    merge_all()
    set_at = dt.datetime(2026, 8, 20, 2, 0, tzinfo=UTC)
    for cadre, person in (("dongcun_cadre", a.uuid), ("dongcun_cadre", b.uuid), ("county", e.uuid)):
        set_tier(principal_by_username(cadre), person, "key", tiers=TIERS, now=set_at)
    first = db.session.scalar(select(func.min(Submission.id)).where(Submission.collector_name == "d1"))
    review_visit(principal_by_username("dongcun_cadre"), first, "approved", now=NOW)   # 001's registration
    commit()
    return server


TOKENS: dict[str, str] = {}
"""The collectors' app tokens of the current test's town."""


def _token(collector: str) -> str:
    return TOKENS[collector]


def signed_in(town, username: str) -> WebClient:
    client = WebClient(town.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def home(town, username: str) -> str:
    """Sign in, follow `/` as a browser does, and return the page it lands on."""
    client = signed_in(town, username)
    landed = client.get("/", allow_redirects=False)
    assert (landed.status_code, landed.headers["Location"]) == (302, "/home")
    page = client.get("/home")
    assert page.status_code == 200
    return page.text


def row_of(page: str, table: str, area: str) -> dict[str, str]:
    """The cells of a dashboard row (by class) for an area's full name."""
    body = re.search(rf'<table id="{table}">.*?</table>', page, re.S).group(0)
    row = re.search(rf'<tr data-area="{area}">(.*?)</tr>', body, re.S).group(1)
    return {name: re.sub(r"<[^>]+>", "", value).strip()
            for name, value in re.findall(r'<td class="(?:number )?([a-z-]+)[^"]*">(.*?)</td>', row, re.S)}


def test_a_village_cadre_lands_on_the_to_do_of_their_village(town):
    page = home(town, "dongcun_cadre")
    assert "<h1>待办 · 青山镇 › 东村</h1>" in page
    todo = {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip()
            for key, value in re.findall(r'<li id="todo-([a-z]+)">(.*?)</li>', page, re.S)}
    assert todo == {
        "unreviewed": "还没有审核的访视：7 条。 到已同步的访视里逐条审核",
        "conflicts": "待处理的冲突：1 处。 逐个选出正确的值",
        "duplicates": "疑似重复：1 对。 合并，或标为不是同一人",
        "referrals": "还没有结果的转介：1 个。 了解每个人是否去了，并记录结果"}
    assert 'href="/inbox?state=received"' in page
    assert 'href="/registers/referrals?open=true&amp;since=2026-11-15&amp;until=2026-11-22"' in page
    groups = re.search(r'<table id="overdue-groups">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td><td class=\"number\">([^<]*)</td>", groups) == [("青山镇 › 东村 › 第一组", "1")]
    assert "/due?area=%E9%9D%92%E5%B1%B1%E9%95%87/%E4%B8%9C%E6%9D%91/%E7%AC%AC%E4%B8%80%E7%BB%84&amp;status=overdue" in groups
    silent = re.sub(r"</?a[^>]*>", "", re.search(r'<table id="silent-collectors">.*?</table>', page, re.S).group(0))
    assert re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>\s*<td>([^<]*)</td></tr>", silent) == [
        ("王秀兰", "青山镇 › 东村 › 第一组", "2026-11-12 10:00")]
    assert "李桂英" not in silent and "白水镇" not in page and "刘芳" not in page
    # What the links promise is what the queues hold.
    client = signed_in(town, "dongcun_cadre")
    assert "第 1–7 条，共 7 条" in client.get("/inbox?state=received").text


def test_another_village_cadre_sees_only_their_own_village(town):
    page = home(town, "xicun_cadre")
    assert "<h1>待办 · 青山镇 › 西村</h1>" in page
    assert "还没有审核的访视：0 条。" in page and "没有人逾期。" in page
    silent = re.sub(r"</?a[^>]*>", "", re.search(r'<table id="silent-collectors">.*?</table>', page, re.S).group(0))
    assert re.findall(r"<tr><td>([^<]*)</td>", silent) == ["张丽"] and "从未同步" in silent
    assert "东村" not in page and "王秀兰" not in page


def test_the_town_office_dashboard_counts_each_village_of_its_town(town):
    page = home(town, "qingshan_officer")
    assert "<h1>工作概况 · 青山镇</h1>" in page
    assert "2026年11月，截至 2026-11-22。" in page
    assert row_of(page, "dashboard", "青山镇/东村") == {
        "asked": "2", "done": "1", "completed": "3", "overdue-people": "1", "changes": "2", "unreviewed": "7",
        "collectors": "2", "last-sync": "2026-11-21 09:30"}
    assert row_of(page, "dashboard", "青山镇/西村") == {
        "asked": "0", "done": "0", "completed": "0", "overdue-people": "0", "changes": "0", "unreviewed": "0",
        "collectors": "1", "last-sync": "从未同步"}
    total = re.search(r'<tr id="dashboard-total">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="number ([a-z-]+)[^"]*">([^<]*)</td>', total) == [
        ("asked", "2"), ("done", "1"), ("completed", "3"), ("overdue-people", "1"), ("changes", "2"),
        ("unreviewed", "7"), ("collectors", "3")]
    silent = re.sub(r"</?a[^>]*>", "", re.search(r'<table id="silent-collectors">.*?</table>', page, re.S).group(0))
    assert re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>\s*<td>([^<]*)</td></tr>", silent) == [
        ("王秀兰", "青山镇 › 东村 › 第一组", "2026-11-12 10:00"), ("张丽", "青山镇 › 西村 › 第一组", "从未同步")]
    assert "白水镇" not in page and "南村" not in page and "刘芳" not in page


def test_the_chart_draws_done_against_asked_per_village_with_its_figures_beside(town):
    page = home(town, "qingshan_officer")
    svg = re.search(r'<svg id="chart".*?</svg>', page, re.S).group(0)
    bars = re.findall(r'<text [^>]*text-anchor="end">([^<]*)</text>\s*'
                      r'<rect class="asked" data-value="(\d+)" x="150" y="6" width="([\d.]+)".*?'
                      r'<rect class="done" data-value="(\d+)" x="150" y="6" width="([\d.]+)"', svg, re.S)
    assert bars == [("东村", "2", "300.0", "1", "150.0"), ("西村", "0", "0.0", "0", "0.0")]
    figures = re.search(r'<table id="chart-figures".*?</table>', page, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]*)</td><td class=\"number\">([^<]*)</td><td class=\"number\">([^<]*)</td>\s*"
                      r"<td class=\"number\">([^<]*)</td></tr>", figures) == [
        ("青山镇 › 东村", "2", "1", "50%"), ("青山镇 › 西村", "0", "0", "—")]


def test_the_county_sees_the_same_per_town(town):
    page = home(town, "county")
    assert "<h1>工作概况 · 全县</h1>" in page
    assert row_of(page, "dashboard", "青山镇") == {
        "asked": "2", "done": "1", "completed": "3", "overdue-people": "1", "changes": "2", "unreviewed": "7",
        "collectors": "3", "last-sync": "2026-11-21 09:30"}
    assert row_of(page, "dashboard", "白水镇") == {
        "asked": "1", "done": "1", "completed": "1", "overdue-people": "0", "changes": "0", "unreviewed": "2",
        "collectors": "1", "last-sync": "2026-11-20 08:00"}
    # Collectors not synced lately are counted per town (a county has thousands), each town's linked to its page.
    silent = re.search(r'<table id="silent-towns">.*?</table>', page, re.S).group(0)
    assert re.findall(r'<tr><td><a href="([^"]+)">([^<]+)</a></td>\s*<td class="number">([^<]+)</td></tr>', silent) == [
        (f"/monitoring?area={quote('青山镇')}", "青山镇", "3 人中 2 人")]
    assert 'id="silent-collectors"' not in page
    # The other town's office sees its own town only.
    other = home(town, "baishui_officer")
    assert row_of(other, "dashboard", "白水镇/南村")["done"] == "1"
    assert "青山镇" not in other and "东村" not in other


def test_collectors_never_reach_a_home_page(town):
    client = WebClient(town.url)
    client.session.auth = HTTPDigestAuth("d1", PASSWORD)
    for path in ("/", "/home"):
        answer = client.get(path, allow_redirects=False)
        assert (answer.status_code, answer.headers["Location"]) == (302, f"/login?next={path}")
    signing_in = client.sign_in("d1", PASSWORD)
    assert signing_in.status_code in (401, 403)
    assert client.get("/home", allow_redirects=False).status_code == 302


def test_the_header_links_home_first(town):
    page = signed_in(town, "dongcun_cadre").get("/due").text
    links = re.findall(r'<a href="([^"]+)">', page.split("</strong>", 1)[1])
    assert links[0] == "/home"


def test_the_figures_follow_every_change_at_once(town):
    """The town's figures are kept between requests only while nothing they count has changed: a review, a merged
    visit and an undone decision each show on the next request."""
    officer = signed_in(town, "qingshan_officer")

    def dongcun() -> dict[str, str]:
        return row_of(officer.get("/home").text, "dashboard", "青山镇/东村")

    before = dongcun()
    assert (before["asked"], before["done"], before["overdue-people"], before["unreviewed"]) == ("2", "1", "1", "7")
    latest = db.session.scalar(select(func.max(Submission.id)).where(Submission.collector_name == "d2"))
    review_visit(principal_by_username("dongcun_cadre"), latest, "has_issues", "请补充转介原因", now=NOW)
    commit()
    assert dongcun()["unreviewed"] == "6"
    # 王秀瑛 (001) is visited at last: done, nobody overdue, one more completed visit and one more to review.
    assert town.client(token=_token("d1")).submit(household_visit(
        household=H1, base_version=1, start="2026-11-21T10:00:00.000+08:00")).status_code == 201
    merge_all()
    after_visit = dongcun()
    assert {key: after_visit[key] for key in ("asked", "done", "overdue-people", "completed", "unreviewed")} == {
        "asked": "2", "done": "2", "overdue-people": "0", "completed": "4", "unreviewed": "7"}
    # The tier of 李芳 (002) is undone: she is asked for nothing.
    tiers = list(db.session.scalars(select(RegisterDecision.id).where(RegisterDecision.kind == "set_tier")
                                    .order_by(RegisterDecision.id)))
    undo_decision(principal_by_username("dongcun_cadre"), tiers[1])
    commit()
    assert (dongcun()["asked"], dongcun()["done"]) == ("1", "1")


def test_after_a_change_the_last_count_is_shown_while_a_new_one_runs(town, server):
    """With a stale window (a town's schedule figures take seconds to count), a change shows the figures last
    counted, saying when and that new ones are on their way — the aggregate counts too (the review backlog: at
    county size they read millions of rows, so they are kept like the schedule's); once the counts in the
    background are done, the next request shows them."""
    officer = signed_in(town, "qingshan_officer")

    def dongcun(page: str) -> dict[str, str]:
        return row_of(page, "dashboard", "青山镇/东村")

    first = officer.get("/home").text
    assert (dongcun(first)["done"], dongcun(first)["overdue-people"]) == ("1", "1")
    assert '<p id="figures-counted" class="notice">' in first
    server.app.config["TAIZHANG_DASHBOARD_STALE_SECONDS"] = 600
    try:
        assert town.client(token=_token("d1")).submit(household_visit(
            household=H1, base_version=1, start="2026-11-21T10:00:00.000+08:00")).status_code == 201
        merge_all()
        stale = officer.get("/home").text
        assert (dongcun(stale)["done"], dongcun(stale)["overdue-people"], dongcun(stale)["unreviewed"]) == (
            "1", "1", "7")
        assert re.search(r'<p id="figures-counted" class="stale">[^<]*正在统计', stale)
        wait_for_counts()
        fresh = officer.get("/home").text
        assert (dongcun(fresh)["done"], dongcun(fresh)["overdue-people"], dongcun(fresh)["unreviewed"]) == (
            "2", "0", "8")
        assert '<p id="figures-counted" class="notice">' in fresh
    finally:
        server.app.config["TAIZHANG_DASHBOARD_STALE_SECONDS"] = 0


def test_a_birth_registered_on_the_web_is_a_change_of_its_group(town):
    """A birth the cadre registers on the web (a decision, no visit told it) counts in this month's changes of the
    household's village."""
    officer, cadre = signed_in(town, "qingshan_officer"), signed_in(town, "dongcun_cadre")
    before = int(row_of(officer.get("/home").text, "dashboard", "青山镇/东村")["changes"])
    done = cadre.post(f"/households/{H1}/members/new", {
        "event": "birth", "name": "王小宝", "sex": "male", "birth_date": "2026-11-15", "relationship": "grandchild",
        "id_number": "", "phone": "", "residence": "here", "hukou": "here", "note": ""})
    assert done.status_code == 200 and "已登记出生：王小宝" in done.text
    assert row_of(officer.get("/home").text, "dashboard", "青山镇/东村")["changes"] == str(before + 1)
    assert row_of(officer.get("/home").text, "dashboard", "青山镇/西村")["changes"] == "0"


def test_kept_counts_are_out_of_the_cyclic_collectors_sight(server):
    """A county's kept figures are millions of objects: once counted they are frozen out of the collector's
    generations (gc.freeze), so that no full collection walks them again during a request."""
    with server.app.app_context():
        kept = counted(("a test's figures", 1), lambda: {"figures": [[1, 2], [3]]}).value
    assert gc.get_freeze_count() > 0
    assert not any(found is kept for generation in range(3) for found in gc.get_objects(generation))
