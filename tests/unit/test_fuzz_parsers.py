"""Fuzz targets (hypothesis): the submission parser and the merge planner take any input and either answer or raise
a TaizhangError, never another exception, and the planner answers the same way every time.

The default example counts keep the suite fast. For a long session raise them with TAIZHANG_FUZZ_EXAMPLES, e.g.

    TAIZHANG_FUZZ_EXAMPLES=20000 python -m pytest tests/unit/test_fuzz_parsers.py -q -p no:cacheprovider

(hypothesis keeps the failing examples it finds in .hypothesis/ and tries them first next time).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from sync.errors import TaizhangError
from sync.merge import (
    DecisionPoint,
    SubmissionVersion,
    VisitRef,
    effective_versions,
    fold_record,
    replay_order,
    replay_record,
)
from sync.submission import SubmissionEnvelope, attachment_names, parse_submission
from sync.visits import PERSON_FIELDS, LifeEvent, PersonObservation, Visit, read_visit
from tests.collect import visit_xml
from tests.register_visits import Member, household_visit

settings.register_profile("taizhang-fuzz", max_examples=int(os.environ.get("TAIZHANG_FUZZ_EXAMPLES", "60")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings.get_profile("taizhang-fuzz")

XML_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml"
HOUSEHOLD = "44444444-0000-4000-8000-000000000001"
PEOPLE = [f"55555555-0000-4000-8000-00000000000{index}" for index in range(3)]
SEEDS = [visit_xml(photo="photo.jpg", deprecated_id="uuid:original"),
         household_visit(household=HOUSEHOLD, new=("001", "1号"), start="2026-11-01T09:00:00.000+08:00",
                         members=[Member("王秀英", "female", "1975-05-06", uuid=PEOPLE[0])], postpartum=(PEOPLE[0],
                                                                                                       "2026-10-01")),
         household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-02T09:00:00.000+08:00",
                         updates=[dict(person_uuid=PEOPLE[0], base_version=1, change="details_corrected",
                                       phone_now="13800000001", name_corrected="王秀瑛")],
                         split_from=HOUSEHOLD, split_members={PEOPLE[1]: 2}, deprecated_id="uuid:original"),
         *(path.read_bytes() for path in sorted(XML_FIXTURES.glob("*.xml")) if not path.name.startswith("xform"))]

# Pieces of XML that hostile or broken senders put in documents.
SNIPPETS = [b'<!DOCTYPE data [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;", b"&amp;", b"&#0;", b"&#x10FFFF;",
            b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?pi x?>", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"<meta>",
            b"</meta>", b"<instanceID>", b"</instanceID>", b"<deprecatedID>uuid:x</deprecatedID>", b'id="', b"\"'",
            b"<", b">", b"/>", b'xmlns="urn:x"', b'xmlns:a="', b"<a:b>", b'<?xml version="1.0" encoding="UTF-16"?>']


def parse_or_refuse(xml: bytes) -> SubmissionEnvelope | None:
    """parse_submission's only ways out: an envelope, or a TaizhangError."""
    try:
        envelope = parse_submission(xml)
    except TaizhangError:
        return None
    assert envelope.form_id and envelope.instance_id
    assert all(len(value) <= 255 for value in (envelope.form_id, envelope.version, envelope.instance_id,
                                               envelope.deprecated_id or ""))
    for identifier in (envelope.instance_id, envelope.deprecated_id or "uuid:x"):  # one URL path segment
        assert "/" not in identifier and identifier not in (".", "..") and not any(ch.isspace() for ch in identifier)
    return envelope


