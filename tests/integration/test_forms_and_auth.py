"""formList, form and media download, manifest and authentication, over HTTP as ODK Collect does them."""

from __future__ import annotations

import hashlib
import re

import requests
from lxml import etree
from sqlalchemy import create_engine

from server import create_app
from server.database import commit
from server.extensions import db
from server.lookup_cache import LookupCache
from server.users.credentials import make_nonce
from server.users.operations import rotate_token
from tests.conftest import FIXTURES, start_live_server

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
VISIT_VERSION = "2026112201"


def test_form_list_without_credentials_is_a_digest_challenge(server, visit_form):
    response = requests.get(f"{server.url}/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "Date" in response.headers
    challenge = response.headers["WWW-Authenticate"]
    assert re.fullmatch(r'Digest realm="taizhang", qop="auth", algorithm=MD5, nonce="[A-Za-z0-9_-]+", '
                        r'opaque="[0-9a-f]{32}"', challenge), challenge
    assert "Basic" not in challenge  # plain HTTP: Basic is never offered
    assert response.text == (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="error">'
        "需要登录：请检查用户名和密码，或重新扫描二维码。 / Authentication required: check the user name and "
        "password, or scan the QR code again.</message></OpenRosaResponse>")


def test_form_list_with_digest_lists_the_form_exactly(server, collector, household_visit_xform):
    response = server.client(collector.username, collector.password).form_list()
    assert response.status_code == 200
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    md5 = hashlib.md5(household_visit_xform.read_bytes()).hexdigest()
    assert response.text == (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<xforms xmlns="http://openrosa.org/xforms/xformsList"><xform><formID>household_visit</formID>'
        f"<name>入户访视（占位）</name><version>{VISIT_VERSION}</version><hash>md5:{md5}</hash>"
        f"<downloadUrl>{server.url}/forms/household_visit/versions/{VISIT_VERSION}/form.xml</downloadUrl>"
        "</xform></xforms>")


def test_form_list_filters_by_form_id(server, collector):
    client = server.client(collector.username, collector.password)
    assert client.form_list("household_visit").text.count("<xform>") == 1
    empty = client.form_list("no_such_form")
    assert empty.status_code == 200
    assert empty.text.endswith('<xforms xmlns="http://openrosa.org/xforms/xformsList"/>')


def test_collect_downloads_every_form_and_media_file_with_matching_hashes(server, collector, publish):
    publish(FIXTURES / "forms" / "visit_with_media.xml",
            media=[FIXTURES / "forms" / "logo.png", FIXTURES / "forms" / "households.csv"])
    client = server.client(collector.username, collector.password)
    form_list = etree.fromstring(client.form_list().content)
    forms = form_list.findall(f"{XFORMS_LIST}xform")
    assert [f.findtext(f"{XFORMS_LIST}formID") for f in forms] == ["household_visit", "visit_with_media"]
    media_checked = 0
    for entry in forms:
        xform = client.get(entry.findtext(f"{XFORMS_LIST}downloadUrl"))
        assert xform.status_code == 200
        assert xform.headers["Content-Encoding"] == "gzip"  # Collect asks for gzip; the hash is of the XForm itself
        assert f"md5:{hashlib.md5(xform.content).hexdigest()}" == entry.findtext(f"{XFORMS_LIST}hash")
        manifest_url = entry.findtext(f"{XFORMS_LIST}manifestUrl")
        if manifest_url is None:
            continue
        manifest = client.get(manifest_url)
        assert manifest.status_code == 200
        assert manifest.headers["X-OpenRosa-Version"] == "1.0"
        files = etree.fromstring(manifest.content).findall(f"{MANIFEST}mediaFile")
        assert [f.findtext(f"{MANIFEST}filename") for f in files] == ["households.csv", "logo.png"]
        for media in files:
            download = client.get(media.findtext(f"{MANIFEST}downloadUrl"))
            assert download.status_code == 200
            filename = media.findtext(f"{MANIFEST}filename")
            # households.csv is a register list: generated for the collector's group (empty so far), not the file
            # published with the form.
            expected = (b"name,label,household_no,head_name,address,members,base_version\n"
                        if filename == "households.csv" else (FIXTURES / "forms" / filename).read_bytes())
            assert download.content == expected
            assert media.findtext(f"{MANIFEST}hash") == f"md5:{hashlib.md5(expected).hexdigest()}"
            media_checked += 1
    assert media_checked == 2


def test_manifest_body_is_exact(server, collector, publish):
    publish(FIXTURES / "forms" / "visit_with_media.xml", media=[FIXTURES / "forms" / "logo.png"])
    base = f"{server.url}/forms/visit_with_media/versions/3"
    response = server.client(collector.username, collector.password).get(f"{base}/manifest")
    logo_md5 = hashlib.md5((FIXTURES / "forms" / "logo.png").read_bytes()).hexdigest()
    # households.csv was referenced but not given: it is not offered (the publish command warns).
    assert response.text == (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<manifest xmlns="http://openrosa.org/xforms/xformsManifest"><mediaFile><filename>logo.png</filename>'
        f"<hash>md5:{logo_md5}</hash><downloadUrl>{base}/media/logo.png</downloadUrl></mediaFile></manifest>")


def test_new_version_keeps_old_one_downloadable_and_lists_only_the_new(server, collector, publish, tmp_path):
    source = (FIXTURES / "forms" / "visit_with_media.xml").read_text()
    publish(FIXTURES / "forms" / "visit_with_media.xml", media=[FIXTURES / "forms" / "logo.png"])
    newer = tmp_path / "visit_with_media.xml"
    newer.write_text(source.replace('version="3"', 'version="4"').replace("Visit with media", "Visit v4"))
    result = publish(newer)
    assert result.media_attached == ["logo.png"]  # carried over from version 3
    client = server.client(collector.username, collector.password)
    listed = client.form_list("visit_with_media").text
    assert "<version>4</version>" in listed and "<version>3</version>" not in listed
    old = client.get(f"{server.url}/forms/visit_with_media/versions/3/form.xml")
    assert old.status_code == 200 and old.content == source.encode()


def test_token_url_serves_the_same_protocol_under_the_token_base(server, collector):
    client = server.client(token=collector.token)
    response = client.form_list()
    assert response.status_code == 200
    download_url = re.search("<downloadUrl>(.*?)</downloadUrl>", response.text).group(1)
    assert download_url == f"{server.url}/key/{collector.token}/forms/household_visit/versions/{VISIT_VERSION}/form.xml"
    assert client.get(download_url).status_code == 200
    head = client.head_submission()
    assert head.status_code == 204


def test_unknown_token_is_refused_with_an_openrosa_error(server, collector):
    response = server.client(token="x" * 64).form_list()
    assert response.status_code == 403
    assert 'nature="error"' in response.text and "二维码" in response.text
    assert "WWW-Authenticate" not in response.headers


def test_rotated_token_stops_working(server, collector):
    new_token = rotate_token(collector.username).token
    commit()
    assert server.client(token=collector.token).form_list().status_code == 403
    assert server.client(token=new_token).form_list().status_code == 200


def test_wrong_password_is_challenged_again(server, collector):
    assert server.client(collector.username, "wrong-password").form_list().status_code == 401


def test_basic_auth_over_plain_http_is_refused(server, collector):
    response = requests.get(f"{server.url}/formList", auth=(collector.username, collector.password),
                            headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401


def test_basic_auth_over_https_behind_a_proxy_is_accepted(server, create_collector, visit_form):
    """With TAIZHANG_PROXY_COUNT=1, X-Forwarded-Proto: https marks the request secure; Basic then works."""
    collector = create_collector()
    behind_proxy = create_app({**server.app.config, "TAIZHANG_PROXY_COUNT": 1})
    url, stop = start_live_server(behind_proxy)
    try:
        headers = {"X-OpenRosa-Version": "1.0", "X-Forwarded-Proto": "https"}
        ok = requests.get(f"{url}/formList", auth=(collector.username, collector.password), headers=headers)
        assert ok.status_code == 200
        assert "<formID>household_visit</formID>" in ok.text
        assert ok.text.count("https://") == 1  # URLs handed to Collect keep the outside scheme
        challenge = requests.get(f"{url}/formList", headers=headers)
        assert challenge.status_code == 401
        assert challenge.headers["WWW-Authenticate"].startswith('Digest realm="taizhang"')
        assert challenge.headers["WWW-Authenticate"].endswith(', Basic realm="taizhang", charset="UTF-8"')
        bad = requests.get(f"{url}/formList", auth=(collector.username, "nope"), headers=headers)
        assert bad.status_code == 401
    finally:
        stop()
        with behind_proxy.app_context():
            db.engine.dispose()


def test_expired_nonce_gets_a_stale_challenge(server, collector):
    """A right password with an old nonce → 401 stale=TRUE, so Collect retries without asking the user."""
    nonce = make_nonce("test-secret", now=0)
    uri = "/formList"
    ha1 = hashlib.md5(f"{collector.username}:taizhang:{collector.password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{uri}".encode()).hexdigest()
    digest = hashlib.md5(f"{ha1}:{nonce}:00000001:abcdef:auth:{ha2}".encode()).hexdigest()
    header = (f'Digest username="{collector.username}", realm="taizhang", nonce="{nonce}", uri="{uri}", '
              f'qop=auth, nc=00000001, cnonce="abcdef", response="{digest}", algorithm=MD5')
    response = requests.get(f"{server.url}{uri}", headers={"Authorization": header, "X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(", stale=TRUE")


def test_forms_for_another_area_are_invisible_and_refused(server, create_collector, publish):
    east = create_collector("青山镇/东村/第一组")
    west = create_collector("青山镇/西村/第一组")
    publish(FIXTURES / "forms" / "visit_with_media.xml", area="青山镇/西村")
    assert "visit_with_media" not in server.client(token=east.token).form_list().text
    assert "visit_with_media" in server.client(token=west.token).form_list().text
    denied = server.client(token=east.token).get(
        f"{server.url}/key/{east.token}/forms/visit_with_media/versions/3/form.xml")
    assert denied.status_code == 404
    assert 'nature="error"' in denied.text


def test_token_revoked_by_another_process_stops_working_within_the_cache_ttl(server, collector):
    """Another app server revokes the token (an UPDATE this process does not see): it lasts at most the TTL."""
    class Clock:
        now = 0.0

        def __call__(self):
            return self.now

    clock = Clock()
    original = server.app.extensions["taizhang_lookup_cache"]
    server.app.extensions["taizhang_lookup_cache"] = LookupCache(5, timer=clock)
    other_process = create_engine(server.app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        client = server.client(token=collector.token)
        assert client.form_list().status_code == 200
        with other_process.begin() as connection:
            connection.exec_driver_sql("UPDATE app_user SET token_hash = NULL")
        clock.now = 4.0
        assert client.form_list().status_code == 200
        clock.now = 5.5
        assert client.form_list().status_code == 403
    finally:
        server.app.extensions["taizhang_lookup_cache"] = original
        other_process.dispose()
