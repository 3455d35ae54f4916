"""Unit tests for sync.xform.parse_xform on handwritten XForms and on the repository's real XLSForm."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from pyxform.xls2xform import convert

from sync.errors import XFormInvalid, XmlForbiddenConstruct, XmlMalformed
from sync.xform import VERSION_PATTERN, FormDefinition, parse_xform

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "xml"
HOUSEHOLD_XLSFORM = REPO / "xlsforms" / "household_visit.xlsx"


def xform(*, data: str = '<data id="f" version="3"><q/></data>', title: str | None = "Title",
          model_extra: str = "", head_extra: str = "", body: str = "") -> bytes:
    """A minimal XForm: h:html/h:head/(h:title, model/(instance/{data}, {model_extra})), h:body."""
    title_xml = f"<h:title>{title}</h:title>" if title is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" '
        'xmlns:jr="http://openrosa.org/javarosa">'
        f"<h:head>{title_xml}{head_extra}<model><instance>{data}</instance>{model_extra}</model></h:head>"
        f"<h:body>{body}</h:body></h:html>"
    ).encode()


@pytest.fixture(scope="module")
def households() -> FormDefinition:
    return parse_xform((FIXTURES / "xform_households.xml").read_bytes())


# --- handwritten fixture ---------------------------------------------------------------------------------------


def test_parse_xform_reads_form_id(households):
    assert households.form_id == "f"


def test_parse_xform_reads_version(households):
    assert households.version == "3"


def test_parse_xform_reads_title(households):
    assert households.title == "Household follow-up"


def test_parse_xform_binary_paths_are_the_binary_bind_nodesets(households):
    assert households.binary_paths == frozenset({"/data/photo", "/data/members/member/id_card", "/data/signature"})


def test_parse_xform_media_names_in_first_seen_order_without_duplicates(households):
    assert households.media_names == ("logo.png", "households.csv")


# --- small inline forms ----------------------------------------------------------------------------------------


def test_parse_xform_minimal_form_has_no_binaries_and_no_media():
    assert parse_xform(xform()) == FormDefinition(form_id="f", version="3", title="Title",
                                                  binary_paths=frozenset(), media_names=())


def test_parse_xform_title_falls_back_to_form_id_when_missing():
    assert parse_xform(xform(title=None)).title == "f"


def test_parse_xform_title_falls_back_to_form_id_when_blank():
    assert parse_xform(xform(title="  ")).title == "f"


def test_parse_xform_title_is_stripped():
    assert parse_xform(xform(title="\n  入户访视 \n")).title == "入户访视"


def test_parse_xform_primary_instance_is_the_one_without_id_even_when_listed_later():
    model_extra = '<instance><data id="primary" version="7"/></instance>'
    xml = xform(data='<root><item/></root>', model_extra=model_extra).replace(
        b"<instance><root>", b'<instance id="choices"><root>')
    definition = parse_xform(xml)
    assert (definition.form_id, definition.version) == ("primary", "7")


def test_parse_xform_ignores_binds_of_other_types():
    binds = ('<bind nodeset="/data/q" type="string"/><bind nodeset="/data/p" type="binary"/>'
             '<bind nodeset="/data/g" type="geopoint"/>')
    assert parse_xform(xform(model_extra=binds)).binary_paths == frozenset({"/data/p"})


def test_parse_xform_reads_secondary_instance_csv_src_as_media():
    extra = '<instance id="households" src="jr://file-csv/households.csv"/>'
    assert parse_xform(xform(model_extra=extra)).media_names == ("households.csv",)


def test_parse_xform_reads_jr_file_and_audio_and_video_references_as_media():
    extra = ('<instance id="people" src="jr://file/people.xml"/>'
             '<itext><translation lang="en"><text id="t">'
             '<value form="audio">jr://audio/hello.mp3</value><value form="video">jr://video/intro.mp4</value>'
             "</text></translation></itext>")
    assert parse_xform(xform(model_extra=extra)).media_names == ("people.xml", "hello.mp3", "intro.mp4")


def test_parse_xform_ignores_non_jr_urls():
    extra = '<instance id="remote" src="https://example.invalid/data.csv"/>'
    assert parse_xform(xform(model_extra=extra)).media_names == ()


@pytest.mark.parametrize("version", ["1", "2026112201", "v1.2-rc_3", "a" * 64])
def test_parse_xform_accepts_valid_versions(version):
    assert parse_xform(xform(data=f'<data id="f" version="{version}"/>')).version == version


def test_parse_xform_missing_version_raises_xform_invalid():
    with pytest.raises(XFormInvalid) as caught:
        parse_xform(xform(data='<data id="f"/>'))
    assert caught.value.code == "400.9"


def test_parse_xform_empty_version_raises_xform_invalid():
    with pytest.raises(XFormInvalid):
        parse_xform(xform(data='<data id="f" version=""/>'))


@pytest.mark.parametrize("version", ["1 0", "1/2", "1:2", "版本1", "1+2", "a" * 65],
                         ids=["space", "slash", "colon", "non_ascii", "plus", "too_long"])
def test_parse_xform_version_with_bad_characters_raises_xform_invalid(version):
    with pytest.raises(XFormInvalid):
        parse_xform(xform(data=f'<data id="f" version="{version}"/>'))


def test_parse_xform_version_with_trailing_newline_raises_xform_invalid():
    with pytest.raises(XFormInvalid):
        parse_xform(xform(data='<data id="f" version="3&#10;"/>'))


def test_parse_xform_form_id_with_trailing_newline_raises_xform_invalid():
    with pytest.raises(XFormInvalid):
        parse_xform(xform(data='<data id="f&#10;" version="3"/>'))


@pytest.mark.parametrize("form_id", ["", "1form", "form id", "form/id", "a" * 101],
                         ids=["empty", "leading_digit", "space", "slash", "too_long"])
def test_parse_xform_bad_form_id_raises_xform_invalid(form_id):
    with pytest.raises(XFormInvalid):
        parse_xform(xform(data=f'<data id="{form_id}" version="3"/>'))


def test_parse_xform_without_model_raises_xform_invalid():
    xml = (b'<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">'
           b"<h:head><h:title>T</h:title></h:head><h:body/></h:html>")
    with pytest.raises(XFormInvalid) as caught:
        parse_xform(xml)
    assert caught.value.detail == "no h:head/model"


def test_parse_xform_without_head_raises_xform_invalid():
    xml = b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:body/></h:html>'
    with pytest.raises(XFormInvalid) as caught:
        parse_xform(xml)
    assert caught.value.detail == "no h:head/model"


def test_parse_xform_model_outside_xforms_namespace_is_not_a_model():
    xml = (b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model><instance>'
           b'<data id="f" version="1"/></instance></model></h:head></h:html>')
    with pytest.raises(XFormInvalid):
        parse_xform(xml)


def test_parse_xform_with_only_secondary_instances_raises_xform_invalid():
    xml = xform().replace(b"<instance>", b'<instance id="choices">')
    with pytest.raises(XFormInvalid) as caught:
        parse_xform(xml)
    assert caught.value.detail == "no primary instance"


def test_parse_xform_with_empty_primary_instance_raises_xform_invalid():
    with pytest.raises(XFormInvalid) as caught:
        parse_xform(xform(data=""))
    assert caught.value.detail == "no primary instance"


def test_parse_xform_refuses_doctype():
    xml = b'<!DOCTYPE h:html [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + xform().split(b"?>", 1)[1]
    with pytest.raises(XmlForbiddenConstruct):
        parse_xform(xml)


def test_parse_xform_refuses_malformed_xml():
    with pytest.raises(XmlMalformed):
        parse_xform(xform()[:-10])


# --- the real questionnaire ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def household_visit_xform() -> bytes:
    return convert(xlsform=str(HOUSEHOLD_XLSFORM), validate=False).xform.encode()


def test_real_xlsform_form_id(household_visit_xform):
    assert parse_xform(household_visit_xform).form_id == "household_visit"


def test_real_xlsform_version_is_the_primary_instance_version(household_visit_xform):
    tree = etree.fromstring(household_visit_xform)
    declared = tree.xpath("/h:html/h:head/xf:model/xf:instance[not(@id)]/*[1]/@version",
                          namespaces={"h": "http://www.w3.org/1999/xhtml", "xf": "http://www.w3.org/2002/xforms"})
    version = parse_xform(household_visit_xform).version
    assert (version, bool(VERSION_PATTERN.match(version))) == (declared[0], True)


def test_real_xlsform_has_no_binary_fields(household_visit_xform):
    assert parse_xform(household_visit_xform).binary_paths == frozenset()


def test_real_xlsform_reads_the_phone_lists(household_visit_xform):
    assert parse_xform(household_visit_xform).media_names == (
        "households.csv", "people.csv", "destinations.csv", "arrivals.csv")
