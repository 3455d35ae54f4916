"""Submissions as ODK Collect sends them: stored whole or not at all, idempotent retries, edits, split uploads."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import requests
from sqlalchemy import text

from server.extensions import db
from sync.errors import EditOriginalUnknown, EditOutsideGroup, Forbidden
from tests.collect import visit_xml
from tests.conftest import FIXTURES, stored_attachments, stored_submissions
from tests.submission_xml import plain_submission

SUCCESS = ("<?xml version='1.0' encoding='UTF-8'?>\n"
           '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="">'
           "提交成功。 / Submission received.</message></OpenRosaResponse>")


def error_body(zh: str, en: str, detail: str | None = None) -> str:
    text = f"{zh} / {en}" + (f" ({detail})" if detail else "")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            f'<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="error">{text}'
            "</message></OpenRosaResponse>")


def test_head_submission_answers_204_with_the_accepted_length(server, collector):
    response = server.client(collector.username, collector.password).head_submission()
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == str(2 * 1024 * 1024)
    assert "Date" in response.headers
    assert "Content-Type" not in response.headers
    assert response.content == b""


def test_head_submission_without_credentials_is_challenged(server, collector):
    response = requests.head(f"{server.url}/submission", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Digest realm="taizhang"')


def test_submission_is_stored_with_its_metadata_and_answered_201(server, collector):
    xml = visit_xml("uuid:11111111-1111-4111-8111-111111111111")
    response = server.client(collector.username, collector.password).submit(xml)
    assert response.status_code == 201
    assert response.text == SUCCESS
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == str(2 * 1024 * 1024)
    [row] = stored_submissions()
    assert row["instance_id"] == "uuid:11111111-1111-4111-8111-111111111111"
    assert row["root_instance_id"] == row["instance_id"]
    assert row["deprecated_id"] is None
    assert bytes(row["xml"]) == xml
    assert row["xml_sha256"] == hashlib.sha256(xml).hexdigest()
    assert row["device_id"] == "collect:TESTDEVICE00001"
    assert row["user_agent"].startswith("org.odk.collect.android/")
    assert row["received_at"] is not None and row["submitter_id"] is not None


def test_token_url_submission_is_stored(server, collector):
    response = server.client(token=collector.token).submit(visit_xml())
    assert response.status_code == 201
    assert len(stored_submissions()) == 1


def test_identical_retry_is_201_and_stored_once(server, collector):
    client = server.client(collector.username, collector.password)
    xml = visit_xml()
    answers = [client.submit(xml) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[0].text == SUCCESS and all("Already on the server." in answer.text for answer in answers[1:])
    assert len(stored_submissions()) == 1


def test_same_instance_id_with_different_xml_is_409_and_keeps_the_first(server, collector):
    client = server.client(collector.username, collector.password)
    instance_id = f"uuid:{uuid.uuid4()}"
    first = visit_xml(instance_id, head_name="王秀英")
    assert client.submit(first).status_code == 201
    response = client.submit(visit_xml(instance_id, head_name="王秀兰"))
    assert response.status_code == 409
    assert response.text == error_body(
        "服务器上已有同一编号（instanceID）但内容不同的表单；请勿重复使用编号，如需修改请用编辑功能。",
        "A different form with the same instanceID is already on the server; do not reuse instance IDs, "
        "edit the form instead.", instance_id)
    [row] = stored_submissions()
    assert bytes(row["xml"]) == first


def test_edit_with_deprecated_id_is_a_new_version_of_the_same_submission(server, collector):
    client = server.client(collector.username, collector.password)
    original, edit, second_edit = (f"uuid:{uuid.uuid4()}" for _ in range(3))
    assert client.submit(visit_xml(original)).status_code == 201
    assert client.submit(visit_xml(edit, head_name="王秀兰", deprecated_id=original)).status_code == 201
    assert client.submit(visit_xml(second_edit, head_name="王秀芳", deprecated_id=edit)).status_code == 201
    rows = stored_submissions()
    assert [(r["instance_id"], r["deprecated_id"], r["root_instance_id"]) for r in rows] == [
        (original, None, original), (edit, original, original), (second_edit, edit, original)]


def test_second_edit_of_an_already_edited_version_is_409(server, collector):
    client = server.client(collector.username, collector.password)
    # Fixed ids: the message quotes one, and a random one could hold the digits 409.
    original = "uuid:00000000-0000-4000-8000-000000000001"
    assert client.submit(visit_xml(original)).status_code == 201
    assert client.submit(visit_xml("uuid:00000000-0000-4000-8000-000000000002",
                                   deprecated_id=original)).status_code == 201
    fork = client.submit(visit_xml("uuid:00000000-0000-4000-8000-000000000003", head_name="另一个",
                                   deprecated_id=original))
    assert fork.status_code == 409
    assert "409" not in fork.text and "已经被另一次修改取代" in fork.text
    assert len(stored_submissions()) == 2


def test_an_edit_whose_original_is_not_here_is_refused_and_accepted_once_the_original_arrives(server, collector):
    client = server.client(collector.username, collector.password)
    original, edit = f"uuid:{uuid.uuid4()}", f"uuid:{uuid.uuid4()}"
    early = client.submit(visit_xml(edit, deprecated_id=original))
    assert (early.status_code, EditOriginalUnknown.message_en in early.text, stored_submissions()) == (409, True, [])
    assert client.submit(visit_xml(original)).status_code == 201
    assert client.submit(visit_xml(edit, deprecated_id=original)).status_code == 201
    assert {r["root_instance_id"] for r in stored_submissions()} == {original}


def test_a_collector_cannot_edit_or_resend_another_groups_submission(server, collector, create_collector):
    """deprecatedID naming a submission of another group (another village, another town) is refused at intake, and
    so is the byte-identical copy of another group's submission; nothing is stored."""
    original = f"uuid:{uuid.uuid4()}"
    xml = visit_xml(original)
    assert server.client(collector.username, collector.password).submit(xml).status_code == 201
    for area in ("青山镇/东村/第二组", "青山镇/西村/第一组", "白水镇/南村/第一组"):
        other = create_collector(area)
        client = server.client(other.username, other.password)
        edit = client.submit(visit_xml(f"uuid:{uuid.uuid4()}", head_name="改名", deprecated_id=original))
        assert (edit.status_code, EditOutsideGroup.message_en in edit.text) == (403, True)
        again = client.submit(xml)
        assert (again.status_code, Forbidden.message_en in again.text) == (403, True)
    assert [row["instance_id"] for row in stored_submissions()] == [original]


