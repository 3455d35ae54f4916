"""The hostile input corpus: every case is POSTed to a collector's token URL as a phone would, and is refused with
an OpenRosa error carrying its stable message; nothing is stored (rows or blobs) and the server keeps serving."""

from __future__ import annotations

import http.client
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.operations import publish_form
from server.storage import blob_store
from server.users.operations import add_user
from sync import errors
from sync.submission import parse_submission
from sync.xmlsafe import parse_untrusted
from tests.collect import OPENROSA_HEADERS, CollectClient, visit_xml
from tests.conftest import FIXTURES, REALM, LiveServer, empty_tables, stored_attachments, stored_submissions

BOUNDARY = "hostile-boundary-7f3a"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = 'id="household_visit" version="2026112201"'
OTHER_FORM_INSTANCE = "uuid:0e7f3c1a-0000-4000-8000-0000000000aa"
"""A submission of another form (visit_with_media) stored before each case: the target of a foreign deprecatedID."""


def part(name: str, content: bytes, filename: str | None = None, content_type: str | None = "text/xml",
         extra_headers: bytes = b"") -> bytes:
    """One multipart/form-data part, written byte by byte (hostile names are not quoted or cleaned)."""
    disposition = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename.encode("utf-8", "surrogateescape") + b'"'
    headers = disposition + b"\r\n" + extra_headers
    if content_type:
        headers += b"Content-Type: " + content_type.encode() + b"\r\n"
    return b"--" + BOUNDARY.encode() + b"\r\n" + headers + b"\r\n" + content + b"\r\n"


