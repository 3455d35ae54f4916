"""No copy of personal data stays in a browser's or proxy's cache: every answer carries `Cache-Control: no-store`,
checked by crawling every staff page, export, API and Collect download a signed-in user can reach."""

from __future__ import annotations

import datetime as dt
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.auth import HTTPDigestAuth

from server import clock
from server.areas.operations import ensure_area
from server.areas.queries import by_full_name
from server.database import commit
from server.extensions import db
from server.notices.operations import take_notice
from server.register.worker import merge_next
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.notices import Notice
from tests.collect import CollectClient, xml_text
from tests.conftest import FIXTURES, REALM, ROOT
from tests.register_visits import Member, household_visit
from tests.submission_xml import plain_submission
from tests.web import WebClient

PASSWORD = "no-store-password-1"
STAFF = {"cadre": ("village_cadre", "青山镇/东村"), "officer": ("town_officer", "青山镇"),
         "admin": ("county_admin", None)}


class _Page(HTMLParser):
    """The links of a page and the URLs its GET forms submit with their default values."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._form: tuple[str, list] | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "form" and attrs.get("method", "get").lower() == "get":
            self._form = (attrs.get("action") or "", [])
        elif self._form and tag == "input" and attrs.get("name"):
            self._form[1].append((attrs["name"], attrs.get("value") or ""))
        elif self._form and tag == "select":
            self._select = [attrs["name"], None]
        elif self._select is not None and tag == "option" and self._select[1] is None:
            self._select[1] = attrs.get("value")
            self._select.append(True)  # the first option's text is its value unless it has one

    def handle_data(self, data):
        if self._select is not None and len(self._select) == 3:
            self._select[1] = self._select[1] if self._select[1] is not None else data.strip()
            self._select.pop()

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self._form[1].append((self._select[0], self._select[1] or ""))
            self._select = None
        elif tag == "form" and self._form:
            self.urls.append(f"{self._form[0]}?{urlencode(self._form[1])}")
            self._form = None


def _crawl(web: WebClient, seeds: list[str]) -> dict[str, requests.Response]:
    """Every page reachable from the seeds by links and GET forms (no sign-out), fetched once each."""
    seen: dict[str, requests.Response] = {}
    queue = list(seeds)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        response = web.get(path, allow_redirects=False)
        seen[path] = response
        if response.headers.get("Content-Type", "").startswith("text/html"):
            page = _Page()
            page.feed(response.text)
            for url in page.urls:
                target = urlsplit(urljoin(web.base + path, url))
                if target.netloc == urlsplit(web.base).netloc and target.path not in ("/logout",):
                    queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def _world(server, create_collector, publish):
    """The real questionnaires with the fixture lists as media, a collector's group with two visited households,
    and a village cadre, a town officer and a county admin."""
    for source in ("household_visit.xlsx", "followup.xlsx"):
        publish(ROOT / "xlsforms" / source, media=sorted((ROOT / "xlsforms" / "fixtures").glob("*.csv")))
    publish(FIXTURES / "forms" / "visit_with_media.xml", media=[FIXTURES / "forms" / "logo.png"])
    collector = create_collector("青山镇/东村/第一组")
    phone = CollectClient(f"{server.url}/key/{collector.token}")
    for number, name in (("101", "王秀英"), ("102", "李桂兰")):
        xml = household_visit(household=str(uuid.uuid4()), new=(number, f"东村{number}号"),
                              members=[Member(name, "female", "1975-05-06")], start="2026-10-01T09:00:00.000+08:00")
        assert phone.post_submission(xml).status_code == 201
    photo_visit = plain_submission("visit_with_media", "3", f"uuid:{uuid.uuid4()}",
                                   {"household": "101", "photo": "photo.jpg", "signature": ""})
    assert phone.post_submission(photo_visit, {"photo.jpg": b"\xff\xd8 a photo"}).status_code == 201
    while merge_next() is not None:
        commit()
    ensure_area("青山镇/东村")
    for username, (role, area) in STAFF.items():
        add_user(username, role, area, realm=REALM, password=PASSWORD)
    commit()
    # October signed off by the cadre (an archived report to download) and this month's re-check sample drawn by
    # the town office (the re-checks page shows this month's: its households' pages and the re-draw's confirmation).
    village = by_full_name("青山镇/东村").id
    db.session.remove()
    for username, path, form in (("cadre", f"/months/{village}/2026-10/submit", {"confirm": "yes"}),
                                 ("officer", f"/rechecks/{village}/{clock.today():%Y-%m}/draw", {"percent": "100"})):
        web = WebClient(server.url)
        assert web.sign_in(username, PASSWORD).status_code == 302
        assert web.post(path, form, allow_redirects=False).status_code == 302
    # A service notice from 青山镇 to 白水镇 (its page and exports; the replication feed).
    ensure_area("白水镇/南村")
    take_notice(principal_by_username("admin"), Notice(
        str(uuid.uuid4()), "青山镇", False, "白水镇", False, "王秀英", "female", dt.date(1975, 5, 6), None, "南村 1 号",
        None, "supplies", None, dt.date(2199, 12, 31), clock.now(), "青山镇计生办"), source="file")
    commit()
    return collector, phone


def _endpoint(server, url: str) -> str:
    parts = urlsplit(url)
    return server.app.url_map.bind("localhost").match(parts.path, method="GET")[0]


def test_every_answer_with_personal_data_is_not_stored(server, create_collector, publish):
    collector, phone = _world(server, create_collector, publish)
    answers: dict[str, requests.Response] = {}

    # Staff pages and exports, as each staff role reaches them from the start page.
    for username in STAFF:
        web = WebClient(server.url)
        signed_in = web.sign_in(username, PASSWORD)
        assert signed_in.status_code == 302
        answers[f"POST /login as {username}"] = signed_in
        crawled = _crawl(web, ["/", "/login", "/search?q=王秀英", "/account/password", "/privacy/purge"])
        answers.update({f"{path} as {username}": response for path, response in crawled.items()})

    # What a phone downloads, on the token URL and with Digest: the form list, forms, manifests and the media (the
    # collector's register lists).
    for client in (phone, CollectClient(server.url, collector.username, collector.password)):
        listed = client.form_list()
        answers[listed.url] = listed
        for url in xml_text(listed, "downloadUrl") + xml_text(listed, "manifestUrl"):
            answers[url] = client.get(url)
        for manifest in xml_text(listed, "manifestUrl"):
            for url in xml_text(answers[manifest], "downloadUrl"):
                answers[url] = client.get(url)
        answers[f"HEAD {listed.url}"] = client.head_submission()

    # The JSON API (Digest), replication feeds and a replicated submission.
    officer = HTTPDigestAuth("officer", PASSWORD)
    for path in ("/api/v1/due", "/api/v1/indicators", "/api/v1/replication/submissions",
                 "/api/v1/replication/decisions", "/api/v1/replication/notices"):
        answers[path] = requests.get(server.url + path, auth=officer, timeout=30)
    (instance_id,) = [submission["instance_id"] for submission in answers["/api/v1/replication/submissions"].json()[
        "submissions"] if submission["attachments"]]
    for path in (f"/api/v1/replication/submissions/{instance_id}",
                 f"/api/v1/replication/submissions/{instance_id}/attachments/photo.jpg"):
        answers[path] = requests.get(server.url + path, auth=officer, timeout=30)

    assert {name: response.headers.get("Cache-Control") for name, response in answers.items()} == {
        name: "no-store" for name in answers}

    # The crawl reached every page and download there is (other than static files and the two that only redirect:
    # the language switch and the root), with personal data in them.
    reached = {_endpoint(server, response.url) for response in answers.values() if response.status_code == 200}
    gets = {rule.endpoint for rule in server.app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in ("static", "accounts.language", "accounts.home")}
    assert gets <= reached
    assert any(response.headers["Content-Type"].startswith("text/csv") and "王秀英" in response.text
               for response in answers.values())
    assert sum(response.headers.get("Content-Type") ==
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
               for response in answers.values()) >= 3