@st.composite
def mutated(draw) -> bytes:
    """A real submission with a few byte-level edits: slices replaced, deleted, repeated, snippets inserted."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 64)))
        action = draw(st.sampled_from(["replace", "delete", "repeat", "snippet", "byte"]))
        if action == "replace":
            data[start:end] = draw(st.binary(max_size=16))
        elif action == "delete":
            del data[start:end]
        elif action == "repeat":
            data[start:start] = data[start:end] * draw(st.integers(2, 5))
        elif action == "snippet":
            data[start:start] = draw(st.sampled_from(SNIPPETS))
        elif start < len(data):
            data[start] = draw(st.integers(0, 255))
    return bytes(data)


NAMES = st.sampled_from(["data", "meta", "instanceID", "deprecatedID", "photo", "head_name", "x", "a.b", "_1"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40).filter(
    lambda text: all(ch in "\t\n\r" or ord(ch) >= 0x20 for ch in text) and "\ufffe" not in text
    and "\uffff" not in text)


@st.composite
def element(draw, depth: int = 0):
    """A well-formed element tree of submission-like names, attributes and texts."""
    node = etree.Element(draw(NAMES))
    for name in draw(st.lists(st.sampled_from(["id", "version", "instanceID", "x"]), max_size=3, unique=True)):
        node.set(name, draw(TEXT | st.text("ab", min_size=250, max_size=300)))
    node.text = draw(st.none() | TEXT)
    if depth < 4:
        node.extend(draw(st.lists(element(depth + 1), max_size=3)))
    return node


@FUZZ
@given(st.binary(max_size=4096))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"<data/>")
@example(b'<data id="f"><meta><instanceID>uuid:1</instanceID></meta></data>')
@example(b'<data id="f"><meta><instanceID>uuid:1/../2</instanceID></meta></data>')
@example(b'<data id="f"><meta><instanceID>uuid:1</instanceID><deprecatedID>a b</deprecatedID></meta></data>')
def test_parse_submission_on_arbitrary_bytes(data):
    parse_or_refuse(data)


@FUZZ
@given(mutated())
def test_parse_submission_on_mutated_submissions(xml):
    envelope = parse_or_refuse(xml)
    if envelope is not None:
        try:
            attachment_names(envelope.root, frozenset({"/data/photo"}))
        except TaizhangError:
            pass


@FUZZ
@given(element())
def test_parse_submission_on_generated_documents(root):
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    envelope = parse_or_refuse(xml)
    if root.get("id", "").strip() and envelope is not None:
        assert envelope.form_id == root.get("id").strip()


# ---- read_visit and the merge planner --------------------------------------------------------------------------

ODD_VALUES = st.sampled_from([
    "", " ", "-1", "0", "1", "2", "9" * 30, "1" * 5000, "1.5", "1e3", "١٢", "二", "2026-11-01", "2026-13-45",
    "2026-02-30", "0000-00-00", "20261101", "2026-11-01T09:00:00", "2026-11-01T09:00:00.000+08:00",
    "2026-11-01T09:00:00Z", "2026-11-01T25:00:00+08:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00",
    "10000-01-01", "9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00", "99999999999999999999", "-" + "9" * 20,
    "9" * 400, "died", "married", "changed_household", "details_corrected", "no_such_change", "completed", "yes", "new",
    PEOPLE[0], PEOPLE[1], HOUSEHOLD, "王秀英", "\u202e", "a" * 300]) | TEXT


@st.composite
def visit_with_odd_values(draw) -> bytes:
    """A register form (household visit or follow-up) with some field values replaced by odd ones."""
    seeds = [seed for seed in SEEDS if b'id="household_visit"' in seed or b'id="followup"' in seed]
    root = etree.fromstring(draw(st.sampled_from(seeds)))
    leaves = [node for node in root.iter() if len(node) == 0 and node.getparent() is not None
              and etree.QName(node).localname not in ("instanceID", "deprecatedID")]
    for node in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=6)):
        node.text = draw(ODD_VALUES)
    groups = [node for node in root if len(node) and etree.QName(node).localname != "meta"]
    if groups and draw(st.booleans()):  # a repeated group twice, or not at all
        group = draw(st.sampled_from(groups))
        if draw(st.booleans()):
            group.addnext(etree.fromstring(etree.tostring(group)))
        else:
            root.remove(group)
    root.find("{*}meta/{*}instanceID").text = f"uuid:{draw(st.uuids())}"
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def read_or_refuse(xml: bytes) -> Visit | None:
    try:
        return read_visit(xml)
    except TaizhangError:
        return None


def replay(entries: list[tuple[PersonObservation, VisitRef]]):
    """The planner's answer, or the TaizhangError it refused with."""
    try:
        return replay_record(entries)
    except TaizhangError as error:
        return type(error), error.code


@FUZZ
@given(st.lists(visit_with_odd_values(), min_size=1, max_size=4))
def test_read_visit_and_replay_on_odd_values(documents):
    """Odd values reach the planner only as readable visits; their observations replay the same way every time."""
    visits = [visit for visit in map(read_or_refuse, documents) if visit is not None]
    for visit in visits:
        assert visit.visited_at is None or visit.visited_at.utcoffset() is not None  # an instant, comparable
        if visit.visited_at is not None:
            visit.visited_at.astimezone(dt.UTC)  # stored as UTC: no offset carries it out of the calendar
    entries = [(observation, VisitRef(visit.instance_id, visit.visited_at))
               for visit in visits for observation in visit.people]
    for person in {observation.person_uuid for observation, _ref in entries}:
        own = [(observation, ref) for observation, ref in entries if observation.person_uuid == person]
        assert replay(own) == replay(own)