def closed(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


def xml_part(xml: bytes) -> bytes:
    return part("xml_submission_file", xml, filename="submission.xml")


def collect(xml: bytes, attachments: dict[str, bytes] | None = None) -> tuple[str, bytes]:
    """The body Collect sends: the XML part, then one part per attachment."""
    files = [part(name, content, filename=name, content_type="image/jpeg")
             for name, content in (attachments or {}).items()]
    return MULTIPART, closed(xml_part(xml), *files)


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A multipart body of `total` bytes sent chunked, without Content-Length."""
    head = xml_part(visit_xml(photo="big.jpg")) + (
        b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="big.jpg"; filename="big.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n")
    yield head
    sent = len(head)
    while sent < total:
        yield b"x" * size
        sent += size


def with_meta(inner: str, attributes: str = FORM, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{head}<data {attributes}><head_name>x</head_name>'
            f"<meta>{inner}</meta></data>").encode()


def new_id() -> str:
    return f"<instanceID>uuid:{uuid.uuid4()}</instanceID>"


@dataclass(frozen=True)
class Case:
    id: str
    body: Callable[[dict], tuple[str | None, bytes | Iterable[bytes]]]   # app config → (Content-Type, body)
    status: int
    error: type[errors.TaizhangError]
    detail: str | None = None   # a piece of the message's detail, where it says which thing was wrong


def xml_case(case_id: str, xml: bytes | Callable[[dict], bytes], status: int, error: type[errors.TaizhangError],
             detail: str | None = None, attachments: dict[str, bytes] | None = None) -> Case:
    """A hostile XML document inside a well-formed upload, as Collect would send it."""
    return Case(case_id, lambda config: collect(xml(config) if callable(xml) else xml, attachments), status, error,
                detail)


def attachment_case(case_id: str, name: str) -> Case:
    return Case(case_id, lambda config: collect(visit_xml(photo="photo.jpg"), {name: b"\xff\xd8data"}), 400,
                errors.AttachmentNameInvalid)


LOL = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">' for level in range(1, 10))

XML_CASES = [
    # Entities and DTDs: refused before anything is resolved or fetched.
    xml_case("xxe-file-passwd", with_meta(new_id(), head='<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
             .replace(b"<head_name>x", b"<head_name>&xxe;"), 400, errors.XmlForbiddenConstruct),
    xml_case("xxe-http", with_meta(new_id(), head='<!DOCTYPE data [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>')
             .replace(b"<head_name>x", b"<head_name>&xxe;"), 400, errors.XmlForbiddenConstruct),
    xml_case("billion-laughs", with_meta(new_id(), head=f"<!DOCTYPE data [{LOL}]>")
             .replace(b"<head_name>x", b"<head_name>&lol9;"), 400, errors.XmlForbiddenConstruct),
    xml_case("quadratic-blowup", with_meta(new_id(), head=f'<!DOCTYPE data [<!ENTITY a "{"A" * 50_000}">]>')
             .replace(b"<head_name>x", b"<head_name>" + b"&a;" * 1000), 400, errors.XmlForbiddenConstruct),
    xml_case("external-dtd-system", with_meta(new_id(), head='<!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd">'),
             400, errors.XmlForbiddenConstruct),
    xml_case("external-dtd-public", with_meta(new_id(), head='<!DOCTYPE data PUBLIC "-//EVIL//DTD Data//EN" '
                                                             '"file:///etc/passwd">'), 400, errors.XmlForbiddenConstruct),
    xml_case("parameter-entity", with_meta(new_id(), head='<!DOCTYPE data [<!ENTITY % remote SYSTEM '
                                                          '"http://127.0.0.1:9/evil.dtd"> %remote;]>'),
             400, errors.XmlForbiddenConstruct),
    xml_case("internal-dtd-subset", with_meta(new_id(), head="<!DOCTYPE data [<!ELEMENT data ANY>]>"),
             400, errors.XmlForbiddenConstruct),
    xml_case("undeclared-entity", with_meta(new_id()).replace(b"<head_name>x", b"<head_name>&undeclared;"),
             400, errors.XmlForbiddenConstruct),
    # Size and shape.
    xml_case("huge-xml", lambda config: visit_xml(head_name="x" * (config["TAIZHANG_MAX_XML_BYTES"] + 1)),
             413, errors.PayloadTooLarge, "xml_submission_file"),
    xml_case("deeply-nested-100k-levels", f"<data {FORM}>{'<a>' * 100_000}{'</a>' * 100_000}</data>".encode(),
             413, errors.PayloadTooLarge, "xml_submission_file"),
    xml_case("deeply-nested-30k-levels-under-the-size-limit",
             f"<data {FORM}>{'<a>' * 30_000}{'</a>' * 30_000}</data>".encode(), 400, errors.XmlMalformed),
    # Encodings.
    xml_case("invalid-utf8", with_meta(new_id()).replace(b"<head_name>x", b"<head_name>\xff\xfe\xc3\x28"),
             400, errors.XmlMalformed),
    xml_case("overlong-utf8-slash", with_meta(new_id()).replace(b"<head_name>x", b"<head_name>\xc0\xaf"),
             400, errors.XmlMalformed),
    xml_case("utf16-declared-utf8-bytes", with_meta(new_id()).replace(b'encoding="UTF-8"', b'encoding="UTF-16"'),
             400, errors.XmlMalformed),
    xml_case("utf16-bom-utf8-bytes", b"\xff\xfe" + with_meta(new_id()), 400, errors.XmlMalformed),
    xml_case("unknown-encoding", with_meta(new_id()).replace(b'encoding="UTF-8"', b'encoding="X-NO-SUCH"'),
             400, errors.XmlMalformed),
    xml_case("nul-byte", with_meta(new_id()).replace(b"<head_name>x", b"<head_name>\x00"), 400, errors.XmlMalformed),
    xml_case("control-character-reference", with_meta(new_id()).replace(b"<head_name>x", b"<head_name>&#1;"),
             400, errors.XmlMalformed),
    # Not XML at all.
    xml_case("non-xml-text", b"not xml at all", 400, errors.XmlMalformed),
    xml_case("non-xml-json", b'{"id": "household_visit"}', 400, errors.XmlMalformed),
    xml_case("non-xml-binary", bytes(range(256)) * 4, 400, errors.XmlMalformed),
    xml_case("empty-xml-part", b"", 400, errors.XmlMalformed),
    xml_case("truncated-xml", visit_xml()[:-20], 400, errors.XmlMalformed),
    xml_case("two-root-elements", visit_xml() + b"<data/>", 400, errors.XmlMalformed),
    # Well-formed, but not a submission of a form here.
    xml_case("missing-instance-id", with_meta(""), 400, errors.InstanceIdMissing),
    xml_case("empty-instance-id", with_meta("<instanceID>  </instanceID>"), 400, errors.InstanceIdMissing),
    xml_case("missing-form-id", with_meta(new_id(), attributes='version="2026112201"'), 400, errors.FormIdMissing),
    xml_case("instance-id-too-long", with_meta(f"<instanceID>uuid:{'f' * 300}</instanceID>"), 400,
             errors.IdentifierTooLong),
    xml_case("instance-id-with-slash", with_meta("<instanceID>uuid:a/../b</instanceID>"), 400,
             errors.InstanceIdInvalid, "uuid:a/../b"),
    xml_case("instance-id-dotdot", with_meta("<instanceID>..</instanceID>"), 400, errors.InstanceIdInvalid),
    xml_case("instance-id-with-space", with_meta("<instanceID>uuid:a b</instanceID>"), 400, errors.InstanceIdInvalid),
    xml_case("deprecated-id-with-slash", with_meta(new_id() + "<deprecatedID>uuid:x/y</deprecatedID>"), 400,
             errors.InstanceIdInvalid, "uuid:x/y"),
    xml_case("wrong-form-id", visit_xml(form_id="no_such_form"), 404, errors.FormNotFound, "no_such_form"),
    xml_case("unknown-version", visit_xml(version="1999"), 400, errors.FormVersionUnknown, "household_visit version 1999"),
    xml_case("missing-version", with_meta(new_id(), attributes='id="household_visit"'), 400,
             errors.FormVersionUnknown, "household_visit version (none)"),
    xml_case("deprecated-id-of-another-groups-submission", visit_xml(deprecated_id=OTHER_FORM_INSTANCE), 403,
             errors.EditOutsideGroup, OTHER_FORM_INSTANCE),
    xml_case("form-of-another-area", f'<data id="visit_with_media" version="3"><meta>{new_id()}</meta></data>'
             .encode(), 403, errors.Forbidden, "visit_with_media"),
    # The same with a photo: refused before the photo is kept.
    xml_case("wrong-form-id-with-photo", visit_xml(form_id="no_such_form", photo="p.jpg"), 404, errors.FormNotFound,
             attachments={"p.jpg": b"\xff\xd8wrong-form"}),
    xml_case("unknown-version-with-photo", visit_xml(version="1999", photo="p.jpg"), 400, errors.FormVersionUnknown,
             attachments={"p.jpg": b"\xff\xd8unknown-version"}),
    xml_case("form-of-another-area-with-photo", f'<data id="visit_with_media" version="3"><photo>p.jpg</photo>'
             f'<meta>{new_id()}</meta></data>'.encode(), 403, errors.Forbidden,
             attachments={"p.jpg": b"\xff\xd8another-area"}),
    xml_case("deprecated-id-of-another-groups-submission-with-photo",
             visit_xml(deprecated_id=OTHER_FORM_INSTANCE, photo="p.jpg"), 403, errors.EditOutsideGroup,
             attachments={"p.jpg": b"\xff\xd8another-group"}),
]

UPLOAD_CASES = [
    # Wrong content types.
    Case("content-type-json", lambda config: ("application/json", b'{"xml": "<data/>"}'), 415,
         errors.UnsupportedMediaType, "application/json"),
    Case("content-type-text-plain", lambda config: ("text/plain", visit_xml()), 415, errors.UnsupportedMediaType,
         "text/plain"),
    Case("content-type-text-xml", lambda config: ("text/xml", visit_xml()), 415, errors.UnsupportedMediaType),
    Case("content-type-form-urlencoded", lambda config: ("application/x-www-form-urlencoded",
                                                         b"xml_submission_file=%3Cdata%2F%3E"),
         415, errors.UnsupportedMediaType),
    Case("content-type-missing", lambda config: (None, visit_xml()), 415, errors.UnsupportedMediaType,
         "no Content-Type"),
    Case("content-type-multipart-mixed", lambda config: (f"multipart/mixed; boundary={BOUNDARY}",
                                                         collect(visit_xml())[1]), 415, errors.UnsupportedMediaType),
    # Broken multipart.
    Case("multipart-no-boundary", lambda config: ("multipart/form-data", collect(visit_xml())[1]), 400,
         errors.MultipartMalformed, "no boundary"),
    Case("multipart-wrong-boundary", lambda config: ("multipart/form-data; boundary=other", collect(visit_xml())[1]),
         400, errors.MultipartMalformed),
    Case("multipart-boundary-never-closed", lambda config: (MULTIPART, xml_part(visit_xml())), 400,
         errors.MultipartMalformed),
    Case("multipart-truncated-inside-part", lambda config: (MULTIPART, xml_part(visit_xml())[:-40]), 400,
         errors.MultipartMalformed),
    Case("multipart-empty-body", lambda config: (MULTIPART, b""), 400, errors.MultipartMalformed),
    Case("multipart-no-parts", lambda config: (MULTIPART, closed()), 400, errors.XmlPartMissing),
    Case("multipart-part-without-headers", lambda config: (MULTIPART, closed(
        b"--" + BOUNDARY.encode() + b"\r\n\r\n" + visit_xml() + b"\r\n")), 400, errors.MultipartMalformed),
    Case("multipart-huge-part-header", lambda config: (MULTIPART, closed(part(
        "xml_submission_file", visit_xml(), "s.xml", extra_headers=b"X-Padding: " + b"a" * 100_000 + b"\r\n"))),
         413, errors.PayloadTooLarge),
    Case("multipart-many-part-headers", lambda config: (MULTIPART, closed(part(
        "xml_submission_file", visit_xml(), "s.xml",
        extra_headers=b"".join(b"X-H%d: v\r\n" % i for i in range(1000))))), 413, errors.PayloadTooLarge),
    Case("multipart-header-without-colon", lambda config: (MULTIPART, closed(part(
        "xml_submission_file", visit_xml(), "s.xml", extra_headers=b"no colon here\r\n"))), 400,
         errors.MultipartMalformed),
    Case("multipart-too-many-parts", lambda config: (MULTIPART, closed(
        xml_part(visit_xml()), *(part(f"f{i}", b"", filename=f"f{i}.jpg") for i in range(600)))),
         413, errors.PayloadTooLarge),
    Case("missing-xml-part", lambda config: (MULTIPART, closed(part("photo.jpg", b"x", filename="photo.jpg"))), 400,
         errors.XmlPartMissing),
    Case("two-xml-parts", lambda config: (MULTIPART, closed(xml_part(visit_xml()), xml_part(visit_xml()))), 400,
         errors.MultipartMalformed, "xml_submission_file"),
    # Attachment names that are paths or worse.
    attachment_case("attachment-name-traversal", "../../etc/x"),
    attachment_case("attachment-name-dotdot", ".."),
    attachment_case("attachment-name-subdirectory", "dir/photo.jpg"),
    attachment_case("attachment-name-absolute", "/etc/passwd"),
    attachment_case("attachment-name-backslashes", "..\\..\\windows\\photo.jpg"),
    attachment_case("attachment-name-nul", "photo.jpg\x00.sh"),
    attachment_case("attachment-name-newline", "photo%0D%0A.jpg"),
    attachment_case("attachment-name-very-long", "p" * 300 + ".jpg"),
    # Too large.
    Case("oversized-body", lambda config: collect(visit_xml(photo="big.jpg"), {
        "big.jpg": b"x" * (config["TAIZHANG_MAX_SUBMISSION_BYTES"] + 1)}), 413, errors.PayloadTooLarge),
    Case("oversized-attachment", lambda config: collect(visit_xml(photo="big.jpg"), {
        "big.jpg": b"x" * (config["TAIZHANG_MAX_ATTACHMENT_BYTES"] + 1)}), 413, errors.PayloadTooLarge),
    Case("oversized-chunked-without-content-length", lambda config: (
        MULTIPART, chunks(config["TAIZHANG_MAX_SUBMISSION_BYTES"] + 256 * 1024)), 413, errors.PayloadTooLarge),
]


@dataclass
class World:
    server: LiveServer
    phone: CollectClient        # an east-village collector on its token URL
    west: CollectClient         # a west-village collector, who may fill visit_with_media
    digest: CollectClient       # an east-village collector with user name and password at the root URL


@pytest.fixture(scope="module")
def world(live_server):
    """Set up once per backend (every case stores nothing, so cases share it): the visit form for everyone, a
    west-village form (visit_with_media) with one submission from the west already stored."""
    with live_server.app.app_context():
        empty_tables(live_server.backend)
        clients = []
        for area in ("青山镇/东村/第一组", "青山镇/西村/第一组", "青山镇/东村/第一组"):
            ensure_area(area)
            clients.append(add_user(f"phone{len(clients) + 1}", "collector", area, realm=REALM, with_token=True))
        blobs = blob_store()
        publish_form(FIXTURES / "forms" / "household_visit_placeholder.xml", blobs, validate=False)
        publish_form(FIXTURES / "forms" / "visit_with_media.xml", blobs, validate=False, area="青山镇/西村")
        commit()
        east, west, digest = clients
        world = World(live_server, live_server.client(token=east.token), live_server.client(token=west.token),
                      live_server.client(digest.username, digest.password))
        other = (f'<data id="visit_with_media" version="3"><meta><instanceID>{OTHER_FORM_INSTANCE}</instanceID>'
                 "</meta></data>")
        assert world.west.post_submission(other.encode()).status_code == 201
        yield world
        db.session.remove()


def blob_files(server) -> list[str]:
    root = server.app.config["TAIZHANG_BLOB_DIR"]
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def assert_openrosa_error(response: requests.Response, status: int, error: type[errors.TaizhangError],
                          detail: str | None = None) -> None:
    """The exact status, OpenRosa headers, and `<OpenRosaResponse><message nature="error">` with the error's
    fixed bilingual message (and the detail, where one is expected)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<OpenRosaResponse "
                                       b'xmlns="http://openrosa.org/http/response"><message nature="error">')
    root = parse_untrusted(response.content)
    (message,) = root
    assert (root.tag, message.tag, message.get("nature")) == (
        "{http://openrosa.org/http/response}OpenRosaResponse", "{http://openrosa.org/http/response}message", "error")
    fixed = f"{error.message_zh} / {error.message_en}"
    assert message.text == fixed or message.text.startswith(fixed + " ("), message.text
    if detail is not None:
        assert detail in message.text


