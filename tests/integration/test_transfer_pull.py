"""`taizhang-transfer pull`: submissions fetched from ODK Central (a stand-in following Central's documented API)
and sent to our live server with their original instanceIDs; incremental, resumable, clear about failures. Each
test's docstring names the Central behaviour it relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter

from server.users.queries import by_username
from sync.central import CentralClient, Puller
from sync.transfer import Pusher, TransferError
from tests.central_standin import CentralStandIn
from tests.collect import visit_xml
from tests.conftest import ROOT, start_live_server, stored_attachments, stored_submissions

EMAIL, PASSWORD = "town@example.org", "central-password-1"
FORM = "household_visit"


@pytest.fixture
def central():
    standin = CentralStandIn(EMAIL, PASSWORD, forms=(FORM, "other_form"))
    standin.url, stop = start_live_server(standin.make_app())
    yield standin
    stop()


def puller(central, server, collector, out, *, password=PASSWORD, page_size=250, waits=None) -> Puller:
    client = CentralClient(central.url, EMAIL, password, page_size=page_size,
                           sleep=(waits if waits is not None else []).append)
    return Puller(client, out, Pusher(f"{server.url}/key/{collector.token}", out / ".taizhang-sent.json"))


def new_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def fetched(central, kind: str) -> list[str]:
    """The request log's lines of one kind: 'login', 'list', 'xml', 'attachments', 'file', 'versions'."""
    def kind_of(line: str) -> str:
        method, path = line.split(" ", 1)
        path = path.split("?", 1)[0]
        if path == "/v1/sessions":
            return "login"
        if path.endswith(".svc/Submissions"):
            return "list"
        if path.endswith(".xml"):
            return "xml"
        if path.endswith("/attachments"):
            return "attachments"
        if "/attachments/" in path:
            return "file"
        return "versions" if path.endswith("/versions") else "other"
    return [line for line in central.requests if kind_of(line) == kind]


def test_login_and_full_pull_keeps_the_original_instance_ids(server, collector, central, tmp_path):
    """Logging in: POST /v1/sessions {email, password} → {token}, then `Authorization: Bearer`; the OData feed lists
    the submissions (newest first, `__id` = instanceID); `GET .../submissions/{instanceId}.xml` gives the XML."""
    first, second = central.submit(FORM, visit_xml(new_id())), central.submit(FORM, visit_xml(new_id()))
    result = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(result.downloaded), len(result.sent), result.already_there, result.refused) == (2, 2, [], [])
    assert [row["instance_id"] for row in stored_submissions()] == [first, second]   # oldest first
    assert central.logins == 1 and fetched(central, "list") == [
        f"GET /v1/projects/1/forms/{FORM}.svc/Submissions?$top=250"]
    assert fetched(central, "xml") == [f"GET /v1/projects/1/forms/{FORM}/submissions/{first}.xml",
                                       f"GET /v1/projects/1/forms/{FORM}/submissions/{second}.xml"]
    for name in result.downloaded:   # Collect's layout: instances/<name>/<name>.xml
        assert (tmp_path / "instances" / name / f"{name}.xml").read_bytes().startswith(b'<?xml version="1.0"')
    assert result.downloaded[0].startswith(f"{FORM}_2026-11-20_02-00-00-000_")


