"""A crawl of every page each staff role can reach by links, in Chinese at 390 px and 1280 px: no UUIDs, no codes or
English words, nothing wider than the screen, touch targets of 44 px, every error page in the site's layout."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import unquote, urlsplit

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.users.models import User
from sync.code_labels import CODE_LABELS
from sync.decisions import DECISION_KINDS, SETTABLE_FIELDS
from sync.indicators import INDICATORS
from sync.registers import REGISTERS
from sync.schedules import ANCHOR_KINDS, STATUSES, default_schedule
from sync.services import CORRECTABLE, ITEM_KINDS, PROBLEMS, SUPPORT_FIELDS
from sync.visits import PERSON_FIELDS

WIDTHS = (390, 1280)
PHONE = WIDTHS[0]
MAX_PAGES = 60
NOT_CRAWLED = re.compile(r"^/(logout|language/|static/)|\.(xlsx|csv)$")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
INSTANCE_ID = re.compile(r"uuid:\S*", re.IGNORECASE)
URL = re.compile(r"https?://\S+")
REFERENCE = re.compile(r"(?<![A-Za-z0-9_])[a-z_]+:[0-9]+(?![0-9])")          # an internal id: decision:2
TOKEN = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?![A-Za-z0-9_])")
CODE_SHAPED = re.compile(r"^[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+$")        # snake_case or dotted: person.search, has_issues
WORD = r"(?<![A-Za-z0-9_])[A-Za-z][a-z]*(?![A-Za-z0-9_])"
ENGLISH_RUN = re.compile(rf"{WORD}(?:[,;:]? +{WORD})+")            # two or more words: "Nobody home"
ALLOWED = ("ODK Collect", "GPS", "ID", "QR", "Excel", "xlsx", "PDF", "English")
# Pinyin is not English (a name's pinyin, the search's example "zhang gui lan"): a run of pinyin-shaped words passes.
PINYIN = re.compile(r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|uai|uan|ian|iao|ai|ei|ao"
                    r"|ou|an|en|er|ia|ie|in|iu|ua|uo|ui|un|ue|ve|a|o|e|i|u|v))+")

# Every code a page might show raw: the catalogue's lists and codes, the register's field names, decision kinds,
# item kinds and their odd values, review states, schedule states, tiers, the registers' and the indicators' names
# (audit actions come from the database after the crawl).
KNOWN_CODES = frozenset(
    {code for codes in CODE_LABELS.values() for code in codes} | set(CODE_LABELS) | set(PERSON_FIELDS)
    | {name for names in SETTABLE_FIELDS.values() for name in names} | set(SUPPORT_FIELDS)
    | {name for names in CORRECTABLE.values() for name in names} | set(DECISION_KINDS) | set(ITEM_KINDS)
    | set(PROBLEMS) | {"received", "approved", "has_issues", "rejected"} | set(STATUSES) | set(ANCHOR_KINDS)
    | set(default_schedule().tier_names) | set(REGISTERS) | set(INDICATORS))

# What one page reports about itself: its status, layout, text as people see it (without the support fold), width,
# its links, and the touch targets smaller than 44 × 44 px.
PAGE_FACTS = """
const navigation = performance.getEntriesByType('navigation')[0];
const folds = [...document.querySelectorAll('details.support')];
folds.forEach(fold => fold.style.setProperty('display', 'none', 'important'));
const shown = element => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
const words = [...document.querySelectorAll('input[type=submit], input[type=button], [placeholder]')]
    .filter(shown).map(element => element.value && element.type.match(/submit|button/) ? element.value
                                                                                      : element.placeholder || '');
const text = [document.title, document.body ? document.body.innerText : '', ...words].join('\\n');
folds.forEach(fold => fold.style.removeProperty('display'));
const width = document.documentElement.clientWidth;
const describe = element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
    + [...element.classList].map(name => '.' + name).join('');
const wide = [...document.querySelectorAll('body *')].filter(element => shown(element)
    && element.getBoundingClientRect().right > width + 1
    && ![...element.children].some(child => child.getBoundingClientRect().right > width + 1));