def post(phone: CollectClient, content_type: str | None, body) -> requests.Response:
    """POST a raw body with the phone's credentials (token URL or Digest) and OpenRosa headers."""
    headers = {"Content-Type": content_type} if content_type else {}
    return phone.session.post(f"{phone.base}/submission", data=body, headers=headers, timeout=60)


def refused_leaving_nothing(world: World, send: Callable[[], requests.Response], case: Case) -> None:
    """Send, check the refusal, check that no row and no file was added, check the server still takes a form."""
    submissions, attachments, blobs = stored_submissions(), stored_attachments(), blob_files(world.server)
    assert_openrosa_error(send(), case.status, case.error, case.detail)
    assert stored_submissions() == submissions and stored_attachments() == attachments
    assert blob_files(world.server) == blobs
    assert world.phone.submit(visit_xml()).status_code == 201  # still serving (HEAD, then POST)


@pytest.mark.parametrize("case", XML_CASES + UPLOAD_CASES, ids=lambda case: case.id)
def test_hostile_upload_is_refused_and_nothing_is_stored(world, case):
    content_type, body = case.body(world.server.app.config)
    refused_leaving_nothing(world, lambda: post(world.phone, content_type, body), case)


@pytest.mark.parametrize("case", [case for case in XML_CASES + UPLOAD_CASES if case.id in (
    "xxe-file-passwd", "billion-laughs", "missing-xml-part", "content-type-text-xml", "multipart-no-boundary",
    "multipart-boundary-never-closed", "attachment-name-traversal", "oversized-attachment")], ids=lambda case: case.id)
