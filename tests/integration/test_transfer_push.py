"""`taizhang-transfer push`: saved forms copied off a phone sent to our server as Collect sends them (HEAD, then
multipart POSTs split under the accepted length); resumable, idempotent, clear about what was refused."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sync.transfer import Pusher, TransferError, find_instances
from tests.collect import visit_xml
from tests.conftest import FIXTURES, stored_attachments, stored_submissions
from tests.submission_xml import plain_submission

TRANSFER = str(Path(sys.executable).parent / "taizhang-transfer")


def save_on_phone(root: Path, name: str, xml: bytes, media: dict[str, bytes] = None) -> None:
    """Write a saved form the way Collect keeps it: instances/<name>/<name>.xml and its media beside it."""
    folder = root / "instances" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.xml").write_bytes(xml)
    for filename, content in (media or {}).items():
        (folder / filename).write_bytes(content)


@pytest.fixture
def phone(tmp_path, collector):
    save_on_phone(tmp_path, "household_visit_2026-11-01_09-00-00", visit_xml(photo="p.jpg"), {"p.jpg": b"jpeg"})
    save_on_phone(tmp_path, "household_visit_2026-11-02_10-00-00", visit_xml())
    return tmp_path


def test_push_sends_each_form_once_and_remembers_it(server, collector, phone):
    pusher = Pusher(f"{server.url}/key/{collector.token}", phone / "sent.json")
    first = pusher.push(find_instances(phone))
    assert (len(first.sent), first.already_there, first.refused) == (2, [], [])
    assert len(stored_submissions()) == 2 and [a["size"] for a in stored_attachments()] == [4]
    again = Pusher(f"{server.url}/key/{collector.token}", phone / "sent.json").push(find_instances(phone))
    assert (again.sent, len(again.already_there)) == ([], 2)
    # The state file lost (another laptop): the server itself says the forms are already there.
    fresh = Pusher(f"{server.url}/key/{collector.token}", phone / "other.json").push(find_instances(phone))
    assert (fresh.sent, len(fresh.already_there)) == ([], 2)
    assert len(stored_submissions()) == 2


def test_push_with_user_name_and_password_over_digest(server, collector, phone):
    result = Pusher(server.url, phone / "sent.json", username=collector.username,
                    password=collector.password).push(find_instances(phone))
    assert len(result.sent) == 2


def test_a_large_form_is_split_under_the_accepted_length(server, collector, publish, tmp_path):
    """Collect's rule: several POSTs with the same XML and *isIncomplete*=yes; the test server accepts 2 MiB."""
    publish(FIXTURES / "forms" / "visit_with_media.xml")
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = plain_submission("visit_with_media", "3", instance_id,
                           {"household": "h1", "photo": "photo.jpg", "signature": "sign.png"}, b'<?xml version="1.0"?>')
    save_on_phone(tmp_path, "visit_with_media_1", xml, {"photo.jpg": b"p" * 900_000, "sign.png": b"s" * 900_000})
    result = Pusher(f"{server.url}/key/{collector.token}", tmp_path / "sent.json").push(find_instances(tmp_path))
    assert (len(result.sent), result.refused) == (1, [])
    assert sorted((a["name"], a["size"]) for a in stored_attachments()) == [("photo.jpg", 900_000),
                                                                           ("sign.png", 900_000)]


def test_refused_forms_are_reported_with_the_servers_message_and_not_marked_sent(server, collector, tmp_path):
    save_on_phone(tmp_path, "unknown_1", visit_xml(form_id="no_such_form"))
    save_on_phone(tmp_path, "broken_1", b"<data")
    pusher = Pusher(f"{server.url}/key/{collector.token}", tmp_path / "sent.json")
    result = pusher.push(find_instances(tmp_path))
    assert result.sent == [] and [name for name, _ in result.refused] == ["broken_1", "unknown_1"]
    assert "This form is not on the server" in dict(result.refused)["unknown_1"]
    assert pusher.done == {}


def test_wrong_credentials_stop_with_a_clear_message(server, collector, phone):
    with pytest.raises(TransferError, match="refused the credentials \\(403\\).*QR code"):
        Pusher(f"{server.url}/key/not-a-token", phone / "sent.json").push(find_instances(phone))


def test_the_console_command(server, collector, phone):
    command = [TRANSFER, "push", str(phone), "--server", f"{server.url}/key/{collector.token}"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (first.returncode, first.stdout) == (0, "sent 2, already there 0, refused 0\n")
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.stdout == "sent 0, already there 2, refused 0\n"
    wrong = subprocess.run([TRANSFER, "push", str(phone), "--server", f"{server.url}/key/nope",
                            "--state", str(phone / "elsewhere.json")], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "refused the credentials (403)" in wrong.stderr