def test_attachments_arrive(server, collector, central, tmp_path):
    """Listing expected attachments: `.../submissions/{instanceId}/attachments` → [{name, exists}]; each existing
    one is downloaded from `.../attachments/{filename}`."""
    instance_id = central.submit(FORM, visit_xml(new_id(), photo="p.jpg"), {"p.jpg": b"\xff\xd8jpeg"})
    result = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(result.sent), result.waiting) == (1, [])
    assert (tmp_path / "instances" / result.downloaded[0] / "p.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert [(a["name"], a["size"]) for a in stored_attachments()] == [("p.jpg", 6)]
    assert fetched(central, "file") == [f"GET /v1/projects/1/forms/{FORM}/submissions/{instance_id}/attachments/p.jpg"]


def test_paging_follows_the_next_link(server, collector, central, tmp_path):
    """OData paging: `$top` limits a page; `@odata.nextLink` (absolute, with Central's own domain) carries
    `$skiptoken` for the next page and is absent on the last one."""
    ids = [central.submit(FORM, visit_xml(new_id())) for _ in range(5)]
    result = puller(central, server, collector, tmp_path, page_size=2).pull(1, [FORM])
    assert len(result.sent) == 5
    assert sorted(row["instance_id"] for row in stored_submissions()) == sorted(ids)
    pages = fetched(central, "list")
    assert len(pages) == 3 and pages[0].endswith("Submissions?$top=2")
    assert all("$top=2&$skiptoken=01" in page for page in pages[1:])


def test_a_second_run_fetches_only_what_is_new(server, collector, central, tmp_path):
    """Incremental listing: `$filter` on `__system/submissionDate` and `__system/updatedAt` (documented filter
    fields, `ge` with an ISO time); what was downloaded is never fetched again."""
    central.submit(FORM, visit_xml(new_id()))
    central.submit(FORM, visit_xml(new_id()))
    puller(central, server, collector, tmp_path).pull(1, [FORM])
    central.requests.clear()
    newest = central.submit(FORM, visit_xml(new_id()))
    again = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(again.downloaded), len(again.sent), again.already_there) == (1, 1, [])
    assert fetched(central, "list") == [
        f"GET /v1/projects/1/forms/{FORM}.svc/Submissions?$top=250&$filter=(__system/submissionDate ge "
        "2026-11-20T02:50:00.000Z or __system/updatedAt ge 2026-11-20T02:50:00.000Z)"]
    assert fetched(central, "xml") == [f"GET /v1/projects/1/forms/{FORM}/submissions/{newest}.xml"]
    central.requests.clear()
    third = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (third.downloaded, third.sent, third.already_there) == ([], [], [])
    assert [kind for kind in ("xml", "attachments", "versions", "file") if fetched(central, kind)] == []
    assert len(stored_submissions()) == 3


def test_an_edit_in_central_arrives_as_an_edit(server, collector, central, tmp_path):
    """Submission versions: an edit gives the submission a new version with its own instanceID (meta/deprecatedID =
    the previous one) and sets `__system/updatedAt`; `.../versions` lists them newest first and
    `.../versions/{versionId}.xml` gives each. Two edits between pulls arrive in order."""
    original = new_id()
    central.submit(FORM, visit_xml(original))
    puller(central, server, collector, tmp_path).pull(1, [FORM])
    first_edit, second_edit = new_id(), new_id()
    central.edit(FORM, original, visit_xml(first_edit, deprecated_id=original, head_name="王秀兰"))
    central.edit(FORM, original, visit_xml(second_edit, deprecated_id=first_edit, head_name="王秀芳"))
    result = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(result.downloaded), len(result.sent), result.refused) == (2, 2, [])
    rows = stored_submissions()
    assert [(r["instance_id"], r["deprecated_id"], r["root_instance_id"]) for r in rows] == [
        (original, None, original), (first_edit, original, original), (second_edit, first_edit, original)]
    assert fetched(central, "xml")[-2:] == [
        f"GET /v1/projects/1/forms/{FORM}/submissions/{original}/versions/{first_edit}.xml",
        f"GET /v1/projects/1/forms/{FORM}/submissions/{original}/versions/{second_edit}.xml"]


def test_a_wrong_central_password_is_a_clear_error(server, collector, central, tmp_path):
    """Logging in with wrong credentials: 401 with the problem {"code": 401.2, "message": "Could not authenticate
    with the provided credentials."}."""
    central.submit(FORM, visit_xml(new_id()))
    with pytest.raises(TransferError) as raised:
        puller(central, server, collector, tmp_path, password="wrong").pull(1, [FORM])
    assert str(raised.value) == (f"{central.url} refused the email or password of {EMAIL}: "
                                 "Could not authenticate with the provided credentials. (401.2)")
    assert stored_submissions() == [] and not (tmp_path / "instances").exists()


def test_a_session_that_ends_mid_run_is_replaced_by_a_new_login(server, collector, central, tmp_path):
    """Sessions expire (24 hours); Central then answers the bearer token with 401.2. The client logs in once more
    and goes on (a second refusal in a row would stop it with Central's message)."""
    ids = [central.submit(FORM, visit_xml(new_id())) for _ in range(3)]
    central.sessions_last = 2   # the session ends after the listing and the first XML
    result = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(result.sent), central.logins) == (3, 2)
    assert sorted(row["instance_id"] for row in stored_submissions()) == sorted(ids)