def test_refusals_are_the_same_with_digest_at_the_root_url(world, case):
    """Collect set up by hand (user name and password, no token) gets the same answers."""
    content_type, body = case.body(world.server.app.config)
    refused_leaving_nothing(world, lambda: post(world.digest, content_type, body), case)


def test_content_length_over_the_limit_is_refused_before_the_body_is_read(world):
    """A phone announcing more than the limit is answered at once, without waiting for (or storing) the body."""
    address = urlsplit(world.phone.base)

    def send() -> requests.Response:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.putrequest("POST", f"{address.path}/submission")
        for name, value in {**OPENROSA_HEADERS, "Content-Type": MULTIPART,
                            "Content-Length": str(10 * 1024 ** 3)}.items():
            connection.putheader(name, value)
        connection.endheaders(xml_part(visit_xml()))
        answer = connection.getresponse()
        response = requests.Response()
        response.status_code, response.headers, response.raw = (
            answer.status, requests.structures.CaseInsensitiveDict(answer.getheaders()), io.BytesIO(answer.read()))
        connection.close()
        return response

    refused_leaving_nothing(world, send, Case("content-length-10-gib", lambda config: (None, b""), 413,
                                              errors.PayloadTooLarge))


def test_a_form_of_another_area_is_refused_but_its_own_area_sends_it(world):
    xml = f'<data id="visit_with_media" version="3"><meta>{new_id()}</meta></data>'.encode()
    assert_openrosa_error(world.phone.post_submission(xml), 403, errors.Forbidden, "visit_with_media")
    assert world.west.post_submission(xml).status_code == 201


