"""Broken and hostile submissions: each gets an OpenRosa error (text/xml, nature="error") and nothing is stored."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.collect import visit_xml
from tests.conftest import stored_attachments, stored_submissions

XXE = (b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b'<data id="household_visit" version="2026112201"><head_name>&xxe;</head_name>'
       b"<meta><instanceID>uuid:x</instanceID></meta></data>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><data id="household_visit" version="2026112201">'
          b"<head_name>&lol3;</head_name><meta><instanceID>uuid:y</instanceID></meta></data>")
EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd">'
                b'<data id="household_visit" version="2026112201"><meta><instanceID>uuid:z</instanceID></meta></data>')


def assert_openrosa_error(response: requests.Response, status: int, *phrases: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<OpenRosaResponse "
                                    'xmlns="http://openrosa.org/http/response"><message nature="error">')
    for phrase in phrases:
        assert phrase in response.text


@pytest.fixture
def client(server, collector):
    return server.client(collector.username, collector.password)


@pytest.mark.parametrize("xml", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_dtds_and_entities_are_refused(server, client, xml):
    assert_openrosa_error(client.post_submission(xml), 400, "DTD", "实体")
    assert stored_submissions() == []


@pytest.mark.parametrize("xml", [b"not xml at all", b"<data id='household_visit'><unclosed>", b"",
                                 b'<?xml version="1.0" encoding="UTF-8"?><data id="a">\xff\xfe</data>'],
                         ids=["text", "truncated", "empty", "invalid-utf8"])
def test_malformed_xml_is_refused(server, client, xml):
    assert_openrosa_error(client.post_submission(xml), 400, "not valid XML")
    assert stored_submissions() == []


def test_missing_instance_id_is_refused(server, client):
    xml = b'<data id="household_visit" version="2026112201"><head_name>x</head_name></data>'
    assert_openrosa_error(client.post_submission(xml), 400, "meta/instanceID")


def test_unknown_form_is_404(server, client):
    assert_openrosa_error(client.post_submission(visit_xml(form_id="no_such_form")), 404, "no_such_form")
    assert stored_submissions() == []


def test_unknown_version_is_refused_with_advice_to_update(server, client):
    response = client.post_submission(visit_xml(version="1999"))
    assert_openrosa_error(response, 400, "download the latest form", "下载最新表单")
    assert stored_submissions() == []


def test_form_of_another_area_is_refused(server, create_collector, publish, visit_form):
    from tests.conftest import FIXTURES

    west = create_collector("青山镇/西村/第一组")
    east = create_collector("青山镇/东村/第一组")
    publish(FIXTURES / "forms" / "visit_with_media.xml", area="青山镇/西村")
    xml = (f'<data id="visit_with_media" version="3"><meta><instanceID>uuid:{uuid.uuid4()}</instanceID>'
           "</meta></data>").encode()
    assert_openrosa_error(server.client(token=east.token).post_submission(xml), 403)
    assert server.client(token=west.token).post_submission(xml).status_code == 201


def test_missing_xml_part_is_refused(server, client, collector):
    response = requests.post(f"{server.url}/submission", auth=requests.auth.HTTPDigestAuth(
        collector.username, collector.password), files={"other": ("a.txt", b"x")},
        headers={"X-OpenRosa-Version": "1.0"})
    assert_openrosa_error(response, 400, "xml_submission_file")


def test_wrong_content_type_is_415(server, collector):
    response = requests.post(f"{server.url}/submission", data=visit_xml(), auth=requests.auth.HTTPDigestAuth(
        collector.username, collector.password), headers={"Content-Type": "text/xml", "X-OpenRosa-Version": "1.0"})
    assert_openrosa_error(response, 415, "multipart/form-data")


def test_multipart_without_boundary_is_refused(server, collector):
    response = requests.post(f"{server.url}/submission", data=b"--x\r\n\r\n", auth=requests.auth.HTTPDigestAuth(
        collector.username, collector.password),
        headers={"Content-Type": "multipart/form-data", "X-OpenRosa-Version": "1.0"})
    assert_openrosa_error(response, 400, "multipart")


def test_truncated_multipart_is_refused(server, collector):
    body = (b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="s.xml"\r\n'
            b"Content-Type: text/xml\r\n\r\n<data>")
    response = requests.post(f"{server.url}/submission", data=body, auth=requests.auth.HTTPDigestAuth(
        collector.username, collector.password),
        headers={"Content-Type": "multipart/form-data; boundary=b", "X-OpenRosa-Version": "1.0"})
    assert_openrosa_error(response, 400)
    assert stored_submissions() == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "dir/photo.jpg", "..", "/abs.jpg"])
def test_attachment_names_with_paths_are_refused(server, client, name):
    response = client.post_submission(visit_xml(photo="photo.jpg"), {name: b"data"})
    assert_openrosa_error(response, 400, "file name")
    assert stored_submissions() == [] and stored_attachments() == []


def test_oversized_body_is_413_and_stores_nothing(server, client):
    response = client.post_submission(visit_xml(photo="big.jpg"), {"big.jpg": b"x" * (3 * 1024 * 1024)})
    assert_openrosa_error(response, 413, "larger than the server accepts")
    assert stored_submissions() == []


def test_oversized_attachment_is_413_and_stores_nothing(server, client):
    response = client.post_submission(visit_xml(photo="big.jpg"), {"big.jpg": b"x" * (1024 * 1024 + 1)})
    assert_openrosa_error(response, 413)
    assert stored_submissions() == [] and stored_attachments() == []
    staging = server.app.config["TAIZHANG_BLOB_DIR"] / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_oversized_xml_is_413(server, client):
    xml = visit_xml(head_name="王" * 100_000)
    assert_openrosa_error(client.post_submission(xml), 413)


def test_get_on_submission_is_405_in_openrosa_format(server, client):
    assert_openrosa_error(client.get(f"{server.url}/submission"), 405)


def test_server_keeps_serving_after_hostile_input(server, client):
    for xml in (XXE, LAUGHS, b"\x00\x01garbage"):
        client.post_submission(xml)
    assert client.submit(visit_xml()).status_code == 201
