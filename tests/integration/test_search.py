"""Person search over HTTP: every way of finding (name, surname, pinyin with or without spaces, initials, household
number, phone, ID number whole or its beginning), only in the reader's area, "nothing found", the cap with its
count, any input a page; each search audited; the search keys follow a name change and a rebuild."""

from __future__ import annotations

import html
import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register import search as people_search
from server.register import search_queries
from server.register.replays import rebuild_register
from sync.identity import id_check_character
from sync.search_keys import read_search
from tests.conftest import ROOT, make_test_app, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "search-password"
XLSFORMS = ROOT / "xlsforms"
START = "2026-11-01T09:00:00.000+08:00"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ROW = re.compile(r'<tr><td data-label="姓名"><a href="/people/([^"]+)">([^<]+)</a>(.*?)</td>\s*'
                 r'<td data-label="性别">([^<]*)</td>\s*<td data-label="出生日期">([^<]*)</td>\s*'
                 r'<td data-label="身份证号码" class="id-number">([^<]*)</td>\s*'
                 r'<td data-label="手机" class="phone">([^<]*)</td>\s*'
                 r'<td data-label="户">([^<]*)</td>\s*<td data-label="组">([^<]*)</td></tr>', re.S)


def resident_id(birth: str, male: bool, check: str | None = None) -> str:
    """A valid ID number of region 510722 (with the check character `check`, if given)."""
    for sequence in range(100):
        first_17 = f"510722{birth.replace('-', '')}{sequence:02d}{1 if male else 2}"
        if check is None or id_check_character(first_17) == check:
            return first_17 + id_check_character(first_17)
    raise AssertionError("no such number")


GUILAN_ID = resident_id("1960-03-04", male=False, check="X")
PEOPLE = {
    # group, household number, members
    "青山镇/东村/第一组": ("3", [Member("张桂兰", "female", "1960-03-04", id_number=GUILAN_ID, phone="13812345678"),
                            Member("李明", "male", "1958-07-01", relationship="spouse")]),
    "青山镇/东村/第二组": ("12", [Member("张伟", "male", "1985-01-02", phone="13900000002"),
                             Member("章桂兰", "female", "1962-02-03", relationship="sibling")]),
    "青山镇/西村/第一组": ("3", [Member("张桂兰", "female", "1961-04-05", phone="13812349999"),
                            Member("赵六", "male", "1961-01-01", relationship="spouse")]),
    "绿水镇/东村/第一组": ("3", [Member("张桂兰", "female", "1963-05-06", phone="13812340000")]),
}


@pytest.fixture
def town(server, create_collector, publish):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    households = {}
    for group, (number, members) in PEOPLE.items():
        phone = server.client(token=create_collector(group).token)
        household = f"55555555-0000-4000-8000-{len(households) + 1:012d}"
        households[group] = household
        assert phone.submit(household_visit(household=household, new=(number, f"{number}号"), members=members,
                                            start=START)).status_code == 201
    merge_all()
    create_collector("青山镇/东村", username="dongcun", role="village_cadre", password=PASSWORD)
    create_collector("青山镇", username="qingshan", role="town_officer", password=PASSWORD)
    cadre, officer = WebClient(server.url), WebClient(server.url)
    cadre.sign_in("dongcun", PASSWORD)
    officer.sign_in("qingshan", PASSWORD)
    return {"server": server, "cadre": cadre, "officer": officer, "households": households,
            "collector": create_collector}


def found(client: WebClient, query: str) -> list[tuple[str, ...]]:
    """(name, status, sex, birth date, household, group) of each person found, in the page's order."""
    page = client.get("/search", params={"q": query})
    assert page.status_code == 200
    return [(html.unescape(name), re.sub(r"<[^>]+>", "", status).strip(), sex, born, *map(html.unescape, cells))
            for _uuid, name, status, sex, born, _id_number, _phone, *cells in ROW.findall(page.text)]


def numbers(client: WebClient, query: str) -> list[tuple[str, str]]:
    """(ID number, phone) of each person found, as the page shows them (masked)."""
    return [(id_number, phone) for *_, id_number, phone, _household, _group in
            ROW.findall(client.get("/search", params={"q": query}).text)]