const targets = [...document.querySelectorAll(
    'header a, header button, header summary, nav a, nav button, form button, form input:not([type=hidden]), '
    + 'form select, form textarea, table a, table button')].filter(shown).map(element =>
    element.matches('input[type=radio], input[type=checkbox]') && element.closest('label')
        ? [element, element.closest('label')] : [element, element]);
const small = targets.filter(([element, target]) => {
    const box = target.getBoundingClientRect();
    return box.height < 43.5 || box.width < 43.5;
}).map(([element, target]) => {
    const box = target.getBoundingClientRect();
    const words = element.tagName === 'SELECT' ? '' : (element.innerText || element.value || '').trim();
    return describe(element) + ' "' + words.split('\\n')[0].slice(0, 20) + '" '
        + Math.round(box.width) + '×' + Math.round(box.height);
});
return {status: navigation ? navigation.responseStatus : 0, html: document.contentType === 'text/html',
        layout: !!document.querySelector('body > header'), text: text,
        scroll: document.documentElement.scrollWidth, inner: window.innerWidth, client: width,
        wide: [...new Set(wide.map(describe))].slice(0, 4), small: [...new Set(small)],
        links: [...document.querySelectorAll('a[href]')].map(link => link.href)};
"""


# ---- the crawl -------------------------------------------------------------------------------------------------

def _path(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path + (f"?{parts.query}" if parts.query else ""))


def _facts(browser, base: str, path: str, width: int) -> dict:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 844 if width == PHONE else 900, "deviceScaleFactor": 1,
                             "mobile": width == PHONE})
    browser.get(base + path)
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete")
    return browser.execute_script(PAGE_FACTS)


def crawl(browser, base: str, start: list[str], errors: dict[str, tuple[int, ...]]) -> tuple[dict, dict]:
    """Visit the start pages and every same-origin page reachable from them by links (breadth first, at most
    MAX_PAGES), then `errors` (path → the statuses it may answer), each at both widths. Returns the findings
    (path → set of lines) and the visible text of each HTML page (path → text), checked later for codes."""
    findings: dict[str, set[str]] = {}
    texts: dict[str, str] = {}
    origin = urlsplit(base).netloc
    queue, seen, pages = deque(start), set(start), []
    while queue and len(pages) < MAX_PAGES:
        path = queue.popleft()
        pages.append(path)
        facts = _facts(browser, base, path, PHONE)
        for link in facts["links"]:
            parts = urlsplit(link)
            target = _path(parts._replace(fragment="").geturl())
            if parts.scheme.startswith("http") and parts.netloc == origin and target not in seen \
                    and not NOT_CRAWLED.search(urlsplit(target).path):
                seen.add(target)
                queue.append(target)
        if facts["status"] >= 400:
            findings.setdefault(path, set()).add(f"answers {facts['status']}" + ("" if path in start else
                                                                                 ", yet a page links here"))
    for path in pages + list(errors):
        for width in WIDTHS:
            facts = _facts(browser, base, path, width)
            found = findings.setdefault(path, set())
            if path in errors and facts["status"] not in errors[path]:
                found.add(f"answers {facts['status']}, expected {' or '.join(map(str, errors[path]))}")
            if facts["status"] >= 400 and not facts["layout"]:
                found.add(f"error page {facts['status']} outside the layout (no header)")
            if not facts["html"]:
                continue
            texts[path] = texts.get(path, "") + "\n" + facts["text"]
            if facts["scroll"] > min(facts["inner"], facts["client"]) + 1:
                found.add(f"wider than the screen at {width} px: {facts['scroll']} px ({', '.join(facts['wide'])})")
            if width == PHONE:
                for target in facts["small"]:
                    found.add(f"touch target under 44 px at {width} px: {target}")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return findings, texts


def text_findings(text: str, codes: frozenset[str], usernames: frozenset[str]) -> set[str]:
    """UUIDs, instanceIDs, internal ids, codes and English words in a zh page's visible text."""
    found = {f"UUID {match}" for match in UUID.findall(text)}
    found |= {f"instanceID {match}" for match in INSTANCE_ID.findall(text)}
    text = UUID.sub(" ", INSTANCE_ID.sub(" ", URL.sub(" ", text)))
    found |= {f"internal id {match}" for match in REFERENCE.findall(text)}
    for allowed in ALLOWED:
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(allowed)}(?![A-Za-z0-9_])", " ", text)
    for token in TOKEN.findall(text):
        if token not in usernames and (token.lower() in codes or CODE_SHAPED.match(token)):
            found.add(f"code {token!r}")
    text = TOKEN.sub(lambda match: " " if match.group() in usernames else match.group(), text)
    found |= {f"English {' '.join(match.split())!r}" for match in ENGLISH_RUN.findall(text)
              if not all(PINYIN.fullmatch(word.lower()) for word in re.findall(WORD, match))}
    return found