ZONES = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-14), max_value=dt.timedelta(hours=14)))
VISIT_REFS = st.builds(VisitRef, instance_id=st.sampled_from([f"uuid:v{index}" for index in range(6)]),
                       visited_at=st.none() | st.datetimes(timezones=ZONES))
EVENTS = st.none() | st.builds(LifeEvent, kind=TEXT, date=st.none() | st.dates(), place=st.none() | TEXT,
                               spouse_name=st.none() | TEXT)
OBSERVATIONS = st.builds(
    PersonObservation, person_uuid=st.just(PEOPLE[0]),
    base_version=st.none() | st.integers(-3, 12) | st.integers(-(2 ** 63), 2 ** 63),
    fields=st.dictionaries(st.sampled_from(PERSON_FIELDS + ("group", "", "名字")), ODD_VALUES, max_size=5),
    event=EVENTS)


@FUZZ
@given(st.lists(st.tuples(OBSERVATIONS, VISIT_REFS), max_size=8), st.lists(st.tuples(OBSERVATIONS, VISIT_REFS),
                                                                            max_size=5))
def test_replay_and_fold_on_generated_observations(kept_entries, duplicate_entries):
    """Any observations (odd values, versions the record never had, times in any zone) replay and fold without
    an error outside the hierarchy, and the same way every time."""
    kept, duplicate = replay(kept_entries), replay(duplicate_entries)
    assert kept == replay(kept_entries)
    if isinstance(kept[0], type) or isinstance(duplicate[0], type) or kept[0] is None or duplicate[0] is None:
        return
    try:
        folded = fold_record(kept[0], duplicate[0])
    except TaizhangError:
        return
    assert folded == fold_record(kept[0], duplicate[0])


SUBMISSION_IDS = st.sampled_from([f"uuid:s{index}" for index in range(6)])


@FUZZ
@given(st.lists(st.builds(SubmissionVersion, instance_id=SUBMISSION_IDS, deprecated_id=st.none() | SUBMISSION_IDS,
                          arrival=st.integers(-5, 50)), max_size=10),
       st.lists(st.builds(DecisionPoint, id=st.integers(1, 20), after=st.integers(-5, 50)), max_size=5))
def test_edit_chains_and_replay_order_on_any_links(versions, decisions):
    """Edits naming themselves, each other in a cycle, or missing originals: one version per chain, in a
    deterministic order."""
    try:
        effective = effective_versions(versions)
        order = replay_order(versions, decisions)
    except TaizhangError:
        return
    assert effective == effective_versions(versions) and order == replay_order(versions, decisions)
    assume(versions)
    assert set(effective) <= set(versions)
    assert [item for item in order if isinstance(item, SubmissionVersion)] == effective
    assert sorted((d.id, d.after) for d in order if isinstance(d, DecisionPoint)) == sorted(
        (d.id, d.after) for d in decisions)


def test_a_phone_time_without_its_offset_still_orders_against_the_others():
    """Found by the fuzzer: `<start>` without a UTC offset made the planner compare naive and aware times."""
    def update(phone: str, start: str) -> bytes:
        return household_visit(household=HOUSEHOLD, base_version=1, start=start, updates=[dict(
            person_uuid=PEOPLE[0], base_version=1, change="details_corrected", phone_now=phone)])

    registration = household_visit(household=HOUSEHOLD, new=("001", "1号"), start="2026-11-01T09:00:00.000+08:00",
                                   members=[Member("王秀英", "female", "1975-05-06", uuid=PEOPLE[0])])
    visits = [read_visit(xml) for xml in (registration, update("13800000002", "2026-11-02T09:00:00.000+08:00"),
                                          update("13800000003", "2026-11-03T09:00:00"))]
    assert visits[2].visited_at == dt.datetime(2026, 11, 3, 9, tzinfo=dt.timezone.utc)
    state, conflicts = replay_record([(visit.people[0], VisitRef(visit.instance_id, visit.visited_at))
                                      for visit in visits])
    assert state.values()["phone"] == "13800000003"
    assert [(c.value, c.other_value) for c in conflicts] == [("13800000003", "13800000002")]