def names(client: WebClient, query: str) -> list[str]:
    return [row[0] for row in found(client, query)]


GUILAN = ("张桂兰", "", "女", "1960-03-04", "3号户（户主 张桂兰）", "青山镇 › 东村 › 第一组")
LIMING = ("李明", "", "男", "1958-07-01", "3号户（户主 张桂兰）", "青山镇 › 东村 › 第一组")
ZHANG_WEI = ("张伟", "", "男", "1985-01-02", "12号户（户主 张伟）", "青山镇 › 东村 › 第二组")
HOMOPHONE = ("章桂兰", "", "女", "1962-02-03", "12号户（户主 张伟）", "青山镇 › 东村 › 第二组")
XICUN_GUILAN = ("张桂兰", "", "女", "1961-04-05", "3号户（户主 张桂兰）", "青山镇 › 西村 › 第一组")


@pytest.mark.parametrize(("query", "expected"), [
    ("张桂兰", [GUILAN, HOMOPHONE]),                 # the name, and names read the same
    ("张", [GUILAN, ZHANG_WEI]),                      # the surname alone: not 章
    ("张桂", [GUILAN]),
    ("zhang gui lan", [GUILAN, HOMOPHONE]),          # pinyin with spaces
    ("zhangguilan", [GUILAN, HOMOPHONE]),            # and without
    ("Zhang Gui", [GUILAN, HOMOPHONE]),              # its beginning, in capitals
    ("zgl", [GUILAN, HOMOPHONE]),                    # initials
    ("ZW", [ZHANG_WEI]),
    ("lm", [LIMING]),
    ("3", [LIMING, GUILAN]),                         # a household number: its members in the area
    ("3号", [LIMING, GUILAN]),
    ("003号户", [LIMING, GUILAN]),
    ("12", [HOMOPHONE, ZHANG_WEI]),
    ("13812345678", [GUILAN]),                       # a phone number
    ("138 1234", [GUILAN]),                          # its beginning (not 西村's 13812349999)
    (GUILAN_ID, [GUILAN]),                           # an ID number
    (GUILAN_ID.lower(), [GUILAN]),                   # with a small x
    ("5107221960", [GUILAN]),                        # its beginning
    ("１３８１２３４５６７８", [GUILAN]),              # full-width digits are digits
])
def test_each_way_of_finding_a_person_of_the_village(town, query, expected):
    assert found(town["cadre"], query) == expected


def test_results_show_id_numbers_and_phones_masked(town):
    """Found by the full ID number or phone, the person is listed with both masked (the person page has them)."""
    masked = (f"{GUILAN_ID[:4]}**********{GUILAN_ID[-4:]}", "138****5678")
    assert numbers(town["cadre"], GUILAN_ID) == [masked]
    assert numbers(town["cadre"], "13812345678") == [masked]
    assert GUILAN_ID not in town["cadre"].get("/search", params={"q": "张桂兰"}).text


def test_a_village_cadre_never_finds_people_of_another_village_or_town_and_the_town_office_finds_its_own(town):
    cadre, officer = town["cadre"], town["officer"]
    for query in ("赵六", "zl", "13812349999", "1381234999"):   # 西村's people
        assert found(cadre, query) == []
    assert found(officer, "赵六") == [("赵六", "", "男", "1961-01-01", "3号户（户主 张桂兰）", "青山镇 › 西村 › 第一组")]
    # Four women named 张桂兰: two in 东村 of 青山镇 (one a homophone), one in 西村, one in 东村 of another town.
    assert found(officer, "张桂兰") == [GUILAN, XICUN_GUILAN, HOMOPHONE]
    assert found(officer, "3") == [LIMING, GUILAN, XICUN_GUILAN, ("赵六", "", "男", "1961-01-01",
                                                                  "3号户（户主 张桂兰）", "青山镇 › 西村 › 第一组")]
    assert names(officer, "13812340000") == [] and names(cadre, "13812340000") == []