def test_attachments_are_stored_content_addressed(server, collector):
    photo = (FIXTURES / "forms" / "logo.png").read_bytes()
    response = server.client(collector.username, collector.password).submit(
        visit_xml(photo="1700000000000.jpg"), {"1700000000000.jpg": photo, "unrelated.jpg": b"not named"})
    assert response.status_code == 201 and response.text == SUCCESS
    [attachment] = stored_attachments()
    assert attachment["name"] == "1700000000000.jpg"
    assert attachment["sha256"] == hashlib.sha256(photo).hexdigest()
    assert attachment["size"] == len(photo)
    blob = server.app.config["TAIZHANG_BLOB_DIR"] / attachment["sha256"][:2] / attachment["sha256"][2:4] / attachment["sha256"]
    assert blob.read_bytes() == photo


def test_split_upload_completes_the_same_submission(server, collector, publish):
    """Collect splits a large submission into several POSTs with the same XML and *isIncomplete*=yes."""
    publish(FIXTURES / "forms" / "visit_with_media.xml")
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = plain_submission("visit_with_media", "3", instance_id,
                           {"household": "h1", "photo": "photo.jpg", "signature": "sign.png"}, b'<?xml version="1.0"?>')
    client = server.client(collector.username, collector.password)
    first = client.post_submission(xml, {"photo.jpg": b"photo-bytes"}, incomplete=True)
    assert first.status_code == 201
    assert "还缺 1 个附件" in first.text and "1 attachment(s) still to come" in first.text
    second = client.post_submission(xml, {"sign.png": b"signature-bytes"})
    assert second.status_code == 201 and second.text == SUCCESS
    assert len(stored_submissions()) == 1
    assert {(a["name"], a["size"]) for a in stored_attachments()} == {("photo.jpg", 11), ("sign.png", 15)}


def test_retry_never_replaces_an_attachment_that_arrived(server, collector):
    client = server.client(collector.username, collector.password)
    xml = visit_xml(photo="p.jpg")
    assert client.submit(xml, {"p.jpg": b"first"}).status_code == 201
    assert client.submit(xml, {"p.jpg": b"second"}).status_code == 201
    [attachment] = stored_attachments()
    assert attachment["sha256"] == hashlib.sha256(b"first").hexdigest()


def test_form_version_published_earlier_still_accepts_visits(server, collector, publish, tmp_path):
    source = (FIXTURES / "forms" / "visit_with_media.xml").read_text()
    publish(FIXTURES / "forms" / "visit_with_media.xml")
    newer = tmp_path / "v4.xml"
    newer.write_text(source.replace('version="3"', 'version="4"'))
    publish(newer)
    old = plain_submission("visit_with_media", "3", f"uuid:{uuid.uuid4()}", {"household": "h", "photo": "", "signature": ""})
    assert server.client(collector.username, collector.password).submit(old).status_code == 201


def test_a_database_restart_fails_one_submission_with_503_and_the_next_is_stored(server, collector):
    """Collect's usual POST writes through the driver's own connection (server.database.driver_autocommit): a
    connection the database dropped answers 503 once (Collect keeps the form and retries), and the pool's other
    dropped connections go with it, so the retry is stored."""
    if server.backend != "postgresql":
        pytest.skip("the driver's own connection is PostgreSQL's path")
    client = server.client(token=collector.token)
    assert client.submit(visit_xml()).status_code == 201   # look-ups cached, connections in the pool
    spares = [db.engine.raw_connection() for _ in range(3)]
    with db.engine.connect() as keeper:   # held out of the pool: the requests get the dropped ones
        for spare in spares:
            spare.close()
        keeper.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
        keeper.commit()
        xml = visit_xml()
        answers = [client.submit(xml).status_code for _ in range(2)]
    assert answers == [503, 201]
    assert len(stored_submissions()) == 2