def report(findings: dict[str, set[str]], texts: dict[str, str]) -> str:
    """Every finding by page, the visible text checked too."""
    db.session.rollback()
    actions = frozenset(db.session.scalars(select(AuditEvent.action).distinct()))
    usernames = frozenset(db.session.scalars(select(User.username)))
    db.session.rollback()
    codes = frozenset(code.lower() for code in KNOWN_CODES | actions)
    for path, text in texts.items():
        findings.setdefault(path, set()).update(text_findings(text, codes, usernames))
    lines = [f"{path}\n" + "\n".join(f"    {line}" for line in sorted(found))
             for path, found in sorted(findings.items()) if found]
    return f"{len(lines)} of {len(findings)} pages have findings:\n" + "\n".join(lines) if lines else ""


# ---- the tests -------------------------------------------------------------------------------------------------

ROLES = [("dongcun_cadre", "刘芳"), ("qingshan_officer", "孙伟"), ("county_admin", None)]


def crawl_as(county, sign_in_as, browser, username: str | None, elsewhere: str | None) -> tuple[dict, dict]:
    """The crawl of what `username` (None: someone not signed in) reaches, with error pages to try: an unknown path,
    person and visit, and the person `elsewhere` (outside the user's area)."""
    if username is None:
        return crawl(browser, county.server.url, ["/", "/login"], {"/no-such-page": (404,)})
    sign_in_as(username)
    errors = {"/no-such-page": (404,), "/people/00000000-0000-4000-8000-000000000000": (404,),
              "/visits/999999": (404,)}
    if elsewhere:
        errors[f"/people/{county.people[elsewhere]}"] = (403, 404)
    findings, texts = crawl(browser, county.server.url, ["/"], errors)
    assert len(texts) > 10
    return findings, texts


@pytest.mark.parametrize("username, elsewhere", ROLES + [(None, None)])
def test_every_page_a_role_reaches_reads_well_at_both_widths(county, browser, sign_in_as, username, elsewhere):
    message = report(*crawl_as(county, sign_in_as, browser, username, elsewhere))
    assert not message, message


def test_the_crawl_tells_uuids_codes_and_english_in_chinese_text():
    codes = frozenset(code.lower() for code in KNOWN_CODES | {"person.search"})
    text = ("王秀英 · 女 · 东村 1号户\n性别\tfemale\n来源 uuid:0b07b479-2f7c-44d6-87d1-a2c97b438689\n"
            "户 00000013-0000-4000-8000-000000000001\n做了什么 person.search\n审核 has_issues\n结果 Nobody home\n"
            "dongcun_cadre 用 ODK Collect 扫描 QR 码 · GPS · ID · 下载（Excel, xlsx） · English\n"
            "中文 Male\tspouse unknown_code\thttp://127.0.0.1:5000/key/abc\t来源 decision:2 · 10:00\n"
            "例如 zhang gui lan 或 Zhang Guilan · Not the same")
    assert text_findings(text, codes, frozenset({"dongcun_cadre"})) == {
        "instanceID uuid:0b07b479-2f7c-44d6-87d1-a2c97b438689", "UUID 0b07b479-2f7c-44d6-87d1-a2c97b438689",
        "UUID 00000013-0000-4000-8000-000000000001", "code 'female'", "code 'person.search'", "code 'has_issues'",
        "English 'Nobody home'", "code 'Male'", "code 'spouse'", "code 'unknown_code'", "internal id decision:2",
        "English 'Not the same'"}
    assert text_findings("王秀英 · 女 · 1990-05-06 · 13900000002 · 第 1–10 条，共 10 条", codes, frozenset()) == set()
