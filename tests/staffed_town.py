"""A town of test accounts for integration tests: areas, collectors with their phones (token URLs) and staff with a
password, a settable clock, and sending a visit as a phone does at a given instant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from server import clock
from server.areas.operations import ensure_area
from server.database import commit
from server.users.operations import add_user
from tests.collect import CollectClient
from tests.conftest import REALM
from tests.web import WebClient


@dataclass
class StaffedTown:
    url: str
    password: str
    now: dt.datetime                                    # the clock between sends
    tokens: dict[str, str] = field(default_factory=dict)          # collector → app token
    phones: dict[str, CollectClient] = field(default_factory=dict)
    at: dict[str, dt.datetime] = field(default_factory=dict)

    def send(self, collector: str, xml: bytes, received: dt.datetime) -> None:
        """A phone sends a submission (HEAD, then POST) that arrives at `received`."""
        self.at["now"] = received
        assert self.phones[collector].submit(xml).status_code == 201
        self.at["now"] = self.now

    def set_now(self, moment: dt.datetime) -> None:
        self.now = self.at["now"] = moment

    def signed_in(self, username: str) -> WebClient:
        client = WebClient(self.url)
        assert client.sign_in(username, self.password).status_code == 302
        return client


def staffed_town(server, monkeypatch, users, *, password: str, now: dt.datetime) -> StaffedTown:
    """`users` as (user name, role, area, display name); collectors get a phone on their token URL."""
    town = StaffedTown(server.url, password, now)
    for username, role, area, name in users:
        ensure_area(area)
        token = add_user(username, role, area, realm=REALM, display_name=name, password=password,
                         with_token=role == "collector").token
        if token:
            town.tokens[username] = token
            town.phones[username] = server.client(token=token)
    commit()
    town.at["now"] = now
    monkeypatch.setattr(clock, "now", lambda: town.at["now"])
    return town