def test_a_token_refused_right_after_a_new_login_stops_with_centrals_message(central):
    """401.2 on a fresh bearer token too: the client does not log in again and again, it stops with Central's
    problem message."""
    central.submit(FORM, visit_xml(new_id()))
    client = CentralClient(central.url, EMAIL, PASSWORD, sleep=[].append)
    assert len(client.submissions(1, FORM)) == 1
    central.tokens_refused = True
    with pytest.raises(TransferError) as raised:
        client.submissions(1, FORM)
    assert str(raised.value) == (f"{central.url} refused the session of {EMAIL}: "
                                 "Could not authenticate with the provided credentials. (401.2)")
    assert central.logins == 2


def test_server_errors_are_retried_with_bounded_backoff(server, collector, central, tmp_path):
    """5xx answers (Central's 500.1 problem, or a proxy's 503) are tried again, waiting 1, 2, 4, 8 s."""
    central.submit(FORM, visit_xml(new_id()))
    central.fail_next = [503, 500]
    waits = []
    assert len(puller(central, server, collector, tmp_path, waits=waits).pull(1, [FORM]).sent) == 1
    assert waits == [1, 2]
    central.submit(FORM, visit_xml(new_id()))
    central.fail_next = [503] * 5
    waits.clear()
    with pytest.raises(TransferError, match=r"answered 503: An unknown internal problem has occurred. Please try "
                                            r"again later. \(500.1\)"):
        puller(central, server, collector, tmp_path, waits=waits).pull(1, [FORM])
    assert waits == [1, 2, 4, 8]


