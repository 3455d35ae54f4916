"""ID numbers and phones masked by default, through HTTP on SQLite and PostgreSQL: every page and download a village
cadre, the town office and the county reach from their home page shows them masked (3301**********1234,
138****5678) and never in full, except the person page; an export in full only with a reason, audited with it; an
empty reason refused, nothing exported, nothing audited (issue 21)."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.html
import openpyxl
from sqlalchemy import select

from server.demo import seed_demo
from server.extensions import db
from server.register.models import Person
from sync.privacy import mask_id_number, mask_phone
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


def people_values() -> dict[str, str]:
    """Every full ID number and phone in the register → its masked form."""
    values = {}
    for person in db.session.scalars(select(Person)):
        if person.id_number:
            values[person.id_number] = mask_id_number(person.id_number)
        if person.phone:
            values[person.phone] = mask_phone(person.phone)
    db.session.rollback()
    return values


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
    seen, queue, leaks, everything = set(), ["/"], {}, []
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
    demo = seed_demo()
    values = people_values()
    assert len(values) >= 10
    accounts = [demo.county, demo.officer[0], demo.cadre[0]]
    for account in accounts:
        client = WebClient(server.url)
        assert client.sign_in(account.username, account.password).status_code == 302
        leaks, text = crawl(client, values)
        print("LEAKS", account.username, {urlsplit(k).path for k in leaks})
        assert leaks == {}, account.username
        assert mask_id_number("510723196803120111") in text
        assert mask_phone("13812345678") in text
