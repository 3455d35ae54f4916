"""Unit tests for server.openrosa.formats: exact bytes and namespaces of OpenRosa documents."""

from __future__ import annotations

import pytest
from lxml import etree

from server.openrosa.formats import (
    XML_CONTENT_TYPE,
    FormListEntry,
    ManifestEntry,
    form_list,
    manifest,
    response_message,
)

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"

MD5_A = "0123456789abcdef0123456789abcdef"
MD5_B = "ffffffffffffffffffffffffffffffff"
MD5_CSV = "a" * 32
MD5_ENTITY = "b" * 32

FORMS = [
    FormListEntry(form_id="household_visit", name="入户访视", version="2026112201", md5=MD5_A,
                  download_url="https://x.test/formXml?formId=household_visit",
                  manifest_url="https://x.test/xformsManifest?formId=household_visit"),
    FormListEntry(form_id="f2", name="F & <2>", version="3", md5=MD5_B,
                  download_url="https://x.test/formXml?formId=f2&v=3", manifest_url=None),
]

MEDIA = [
    ManifestEntry(filename="households.csv", md5=MD5_CSV, download_url="https://x.test/media/households.csv"),
    ManifestEntry(filename="people.csv", md5=MD5_ENTITY, download_url="https://x.test/media/people.csv",
                  kind="entityList", integrity_url="https://x.test/integrity?id=people"),
]


def test_xml_content_type_is_text_xml_in_utf8():
    assert XML_CONTENT_TYPE == "text/xml; charset=utf-8"


# --- form list -------------------------------------------------------------------------------------------------


def test_form_list_exact_bytes():
    assert form_list(FORMS) == DECLARATION + (
        '<xforms xmlns="http://openrosa.org/xforms/xformsList">'
        "<xform><formID>household_visit</formID><name>入户访视</name><version>2026112201</version>"
        f"<hash>md5:{MD5_A}</hash><downloadUrl>https://x.test/formXml?formId=household_visit</downloadUrl>"
        "<manifestUrl>https://x.test/xformsManifest?formId=household_visit</manifestUrl></xform>"
        "<xform><formID>f2</formID><name>F &amp; &lt;2&gt;</name><version>3</version>"
        f"<hash>md5:{MD5_B}</hash><downloadUrl>https://x.test/formXml?formId=f2&amp;v=3</downloadUrl></xform>"
        "</xforms>"
    ).encode("utf-8")


def test_empty_form_list_exact_bytes():
    assert form_list([]) == DECLARATION + b'<xforms xmlns="http://openrosa.org/xforms/xformsList"/>'


def test_form_list_parses_back_in_xforms_list_namespace():
    root = etree.fromstring(form_list(FORMS))
    assert (root.tag, {etree.QName(e).namespace for e in root.iter()}) == (f"{{{XFORMS_LIST_NS}}}xforms",
                                                                           {XFORMS_LIST_NS})


def test_form_list_parses_back_to_the_entries():
    root = etree.fromstring(form_list(FORMS))
    ns = {"x": XFORMS_LIST_NS}
    parsed = [(x.findtext("x:formID", namespaces=ns), x.findtext("x:name", namespaces=ns),
               x.findtext("x:version", namespaces=ns), x.findtext("x:downloadUrl", namespaces=ns),
               x.findtext("x:manifestUrl", namespaces=ns)) for x in root.findall("x:xform", namespaces=ns)]
    assert parsed == [(e.form_id, e.name, e.version, e.download_url, e.manifest_url) for e in FORMS]


def test_form_list_hashes_are_md5_prefixed():
    root = etree.fromstring(form_list(FORMS))
    assert root.xpath("//x:hash/text()", namespaces={"x": XFORMS_LIST_NS}) == [f"md5:{MD5_A}", f"md5:{MD5_B}"]


# --- manifest --------------------------------------------------------------------------------------------------


def test_manifest_exact_bytes_with_entity_list():
    assert manifest(MEDIA) == DECLARATION + (
        '<manifest xmlns="http://openrosa.org/xforms/xformsManifest">'
        f"<mediaFile><filename>households.csv</filename><hash>md5:{MD5_CSV}</hash>"
        "<downloadUrl>https://x.test/media/households.csv</downloadUrl></mediaFile>"
        f'<mediaFile type="entityList"><filename>people.csv</filename><hash>md5:{MD5_ENTITY}</hash>'
        "<downloadUrl>https://x.test/media/people.csv</downloadUrl>"
        "<integrityUrl>https://x.test/integrity?id=people</integrityUrl></mediaFile>"
        "</manifest>"
    ).encode("utf-8")


def test_empty_manifest_exact_bytes():
    assert manifest([]) == DECLARATION + b'<manifest xmlns="http://openrosa.org/xforms/xformsManifest"/>'


def test_manifest_parses_back_in_manifest_namespace():
    root = etree.fromstring(manifest(MEDIA))
    assert (root.tag, {etree.QName(e).namespace for e in root.iter()}) == (f"{{{MANIFEST_NS}}}manifest",
                                                                           {MANIFEST_NS})


def test_manifest_type_attribute_is_unqualified_and_only_on_entity_list():
    root = etree.fromstring(manifest(MEDIA))
    assert [dict(f.attrib) for f in root] == [{}, {"type": "entityList"}]


def test_manifest_integrity_url_only_on_entity_list():
    root = etree.fromstring(manifest(MEDIA))
    ns = {"m": MANIFEST_NS}
    assert [f.findtext("m:integrityUrl", namespaces=ns) for f in root] == [None, "https://x.test/integrity?id=people"]


def test_manifest_hashes_are_md5_prefixed():
    root = etree.fromstring(manifest(MEDIA))
    assert root.xpath("//m:hash/text()", namespaces={"m": MANIFEST_NS}) == [f"md5:{MD5_CSV}", f"md5:{MD5_ENTITY}"]


# --- response message ------------------------------------------------------------------------------------------


def test_error_response_message_exact_bytes():
    assert response_message("出错了 & <重试>", nature="error") == DECLARATION + (
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        '<message nature="error">出错了 &amp; &lt;重试&gt;</message></OpenRosaResponse>'
    ).encode("utf-8")


def test_default_response_message_has_empty_nature():
    assert response_message("ok") == DECLARATION + (
        b'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        b'<message nature="">ok</message></OpenRosaResponse>')


def test_response_message_parses_back_in_response_namespace():
    root = etree.fromstring(response_message("x", nature="error"))
    message = root[0]
    assert (root.tag, message.tag, message.get("nature"), message.text) == (
        f"{{{RESPONSE_NS}}}OpenRosaResponse", f"{{{RESPONSE_NS}}}message", "error", "x")


@pytest.mark.parametrize("build", [lambda: form_list(FORMS), lambda: manifest(MEDIA),
                                   lambda: response_message("x", nature="error")],
                         ids=["form_list", "manifest", "response_message"])
def test_documents_declare_utf8_and_use_a_default_namespace_only(build):
    root = etree.fromstring(build())
    assert (root.getroottree().docinfo.encoding, list(root.nsmap)) == ("UTF-8", [None])