def test_nothing_found_says_so_and_an_empty_search_shows_the_form_only(town):
    cadre = town["cadre"]
    page = cadre.get("/search", params={"q": "王五"}).text
    assert '<p id="none">在您负责的区域内没有找到与“王五”相符的人。</p>' in page
    assert 'id="found"' not in page and 'id="count"' not in page
    blank = cadre.get("/search", params={"q": "   "}).text
    assert 'id="none"' not in blank and 'id="found"' not in blank
    assert 'placeholder="姓名、拼音、首字母、户号、手机号或身份证号码"' in cadre.get("/search").text
    english = WebClient(town["server"].url)
    english.session.headers["Accept-Language"] = "en"
    english.sign_in("dongcun", PASSWORD)
    page = english.get("/search", params={"q": "wangwu"}).text
    assert '<p id="none">Nobody in your area matches “wangwu”.</p>' in page
    page = english.get("/search", params={"q": "zgl"}).text
    assert '<p id="count">People found: 2.</p>' in page
    assert "<td data-label=\"Household\">Household 3 (head: 张桂兰)</td>" in page
    assert '<td data-label="Sex">Female</td>' in page


def test_results_show_names_and_labels_never_identifiers(town):
    page = town["cadre"].get("/search", params={"q": "zhang"}).text
    assert '<p id="count">共 3 人。</p>' in page
    visible = re.sub(r"<[^>]+>", " ", page[page.index('<p id="count">'):page.index("</table>")])
    assert UUID.findall(visible) == []
    assert "female" not in visible and "head" not in visible
    uuids = re.findall(r'<a href="/people/([^"]+)">', page)
    assert len(uuids) == 3
    assert town["cadre"].get(f"/people/{uuids[0]}").status_code == 200


@pytest.mark.parametrize("query", ["%", "_", "%%%", "张%", "a_b", "\\", "'; DROP TABLE person; --", "<script>x</script>",
                                   "张gl3", "😀", "x" * 5000, "张" * 5000, "1" * 5000, "号", "12X", "ⅻ", "٣",
                                   "\u200b", "ü", "lü"])
def test_any_input_is_a_page(town, query):
    response = town["cadre"].get("/search", params={"q": query})
    assert response.status_code == 200
    assert "<script>x" not in response.text
    assert ("张%" == query) == (names(town["cadre"], query) == ["张桂兰", "张伟"])   # % is not a wildcard


def test_more_than_fifty_found_shows_fifty_and_says_how_many(server, create_collector, publish, monkeypatch):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    given = "明华国平建军秀英春梅志强海燕丽娟玉兰桂芳永红德福金凤"
    members = [Member(f"何{given[i % len(given)]}{given[(i * 7 + 3) % len(given)]}", "male", f"19{50 + i}-01-01",
                      relationship="head" if i == 0 else "other") for i in range(48)]
    for index, batch in enumerate((members[:24], members[24:])):
        assert phone.submit(household_visit(household=f"66666666-0000-4000-8000-00000000000{index}",
                                            new=(str(index + 1), "何家"), members=batch, start=START)).status_code == 201
    more = [Member(f"何{name}", "female", "1990-01-01", relationship="head") for name in ("一", "二", "三")]
    assert phone.submit(household_visit(household="66666666-0000-4000-8000-000000000009", new=("9", "何家"),
                                        members=more, start=START)).status_code == 201
    merge_all()
    create_collector("青山镇/东村", username="dongcun", role="village_cadre", password=PASSWORD)
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun", PASSWORD)
    page = cadre.get("/search", params={"q": "何"}).text
    assert '<p id="count">共 51 人，显示前 50 人。请多输入一些内容以缩小范围。</p>' in page
    assert len(ROW.findall(page)) == 50
    assert '<p id="count">共 3 人。</p>' in cadre.get("/search", params={"q": "9号"}).text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.search")
                                .order_by(AuditEvent.id)).all()
    assert [event.records for event in events] == [50, 3]
    db.session.rollback()
    # A county's surname finds tens of thousands: they are counted up to a cap, and the page says "more than".
    monkeypatch.setattr(people_search, "COUNTED_UP_TO", 50)
    capped = cadre.get("/search", params={"q": "何"}).text
    assert '<p id="count">共 50 多人，显示前 50 人。请多输入一些内容以缩小范围。</p>' in capped
    assert ROW.findall(capped) == ROW.findall(page)      # the same fifty, in the same order
    monkeypatch.setattr(people_search, "COUNTED_UP_TO", 51)
    assert '<p id="count">共 51 人，显示前 50 人。' in cadre.get("/search", params={"q": "何"}).text


