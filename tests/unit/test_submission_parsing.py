"""Unit tests for sync.submission: identity extraction, hostile XML, attachment names, text values."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sync.errors import (
    AttachmentNameInvalid,
    FormIdMissing,
    IdentifierTooLong,
    InstanceIdMissing,
    XmlForbiddenConstruct,
    XmlMalformed,
)
from sync.submission import (
    SubmissionEnvelope,
    attachment_names,
    check_attachment_name,
    parse_submission,
    text_values,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xml"

INSTANCE_ID = "uuid:6f1c2a52-1b0e-4c55-9d1b-3a7e8c4f0a11"


def submission(body: str = "", *, root_attrs: str = 'id="household_visit" version="2026112201"',
               meta: str | None = f"<meta><instanceID>{INSTANCE_ID}</instanceID></meta>") -> bytes:
    """A small submission document: `<data ...>{body}{meta}</data>`."""
    return f'<?xml version="1.0" encoding="UTF-8"?><data {root_attrs}>{body}{meta or ""}</data>'.encode()


# --- parse_submission: identity ---------------------------------------------------------------------------------


def test_parse_submission_extracts_form_id():
    assert parse_submission(submission()).form_id == "household_visit"


def test_parse_submission_extracts_version():
    assert parse_submission(submission()).version == "2026112201"


def test_parse_submission_extracts_instance_id_from_plain_meta():
    assert parse_submission(submission()).instance_id == INSTANCE_ID


def test_parse_submission_extracts_instance_id_from_orx_namespaced_meta():
    xml = (b'<data xmlns:orx="http://openrosa.org/xforms" id="f" version="1">'
           b"<orx:meta><orx:instanceID>uuid:orx-1</orx:instanceID></orx:meta></data>")
    assert parse_submission(xml).instance_id == "uuid:orx-1"


def test_parse_submission_extracts_instance_id_when_default_namespace_is_set():
    xml = (b'<data xmlns="http://www.w3.org/2002/xforms" id="f" version="1">'
           b"<meta><instanceID>uuid:ns-1</instanceID></meta></data>")
    assert parse_submission(xml).instance_id == "uuid:ns-1"


def test_parse_submission_strips_whitespace_around_instance_id():
    xml = submission(meta="<meta><instanceID>\n   uuid:spaced  \n</instanceID></meta>")
    assert parse_submission(xml).instance_id == "uuid:spaced"


def test_parse_submission_without_deprecated_id_is_not_an_edit():
    envelope = parse_submission(submission())
    assert (envelope.deprecated_id, envelope.is_edit) == (None, False)


def test_parse_submission_extracts_deprecated_id_and_marks_edit():
    xml = submission(meta="<meta><instanceID>uuid:new</instanceID><deprecatedID>uuid:old</deprecatedID></meta>")
    envelope = parse_submission(xml)
    assert (envelope.instance_id, envelope.deprecated_id, envelope.is_edit) == ("uuid:new", "uuid:old", True)


def test_parse_submission_extracts_deprecated_id_from_orx_namespaced_meta():
    xml = (b'<data xmlns:orx="http://openrosa.org/xforms" id="f" version="1"><orx:meta>'
           b"<orx:instanceID>uuid:new</orx:instanceID><orx:deprecatedID>uuid:old</orx:deprecatedID>"
           b"</orx:meta></data>")
    assert parse_submission(xml).deprecated_id == "uuid:old"


def test_parse_submission_treats_empty_deprecated_id_as_absent():
    xml = submission(meta="<meta><instanceID>uuid:new</instanceID><deprecatedID>  </deprecatedID></meta>")
    assert parse_submission(xml).deprecated_id is None


def test_parse_submission_missing_version_attribute_gives_empty_version():
    assert parse_submission(submission(root_attrs='id="f"')).version == ""


def test_parse_submission_falls_back_to_aggregate_root_instance_id_attribute():
    xml = submission(root_attrs='id="f" version="1" instanceID="uuid:aggregate-1"', meta=None)
    assert parse_submission(xml).instance_id == "uuid:aggregate-1"


def test_parse_submission_falls_back_to_root_attribute_when_meta_instance_id_is_empty():
    xml = submission(root_attrs='id="f" version="1" instanceID="uuid:aggregate-2"',
                     meta="<meta><instanceID></instanceID></meta>")
    assert parse_submission(xml).instance_id == "uuid:aggregate-2"


def test_parse_submission_prefers_meta_instance_id_over_root_attribute():
    xml = submission(root_attrs='id="f" version="1" instanceID="uuid:from-root"',
                     meta="<meta><instanceID>uuid:from-meta</instanceID></meta>")
    assert parse_submission(xml).instance_id == "uuid:from-meta"


def test_parse_submission_reads_fixture_with_orx_meta_and_repeats():
    envelope = parse_submission((FIXTURES / "submission_repeats.xml").read_bytes())
    assert (envelope.form_id, envelope.version, envelope.instance_id, envelope.deprecated_id) == (
        "f", "3", INSTANCE_ID, None)


def test_parse_submission_returns_parsed_root_element():
    envelope = parse_submission(submission("<household>H-1</household>"))
    assert (envelope.root.tag, envelope.root.findtext("household")) == ("data", "H-1")


def test_parse_submission_sha256_is_of_the_exact_bytes():
    xml = submission("<household>H-1</household>")
    assert parse_submission(xml).sha256 == hashlib.sha256(xml).hexdigest()


def test_parse_submission_sha256_changes_with_insignificant_whitespace():
    xml = submission("<household>H-1</household>")
    assert parse_submission(xml).sha256 != parse_submission(xml + b"\n").sha256


def test_parse_submission_returns_envelope_type():
    assert isinstance(parse_submission(submission()), SubmissionEnvelope)


# --- parse_submission: missing identity ------------------------------------------------------------------------


def test_parse_submission_missing_form_id_raises_form_id_missing():
    with pytest.raises(FormIdMissing) as caught:
        parse_submission(submission(root_attrs='version="1"'))
    assert caught.value.code == "400.8"


def test_parse_submission_blank_form_id_raises_form_id_missing():
    with pytest.raises(FormIdMissing):
        parse_submission(submission(root_attrs='id="   " version="1"'))


def test_parse_submission_missing_meta_raises_instance_id_missing():
    with pytest.raises(InstanceIdMissing) as caught:
        parse_submission(submission(meta=None))
    assert caught.value.code == "400.5"


def test_parse_submission_empty_instance_id_raises_instance_id_missing():
    with pytest.raises(InstanceIdMissing):
        parse_submission(submission(meta="<meta><instanceID>   </instanceID></meta>"))


def test_parse_submission_instance_id_outside_meta_is_not_used():
    with pytest.raises(InstanceIdMissing):
        parse_submission(submission("<group><meta><instanceID>uuid:nested</instanceID></meta></group>", meta=None))


def test_parse_submission_instance_id_of_255_characters_is_accepted():
    long_id = "uuid:" + "a" * 250
    assert parse_submission(submission(meta=f"<meta><instanceID>{long_id}</instanceID></meta>")).instance_id == long_id


def test_parse_submission_instance_id_over_255_characters_is_refused():
    long_id = "uuid:" + "a" * 251
    with pytest.raises(IdentifierTooLong):
        parse_submission(submission(meta=f"<meta><instanceID>{long_id}</instanceID></meta>"))


def test_parse_submission_form_id_over_255_characters_is_refused():
    with pytest.raises(IdentifierTooLong):
        parse_submission(submission(root_attrs=f'id="{"f" * 256}" version="1"'))


# --- parse_submission: hostile input ---------------------------------------------------------------------------

FORBIDDEN = {
    "xxe_external_entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<data id="f" version="1"><v>&e;</v><meta><instanceID>uuid:1</instanceID></meta></data>'),
    "billion_laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<data id="f" version="1"><v>&lol3;</v><meta><instanceID>uuid:1</instanceID></meta></data>'),
    "external_dtd": (
        b'<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://example.invalid/evil.dtd">'
        b'<data id="f" version="1"><meta><instanceID>uuid:1</instanceID></meta></data>'),
    "parameter_entity": (
        b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY % p SYSTEM "http://example.invalid/p.dtd"> %p;]>'
        b'<data id="f" version="1"><meta><instanceID>uuid:1</instanceID></meta></data>'),
    "internal_entity": (
        b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY name "value">]>'
        b'<data id="f" version="1"><v>&name;</v><meta><instanceID>uuid:1</instanceID></meta></data>'),
    "bare_doctype": (
        b'<!DOCTYPE data><data id="f" version="1"><meta><instanceID>uuid:1</instanceID></meta></data>'),
}


@pytest.mark.parametrize("xml", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_parse_submission_refuses_dtd_and_entities_as_forbidden_construct(xml):
    with pytest.raises(XmlForbiddenConstruct) as caught:
        parse_submission(xml)
    assert caught.value.code == "400.4"


MALFORMED = {
    "invalid_utf8": b'<data id="f" version="1"><meta><instanceID>uuid:\xff\xfe</instanceID></meta></data>',
    "truncated": b'<data id="f" version="1"><meta><instanceID>uuid:1</instanceID></meta',
    "empty": b"",
    "plain_text": b"hello world",
    "json": b'{"id": "f", "instanceID": "uuid:1"}',
    "nul_byte": b'<data id="f" version="1">\x00<meta><instanceID>uuid:1</instanceID></meta></data>',
    "two_roots": b'<data id="f"/><data id="g"/>',
    "mismatched_tags": b'<data id="f" version="1"><meta><instanceID>uuid:1</meta></instanceID></data>',
    "declared_utf16_but_ascii": b'<?xml version="1.0" encoding="utf-16"?><data id="f"/>',
}


@pytest.mark.parametrize("xml", MALFORMED.values(), ids=MALFORMED.keys())
def test_parse_submission_refuses_malformed_bytes_as_xml_malformed(xml):
    with pytest.raises(XmlMalformed) as caught:
        parse_submission(xml)
    assert caught.value.code == "400.3"


def test_parse_submission_unknown_encoding_declaration_is_xml_malformed():
    with pytest.raises(XmlMalformed):
        parse_submission(b'<?xml version="1.0" encoding="no-such-encoding"?>'
                         b'<data id="f" version="1"><meta><instanceID>uuid:1</instanceID></meta></data>')


def deeply_nested(levels: int) -> bytes:
    return (b'<data id="f" version="1"><meta><instanceID>uuid:deep</instanceID></meta>'
            + b"<g>" * levels + b"leaf.jpg" + b"</g>" * levels + b"</data>")


DEEP = 250  # libxml2 refuses documents nested deeper than 256 elements


def test_parse_submission_nested_deeper_than_the_parser_allows_is_xml_malformed():
    with pytest.raises(XmlMalformed):
        parse_submission(deeply_nested(50_000))


def test_attachment_names_handles_the_deepest_nesting_parsed():
    envelope = parse_submission(deeply_nested(DEEP))
    assert attachment_names(envelope.root, frozenset({"/data" + "/g" * DEEP})) == ["leaf.jpg"]


def test_text_values_handles_the_deepest_nesting_parsed():
    envelope = parse_submission(deeply_nested(DEEP))
    assert text_values(envelope.root) == {"uuid:deep", "leaf.jpg"}


# --- attachment_names ------------------------------------------------------------------------------------------


def root_of(body: str) -> object:
    return parse_submission(submission(body)).root


def test_attachment_names_without_binary_paths_is_empty():
    assert attachment_names(root_of("<photo>a.jpg</photo>"), frozenset()) == []


def test_attachment_names_reads_top_level_binary_field():
    assert attachment_names(root_of("<photo>a.jpg</photo>"), frozenset({"/data/photo"})) == ["a.jpg"]


def test_attachment_names_ignores_fields_not_declared_binary():
    root = root_of("<photo>a.jpg</photo><note>b.jpg</note>")
    assert attachment_names(root, frozenset({"/data/photo"})) == ["a.jpg"]


def test_attachment_names_reads_binary_fields_in_nested_groups():
    root = root_of("<outer><inner><doc>scan.pdf</doc></inner></outer><photo>a.jpg</photo>")
    assert attachment_names(root, frozenset({"/data/outer/inner/doc", "/data/photo"})) == ["scan.pdf", "a.jpg"]


def test_attachment_names_requires_the_full_path_not_just_the_field_name():
    root = root_of("<outer><photo>inner.jpg</photo></outer><photo>top.jpg</photo>")
    assert attachment_names(root, frozenset({"/data/photo"})) == ["top.jpg"]


def test_attachment_names_matches_namespaced_root_and_fields_by_local_name():
    xml = (b'<data xmlns="http://www.w3.org/2002/xforms" id="f" version="1"><photo>a.jpg</photo>'
           b"<meta><instanceID>uuid:1</instanceID></meta></data>")
    assert attachment_names(parse_submission(xml).root, frozenset({"/data/photo"})) == ["a.jpg"]


def test_attachment_names_collects_every_repeat_instance_in_document_order_once_skipping_empty():
    root = parse_submission((FIXTURES / "submission_repeats.xml").read_bytes()).root
    paths = frozenset({"/data/photo", "/data/members/member/id_card", "/data/signature"})
    assert attachment_names(root, paths) == ["1700000000001.jpg", "1700000000002.jpg", "1700000000003.jpg"]


def test_attachment_names_lists_duplicates_once():
    root = root_of("<photo>a.jpg</photo><r><p>a.jpg</p></r><r><p>a.jpg</p></r>")
    assert attachment_names(root, frozenset({"/data/photo", "/data/r/p"})) == ["a.jpg"]


def test_attachment_names_follows_document_order_not_binary_path_order():
    root = root_of("<z>first.jpg</z><a>second.jpg</a>")
    assert attachment_names(root, frozenset({"/data/a", "/data/z"})) == ["first.jpg", "second.jpg"]


def test_attachment_names_skips_empty_and_whitespace_only_values():
    root = root_of("<photo></photo><audio>  \n </audio><sig/>")
    assert attachment_names(root, frozenset({"/data/photo", "/data/audio", "/data/sig"})) == []


def test_attachment_names_strips_surrounding_whitespace():
    root = root_of("<photo>\n  a.jpg  \n</photo>")
    assert attachment_names(root, frozenset({"/data/photo"})) == ["a.jpg"]


@pytest.mark.parametrize("value", ["../etc/passwd", "dir/a.jpg", "/abs.jpg", "dir\\a.jpg", "..", ".",
                                   "a&#9;b.jpg", "a&#127;b.jpg"],
                         ids=["dotdot_slash", "slash", "absolute", "backslash", "dotdot", "dot", "tab",
                              "del"])
def test_attachment_names_refuses_unsafe_names(value):
    root = root_of(f"<photo>{value}</photo>")
    with pytest.raises(AttachmentNameInvalid) as caught:
        attachment_names(root, frozenset({"/data/photo"}))
    assert caught.value.code == "400.6"


def test_attachment_names_ignores_unsafe_text_outside_binary_fields():
    root = root_of("<note>../etc/passwd</note><photo>a.jpg</photo>")
    assert attachment_names(root, frozenset({"/data/photo"})) == ["a.jpg"]


# --- check_attachment_name -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1700000000001.jpg", "photo", "a.b.c", "...", "..hidden", "照片.jpg",
                                  "name with spaces.m4a", "x" * 255])
def test_check_attachment_name_returns_acceptable_names_unchanged(name):
    assert check_attachment_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/a", "a/", "../a", "a\\b", "..\\a", "a\x00b", "a\nb",
                                  "a\rb", "a\tb", "\x1f", "a\x7fb", "x" * 256],
                         ids=["empty", "dot", "dotdot", "slash", "leading_slash", "trailing_slash", "traversal",
                              "backslash", "backslash_traversal", "nul", "newline", "cr", "tab", "unit_sep",
                              "del", "too_long"])
def test_check_attachment_name_refuses_unsafe_names(name):
    with pytest.raises(AttachmentNameInvalid) as caught:
        check_attachment_name(name)
    assert caught.value.code == "400.6"


def test_check_attachment_name_detail_is_a_bounded_repr():
    with pytest.raises(AttachmentNameInvalid) as caught:
        check_attachment_name("a\nb/" + "x" * 200)
    assert caught.value.detail == repr("a\nb/" + "x" * 200)[:80]


@pytest.mark.parametrize("name", ["a\x85b.jpg", "a\x9bb.jpg"], ids=["nel", "csi"])
def test_check_attachment_name_refuses_c1_control_characters(name):
    with pytest.raises(AttachmentNameInvalid):
        check_attachment_name(name)


# --- text_values -----------------------------------------------------------------------------------------------


def test_text_values_collects_every_non_empty_stripped_text():
    root = root_of("<a> x </a><b></b><c>\n</c><g><d>y.jpg</d></g>")
    assert text_values(root) == {"x", "y.jpg", INSTANCE_ID}


def test_text_values_ignores_attributes_and_tails():
    root = parse_submission(b'<data id="f" version="1" extra="attr.jpg"><a>x</a>tail.jpg'
                            b"<meta><instanceID>uuid:1</instanceID></meta></data>").root
    assert text_values(root) == {"x", "uuid:1"}


def test_text_values_of_fixture_includes_repeat_values():
    root = parse_submission((FIXTURES / "submission_repeats.xml").read_bytes()).root
    assert text_values(root) == {
        "H-001", "1700000000001.jpg", "Zhang San", "1700000000002.jpg", "Li Si", "Wang Wu",
        "1700000000003.jpg", "Zhao Liu", INSTANCE_ID,
    }
