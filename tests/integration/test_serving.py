"""`taizhang serve` as run in production: slow clients hold no worker thread and are cut off; X-Forwarded-* is
trusted only when configured."""

from __future__ import annotations

import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from server.extensions import db
from tests.conftest import free_port
from tests.web import WebClient

TAIZHANG = str(Path(sys.executable).parent / "taizhang")
CLIENT_TIMEOUT = 2  # seconds (TAIZHANG_CLIENT_TIMEOUT): short, to keep the test quick


@dataclass
class Served:
    url: str
    port: int
    database: Path
    process: subprocess.Popen


def _serve(tmp_path: Path, *args: str, **environ: str) -> Served:
    """`taizhang serve` in a subprocess on a free port, on a new SQLite database; returns once it answers."""
    port = free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "TAIZHANG_INSTANCE_DIR": str(instance), "TAIZHANG_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT),
           **environ}
    for name in ("TAIZHANG_DATABASE_URL", "TAIZHANG_PROXY_COUNT"):
        if name not in environ:
            env.pop(name, None)
    process = subprocess.Popen([TAIZHANG, "serve", "--port", str(port), *args], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "taizhang serve exited"
        try:
            if requests.get(f"{url}/login", timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "taizhang serve did not answer within 60 s"
        time.sleep(0.2)
    return Served(url, port, instance / "taizhang.sqlite3", process)


def _stop(served: Served) -> None:
    os.killpg(served.process.pid, signal.SIGTERM)
    served.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The default set-up (`taizhang serve`: 2 worker processes × 4 threads), failed sign-ins lock an address after
    3 failures."""
    served = _serve(tmp_path_factory.mktemp("serve"), TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS="3")
    yield served
    _stop(served)


class _Trickler(threading.Thread):
    """Keeps slow connections alive by sending one byte to each every 0.25 s (4 bytes/s) and notes when the server
    closes each one."""

    def __init__(self, connections: list[socket.socket]) -> None:
        super().__init__(daemon=True)
        self.open = {conn: time.monotonic() for conn in connections}
        self.closed_after: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while self.open and not self.stop.is_set():
            readable, _, _ = select.select(list(self.open), [], [], 0)
            for conn in list(self.open):
                try:
                    if conn in readable:  # the server answered or closed: either way this client is cut off
                        conn.recv(65536)
                        raise ConnectionResetError
                    conn.send(b"a")
                except OSError:
                    self.closed_after.append(time.monotonic() - self.open.pop(conn))
                    conn.close()
            time.sleep(0.25)
        for conn in self.open:
            conn.close()


def _slow_connections(port: int, count: int) -> list[socket.socket]:
    """Half trickle their request headers, half a /login form body they announced 1,000 bytes of."""
    connections = []
    for index in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 2:
            conn.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        else:
            conn.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                         b"\r\nContent-Length: 1000\r\n\r\nusername=")
        connections.append(conn)
    return connections


def test_slow_clients_do_not_stall_the_server_and_are_cut_off(served):
    """40 clients trickling headers or a /login body at 4 bytes/s (five times the 8 worker threads) hold no thread:
    other requests are answered at once; each slow client is cut off once it is slower than the configured
    timeout allows (here 2 s for the headers, or a body below 500 bytes/s after 2 s)."""
    trickler = _Trickler(_slow_connections(served.port, 40))
    trickler.start()
    try:
        time.sleep(0.5)
        assert len(trickler.open) == 40  # every slow client is connected and sending
        for _ in range(5):
            started = time.monotonic()
            page = requests.get(f"{served.url}/login", timeout=10)
            assert page.status_code == 200
            assert time.monotonic() - started < 2.0
            time.sleep(0.2)
        trickler.join(timeout=CLIENT_TIMEOUT + 6)
        assert not trickler.is_alive(), f"{len(trickler.open)} slow connection(s) still open"
        assert len(trickler.closed_after) == 40
        assert min(trickler.closed_after) >= CLIENT_TIMEOUT - 0.5
        assert max(trickler.closed_after) < CLIENT_TIMEOUT + 3
    finally:
        trickler.stop.set()
        trickler.join(timeout=5)


def test_an_idle_connection_is_closed(served):
    """A client that opens a connection and sends nothing, or stops halfway through its headers, is disconnected."""
    silent = socket.create_connection(("127.0.0.1", served.port), timeout=CLIENT_TIMEOUT + 5)
    halfway = socket.create_connection(("127.0.0.1", served.port), timeout=CLIENT_TIMEOUT + 5)
    halfway.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    for conn in (silent, halfway):
        try:
            assert conn.recv(1024) == b""
        except ConnectionResetError:
            pass
        conn.close()
    assert CLIENT_TIMEOUT - 0.5 <= time.monotonic() - started < CLIENT_TIMEOUT + 3


def test_a_body_over_the_limit_is_refused_before_it_is_sent(served):
    """A request announcing more than TAIZHANG_MAX_SUBMISSION_BYTES is answered at once by the app (413 in the
    client's format: OpenRosa XML for Collect), without waiting for the body, and the connection closes."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-OpenRosa-Version: 1.0\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 52428801\r\n\r\nusername=")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nConnection: close\r\n" in head
    assert body.endswith("<message nature=\"error\">上传内容太大，超过服务器限制。 / The upload is larger than the server "
                         "accepts.</message></OpenRosaResponse>".encode())


def _throttle_keys(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {key for (key,) in connection.execute("SELECT key FROM auth_throttle")}


def _lock_subjects(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [subject for (subject,) in connection.execute(
            "SELECT subject FROM audit_event WHERE action = 'signin.locked' ORDER BY id")]


def _fail_sign_ins(url: str, spoofed: list[str]) -> list[int]:
    """A failed sign-in per spoofed X-Forwarded-For, each with another unknown user name."""
    web = WebClient(url)
    return [web.post("/login", {"username": f"nobody{index}", "password": "wrong password"},
                     headers={"X-Forwarded-For": address}, allow_redirects=False).status_code
            for index, address in enumerate(spoofed)]


def test_a_spoofed_forwarded_for_is_not_the_client_address(served):
    """Without TAIZHANG_PROXY_COUNT, X-Forwarded-For is ignored: failed sign-ins from one client count against its
    own address (127.0.0.1), whatever address each claims, and the lock is audited for that address."""
    spoofed = [f"203.0.113.{n}" for n in range(1, 6)]
    assert _fail_sign_ins(served.url, spoofed) == [401, 401, 401, 429, 429]
    assert {key for key in _throttle_keys(served.database) if key.startswith("address:")} == {"address:127.0.0.1"}
    assert _lock_subjects(served.database) == ["address:127.0.0.1"]


def test_forwarded_for_is_trusted_when_configured(tmp_path):
    """With TAIZHANG_PROXY_COUNT=1 (one proxy in front), the address the proxy appends is the client's."""
    served = _serve(tmp_path, "--workers", "1", "--threads", "2", TAIZHANG_PROXY_COUNT="1",
                    TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS="3")
    try:
        spoofed = ["198.51.100.1, 203.0.113.9"] * 4 + ["203.0.113.10"]
        assert _fail_sign_ins(served.url, spoofed) == [401, 401, 401, 429, 401]
        assert {key for key in _throttle_keys(served.database) if key.startswith("address:")} == {
            "address:203.0.113.9", "address:203.0.113.10"}
    finally:
        _stop(served)


def test_postgresql_connections_plan_each_statement_for_its_values_without_jit(server):
    """JIT compilation off and no generic plans on every PostgreSQL connection (server.database.configure_engine)."""
    if server.backend != "postgresql":
        pytest.skip("a PostgreSQL setting")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