def test_every_search_is_audited_with_the_readers_area(town):
    cadre = town["cadre"]
    for query in ("zgl", "王五", "", "3"):
        cadre.get("/search", params={"q": query})
    events = [(event.action, event.area_path, event.records) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.search").order_by(AuditEvent.id))]
    village_path = db.session.scalar(text("SELECT path FROM area WHERE full_name = '青山镇/东村'"))
    db.session.rollback()
    assert events == [("person.search", village_path, 2), ("person.search", village_path, 0),
                      ("person.search", village_path, 2)]


def test_the_search_keys_follow_a_corrected_name_and_a_rebuild_gives_the_same_rows(town):
    server, cadre = town["server"], town["cadre"]
    guilan = PEOPLE["青山镇/东村/第一组"][1][0]
    phone = server.client(token=town["collector"]("青山镇/东村/第一组").token)
    correction = household_visit(household=town["households"]["青山镇/东村/第一组"], base_version=1,
                                 start="2026-11-05T09:00:00.000+08:00",
                                 updates=[{"person_uuid": guilan.uuid, "base_version": 1,
                                           "change": "details_corrected", "name_corrected": "单桂兰"}])
    assert phone.submit(correction).status_code == 201
    merge_all()
    assert names(cadre, "sgl") == ["单桂兰"] and names(cadre, "shan gui") == ["单桂兰"]   # 单 as a surname: Shan
    assert names(cadre, "zgl") == ["章桂兰"]
    live = register_queries.register_snapshot()
    db.session.rollback()
    rebuild_register()
    commit()
    assert register_queries.register_snapshot() == live
    db.session.rollback()
    assert names(cadre, "sgl") == ["单桂兰"] and names(cadre, "单") == ["单桂兰"]


def test_postgresql_finds_people_through_the_indexes(town):
    """On PostgreSQL every way of finding is an index look-up (with sequential scans discouraged: the tables here
    are too small for the planner to prefer an index on its own)."""
    if town["server"].backend != "postgresql":
        pytest.skip("the plan of PostgreSQL")
    village_path = db.session.scalar(text("SELECT path FROM area WHERE full_name = '青山镇/东村'"))
    for query in ("张", "张桂兰", "zgl", "zhang gui", "3", "13812345678", GUILAN_ID, "5107221960"):
        statement = search_queries.find_statement(village_path, read_search(query))
        compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + str(compiled).replace("%", "%%")))
        assert "Seq Scan on person" not in plan and "Seq Scan on household" not in plan, (query, plan)
        db.session.rollback()


def test_the_migration_fills_in_the_keys_of_the_people_already_there(live_server, tmp_path_factory):
    """0012 on a register that has people: their keys are what the merge and a rebuild write; and it goes back."""
    app = make_test_app(tmp_path_factory, live_server.backend, database_suffix="_migration")
    migrations = str(ROOT / "server" / "migrations")
    try:
        with app.app_context():
            downgrade(directory=migrations, revision="0011")
            db.session.execute(text("INSERT INTO person (uuid, name, version) VALUES "
                                    "('a', '张桂兰', 1), ('b', '单田芳', 1), ('c', '张桂兰', 2), ('d', NULL, 1), "
                                    "('e', '·', 1)"))
            db.session.commit()
            upgrade(directory=migrations)
            rows = db.session.execute(text("SELECT uuid, name_pinyin, name_initials FROM person ORDER BY uuid")).all()
            db.session.rollback()
            assert [tuple(row) for row in rows] == [("a", "zhangguilan", "zgl"), ("b", "shantianfang", "stf"),
                                                    ("c", "zhangguilan", "zgl"), ("d", None, None),
                                                    ("e", None, None)]
            downgrade(directory=migrations, revision="0011")
            upgrade(directory=migrations)
    finally:
        with app.app_context():
            db.engine.dispose()
