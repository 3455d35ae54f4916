"""The `taizhang` command as a new user runs it: migrations, areas, users, publishing (ODK Validate on), serve."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.collect import CollectClient, visit_xml
from tests.conftest import BACKENDS, ROOT, fresh_postgres_database, wait_for_port
from tests.web import WebClient
from xlsforms import sheets

TAIZHANG = str(Path(sys.executable).parent / "taizhang")
VISIT_VERSION = sheets.version_of((ROOT / "xlsforms" / "text" / "household_visit.md").read_text())


@pytest.fixture(params=BACKENDS)
def cli_env(request, tmp_path):
    env = {**os.environ, "TAIZHANG_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("TAIZHANG_DATABASE_URL", None)
    if request.param == "postgresql":
        env["TAIZHANG_DATABASE_URL"] = fresh_postgres_database("_cli")
    return env


def run(env, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([TAIZHANG, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_areas_users_and_forms_from_the_command_line(cli_env, tmp_path):
    run(cli_env, "db", "upgrade")
    assert run(cli_env, "area", "add", "青山镇/东村/第一组").stdout == "group: 青山镇/东村/第一组\n"
    added = run(cli_env, "user", "add", "wang", "--role", "collector", "--area", "青山镇/东村/第一组").stdout
    assert re.search(r"password:  [a-z2-9]{14}\n", added)
    assert re.search(r"token URL: http://127\.0\.0\.1:8000/key/[A-Za-z0-9]{64}\n", added)
    wrong_kind = run(cli_env, "user", "add", "li", "--role", "village_cadre", "--area", "青山镇/东村/第一组",
                     check=False)
    assert wrong_kind.returncode == 1 and "belongs to a village" in wrong_kind.stderr

    published = run(cli_env, "form", "publish", str(ROOT / "xlsforms" / "household_visit.xlsx"))
    assert f"household_visit version {VISIT_VERSION} (入户访视): published" in published.stdout
    again = run(cli_env, "form", "publish", str(ROOT / "xlsforms" / "household_visit.xlsx"))
    assert "already published (identical)" in again.stdout
    assert run(cli_env, "form", "list").stdout.startswith(f"household_visit          {VISIT_VERSION}     open")

    assert run(cli_env, "register", "merge").stdout == "merged 0 submission(s)\n"
    assert run(cli_env, "register", "rebuild").stdout == "register rebuilt from 0 submission(s)\n"

    broken = tmp_path / "broken.xml"
    broken.write_text('<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms">'
                      "<h:head><h:title>x</h:title><model><instance><data id=\"broken\" version=\"1\"><a/></data>"
                      '</instance><bind nodeset="/data/a" type="string" calculate="1 +"/></model>'
                      "</h:head><h:body/></h:html>")
    refused = run(cli_env, "form", "publish", str(broken), check=False)
    assert refused.returncode == 1
    assert "The form definition is not valid" in refused.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_demo_is_the_main_job(cli_env):
    """`taizhang serve --demo`: migrations, demo town and collectors, forms, gunicorn; a collector can submit."""
    port = _free_port()
    process = subprocess.Popen([TAIZHANG, "serve", "--demo", "--port", str(port), "--workers", "2"], env=cli_env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                               start_new_session=True)
    output = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Serving on"):
                break
        text = "".join(output)
        assert f"Serving on http://127.0.0.1:{port}/" in text, text
        users = re.findall(r"user name: (\S+)\n  password:  (\S+)\n  token URL: (\S+)\n", text)
        assert [u[0] for u in users] == ["dongcun1", "dongcun2", "xicun1"]
        assert all(url.startswith(f"http://127.0.0.1:{port}/key/") for _, _, url in users)
        wait_for_port(port)  # gunicorn workers booting
        username, password, token_url = users[0]
        listed = CollectClient(f"http://127.0.0.1:{port}", username, password).form_list()
        assert listed.status_code == 200 and "<formID>household_visit</formID>" in listed.text
        assert listed.headers["Server"] == "taizhang"  # served by `taizhang serve`'s buffering workers (server.wsgi)
        assert CollectClient(token_url).submit(visit_xml(version=VISIT_VERSION)).status_code == 201
        # The demo register gives the village cadre a due list, and the collector their group's lists.
        cadre, cadre_password = re.search(r"Demo village cadre of 青山镇/东村 .*\n  user name: (\S+)\n  password:  (\S+)",
                                          text).groups()
        flags = requests.get(f"http://127.0.0.1:{port}/api/v1/due", auth=HTTPDigestAuth(cadre, cadre_password),
                             timeout=30).json()["flags"]
        assert {flag["rule"] for flag in flags} == {"postpartum", "tier_key", "tier_general"}
        # The demo town officer lands on the town's dashboard, which has figures to show.
        officer, officer_password = re.search(
            r"Demo town officer of 青山镇 .*\n  user name: (\S+)\n  password:  (\S+)", text).groups()
        office = WebClient(f"http://127.0.0.1:{port}")
        assert office.sign_in(officer, officer_password).status_code == 302
        dashboard = office.get("/").text
        assert "<h1>工作概况 · 青山镇</h1>" in dashboard
        total = dict(re.findall(r'<td class="number ([a-z-]+)[^"]*">([\d,]+)</td>',
                                re.search(r'<tr id="dashboard-total">.*?</tr>', dashboard, re.S).group(0)))
        assert int(total["overdue-people"]) >= 2 and int(total["unreviewed"]) >= 12 and total["collectors"] == "3"
        # …and 东村's cadre's export of the village's register among the exports of personal data.
        assert re.search(r'<tr data-action="export.register">\s*<td class="when">[^<]+</td>\s*<td class="staff">陈红 ',
                         dashboard)
        # 西村's demo cadre finds 刘伟, who moved out of 东村, among the expected arrivals; 红山镇's office is printed.
        xicun, xicun_password = re.search(
            r"Demo village cadre of 青山镇/西村 .*\n  user name: (\S+)\n  password:  (\S+)", text).groups()
        village = WebClient(f"http://127.0.0.1:{port}")
        assert village.sign_in(xicun, xicun_password).status_code == 302
        assert re.search(r'<tr id="expected-[^"]+">\s*<td class="name"[^>]*><strong>刘伟</strong>', village.get("/moves").text)
        assert "待迁入的人员：1 人。 到迁移页确认迁入的户" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", village.get("/").text))
        assert "Demo town officer of 红山镇 " in text
        # The demo county administrator reads every town's indicators.
        county, county_password = re.search(
            r"Demo county administrator .*\n  user name: (\S+)\n  password:  (\S+)", text).groups()
        indicators = requests.get(f"http://127.0.0.1:{port}/api/v1/indicators", params={"period": "2026-11"},
                                  auth=HTTPDigestAuth(county, county_password), timeout=30)
        assert county == "county_admin" and indicators.status_code == 200, indicators.text
        assert "Demo register: 12 visit(s) merged" in text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the nice value from /proc")
def test_the_merge_worker_loop_runs_at_a_lower_cpu_priority(cli_env):
    """`taizhang register merge --loop` (what `taizhang serve` starts beside gunicorn) lowers its priority by
    TAIZHANG_MERGE_NICE, so intake answers Collect first on a busy server."""
    run(cli_env, "db", "upgrade")
    worker = subprocess.Popen([TAIZHANG, "register", "merge", "--loop"], env={**cli_env, "TAIZHANG_MERGE_NICE": "7"},
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, nice = time.monotonic() + 60, None
        while time.monotonic() < deadline and worker.poll() is None:
            stat = Path(f"/proc/{worker.pid}/stat").read_text()
            nice = int(stat[stat.rindex(")") + 2:].split()[16])
            if nice == os.nice(0) + 7:
                break
            time.sleep(0.2)
        assert nice == os.nice(0) + 7
    finally:
        worker.terminate()
        worker.wait(timeout=30)