class DropsConnections(HTTPAdapter):
    """The network between the office and Central: the first `drops` requests never reach it."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops

    def send(self, prepared, **kwargs):
        if self.drops:
            self.drops -= 1
            raise requests.ConnectionError("connection reset by peer")
        return super().send(prepared, **kwargs)


def test_network_errors_are_retried_with_bounded_backoff(server, collector, central, tmp_path):
    """Connection errors are retried like 5xx; after the fourth retry the run stops naming the server."""
    central.submit(FORM, visit_xml(new_id()))
    waits = []
    pull = puller(central, server, collector, tmp_path, waits=waits)
    pull.client.session.mount("http://", DropsConnections(3))
    assert len(pull.pull(1, [FORM]).sent) == 1 and waits == [1, 2, 4]
    broken = puller(central, server, collector, tmp_path / "other", waits=(waits := []))
    broken.client.session.mount("http://", DropsConnections(99))
    with pytest.raises(TransferError, match=f"^{central.url} cannot be reached: ConnectionError$"):
        broken.pull(1, [FORM])
    assert waits == [1, 2, 4, 8]


def test_what_our_server_refuses_is_reported_and_sent_again_later(server, collector, central, tmp_path):
    """A Central form our server does not have: downloaded (Central serves it like any form), refused by our
    server with its message, not marked sent, and offered again on the next run without downloading it again."""
    central.submit("other_form", visit_xml(new_id(), form_id="other_form"))
    pull = puller(central, server, collector, tmp_path)
    result = pull.pull(1, ["other_form"])
    assert (len(result.downloaded), result.sent) == (1, [])
    assert result.refused == [(result.downloaded[0], "服务器上没有这个表单，请联系村计生专干。 / This form is not on "
                                                     "the server; contact your village cadre. (other_form)")]
    assert pull.pusher.done == {}
    central.requests.clear()
    again = puller(central, server, collector, tmp_path).pull(1, ["other_form"])
    assert (again.downloaded, len(again.refused)) == ([], 1) and fetched(central, "xml") == []


def test_an_attachment_central_lacks_yet_is_fetched_on_a_later_run(server, collector, central, tmp_path):
    """`exists: false` in the attachment listing: the file has not reached Central yet. The XML goes to our server
    (which waits for the file); once Central has it, the next run fetches it and our server gets it."""
    instance_id = central.submit(FORM, visit_xml(new_id(), photo="p.jpg"), {"p.jpg": None})
    first = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (len(first.sent), first.waiting) == (1, [(first.downloaded[0], ["p.jpg"])])
    assert [(a["name"], a["sha256"]) for a in stored_attachments()] == [("p.jpg", None)]
    still = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (still.downloaded, still.sent, still.waiting) == ([], [], first.waiting)
    central.upload(FORM, instance_id, "p.jpg", b"late photo")
    central.requests.clear()
    later = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (later.downloaded, later.sent, later.waiting) == ([], first.downloaded, [])
    assert [(a["name"], a["size"]) for a in stored_attachments()] == [("p.jpg", 10)]
    assert fetched(central, "file") == [
        f"GET /v1/projects/1/forms/{FORM}/submissions/{instance_id}/versions/{instance_id}/attachments/p.jpg"]
    done = puller(central, server, collector, tmp_path).pull(1, [FORM])
    assert (done.sent, done.waiting) == ([], [])


def test_a_hostile_attachment_name_cannot_leave_the_folder(server, collector, central, tmp_path):
    """Central lists attachments by the names the submission's XML gives them; a name that is not a bare file
    name (`../x`) is never written; our server then refuses the submission that names it."""
    out = tmp_path / "out"
    central.submit(FORM, visit_xml(new_id(), photo="../x"), {"../x": b"escaped"})
    result = puller(central, server, collector, out).pull(1, [FORM])
    assert result.unsafe == [(result.downloaded[0], "../x")]
    assert result.refused == [(result.downloaded[0], "附件文件名不合法（不能含路径）。 / An attachment's file name is "
                                                     "not allowed (it must not contain a path). ('../x')")]
    assert fetched(central, "file") == []
    files = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert files == ["out/.taizhang-pull.json", f"out/instances/{result.downloaded[0]}/{result.downloaded[0]}.xml"]


def test_one_run_per_collector_through_the_submitter_filter(server, create_collector, visit_form, central,
                                                            tmp_path):
    """`$filter=__system/submitterId eq N` keeps one Central actor's submissions: each of our collectors receives
    those of the Central app user they were on Central."""
    east, west = create_collector(username="east"), create_collector(username="west")
    east_id = central.submit(FORM, visit_xml(new_id()), submitter=11)
    west_id = central.submit(FORM, visit_xml(new_id()), submitter=12)
    for collector, actor in ((east, 11), (west, 12)):
        assert len(puller(central, server, collector, tmp_path).pull(1, [FORM], submitter=actor).sent) == 1
    by_instance = {row["instance_id"]: row["submitter_id"] for row in stored_submissions()}
    assert by_instance == {east_id: by_username("east").id, west_id: by_username("west").id}
    assert [line.split("$filter=")[1] for line in fetched(central, "list")] == [
        "__system/submitterId eq 11", "__system/submitterId eq 12"]


def test_the_console_command(server, collector, central, tmp_path):
    central.submit(FORM, visit_xml(new_id(), photo="p.jpg"), {"p.jpg": b"jpeg"})
    central.submit(FORM, visit_xml(new_id()))
    command = [sys.executable, "-m", "sync.transfer_cli", "pull", "--central", central.url, "--email", EMAIL,
               "--project", "1", "--form", FORM, "--out", str(tmp_path / "out"),
               "--server", f"{server.url}/key/{collector.token}"]
    environment = {**os.environ, "TAIZHANG_CENTRAL_PASSWORD": PASSWORD}
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env=environment)
    assert (first.returncode, first.stdout) == (0, "downloaded 2, sent 2, already there 0, refused 0\n")
    assert "downloading household_visit" in first.stderr and "sending" in first.stderr
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env=environment)
    assert (again.returncode, again.stdout) == (0, "downloaded 0, sent 0, already there 0, refused 0\n")
    state = json.loads((tmp_path / "out" / ".taizhang-pull.json").read_text())
    assert list(state["forms"]) == [f"{central.url}/v1/projects/1/forms/{FORM}"]
    wrong = subprocess.run(command + ["--password", "wrong"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env=environment)
    assert wrong.returncode == 1 and "Could not authenticate with the provided credentials. (401.2)" in wrong.stderr