@pytest.mark.parametrize("attachments", [None, {"p.jpg": b"\xff\xd8another-form"}], ids=["xml", "with-photo"])
def test_an_edit_replacing_a_submission_of_another_form_is_refused(world, attachments):
    """The west collector's own visit_with_media submission cannot be replaced by a household_visit."""
    xml = visit_xml(deprecated_id=OTHER_FORM_INSTANCE, photo="p.jpg" if attachments else "")
    refused_leaving_nothing(world, lambda: post(world.west, *collect(xml, attachments)),
                            Case("deprecated-id-of-another-form", lambda config: (None, b""), 409,
                                 errors.EditFormMismatch, OTHER_FORM_INSTANCE))


def test_get_on_submission_is_405_in_openrosa_format(world):
    assert_openrosa_error(world.phone.get(f"{world.phone.base}/submission"), 405, errors.MethodNotAllowed)


@pytest.mark.parametrize("encode", [
    lambda xml: b"\xef\xbb\xbf" + xml,
    lambda xml: xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
    lambda xml: b"\xef\xbb\xbf" + xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"'),
], ids=["utf8-bom", "utf16-with-bom", "utf8-bom-over-a-utf16-declaration"])
def test_well_formed_encoding_oddities_are_read_right(world, encode):
    """Not hostile: XML whose byte order mark says how it is encoded is well-formed, and is read as it says."""
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = encode(visit_xml(instance_id=instance_id))
    assert world.phone.post_submission(xml).status_code == 201
    stored = stored_submissions()[-1]
    assert (stored["instance_id"], bytes(stored["xml"])) == (instance_id, xml)
    assert parse_submission(bytes(stored["xml"])).root.findtext("head_name") == "王秀英"
