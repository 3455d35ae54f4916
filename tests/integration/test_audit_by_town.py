"""A town office's audit log holds its own town's events only, newest first, page by page — on PostgreSQL read by the
index on each event's town (migration 0025), which must not take town 1's events for town 12's or the reverse."""

from __future__ import annotations

import re

from server.areas.operations import ensure_area
from server.audit import listing
from server.audit import queries as audit
from server.database import commit
from server.users.operations import add_user
from tests.conftest import REALM
from tests.web import WebClient

PASSWORD = "audit-town-password"


def test_a_town_offices_log_is_its_towns_events_newest_first_paged(server, monkeypatch):
    towns = [ensure_area(f"镇{number}/村/组") for number in range(1, 14)]   # area ids 1–39: towns 1, 4, …, 37
    commit()
    first_town = towns[0].path.strip("/").split("/")[0]
    look_alike = next(area for area in towns if area.path.startswith(f"/{first_town}") and area is not towns[0])
    add_user("officer1", "town_officer", "镇1", realm=REALM, password=PASSWORD)
    for number in range(7):      # the first town's events and a look-alike town's, interleaved in time
        audit.record(None, "registers.read", area_path=towns[0].path, records=100 + number)
        audit.record(None, "registers.read", area_path=look_alike.path, records=200 + number)
    audit.record(None, "registers.read", area_path=f"/{first_town}/", records=999)
    commit()
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    officer = WebClient(server.url)
    officer.sign_in("officer1", PASSWORD)
    pages = [officer.get("/audit", params={"page": number}).text for number in (1, 2, 3)]
    records = [re.findall(r'<td class="area">[^<]*</td><td class="optional">(\d+)</td>', page) for page in pages]
    assert records == [["999", "106", "105"], ["104", "103", "102"], ["101", "100"]]   # none of the 200s
    assert '<p id="audit-count">第 1–3 条，共 8 条</p>' in pages[0]
