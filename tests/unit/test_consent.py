"""Consent withdrawn (sync/consent.py): which items and anchors a withdrawal covers, and which raw answers a purge
blanks (and the visit page hides); the names told with a consent refused are never kept or shown."""

from __future__ import annotations

from sync.consent import ItemRef, Scrub, consent_scrub, scrub_submission, withdrawn_anchor, withdrawn_items
from sync.submission import AnswerPaths
from sync.visits import read_visit
from sync.xmlsafe import parse_untrusted
from tests.register_visits import household_visit

HOUSEHOLD, OTHER_HOUSEHOLD, WANG, LI = "h-1", "h-2", "p-wang", "p-li"


def _visit(**answers) -> bytes:
    return household_visit(household=answers.pop("household", HOUSEHOLD), base_version=1,
                           start="2026-11-05T09:00:00.000+08:00", instance_id="uuid:hv-1", **answers)


def _answers(xml: bytes) -> AnswerPaths:
    return AnswerPaths(parse_untrusted(xml))


def test_a_withdrawal_covers_her_guidance_the_households_checks_their_referrals_and_results():
    items = [
        ItemRef("v1#1", "referral", WANG, HOUSEHOLD, None),                  # the antenatal referral
        ItemRef("v1#2", "pregnancy_guidance", WANG, HOUSEHOLD, "v1#1"),
        ItemRef("v1#3", "referral", None, HOUSEHOLD, None),                  # the pre-pregnancy referral
        ItemRef("v1#4", "prepregnancy_check", None, HOUSEHOLD, "v1#3"),
        ItemRef("v1#5", "supply", WANG, HOUSEHOLD, None),                    # not given by consent: stays
        ItemRef("v1#6", "referral", WANG, HOUSEHOLD, None),                  # another referral: stays
        ItemRef("v2#1", "referral_result", WANG, HOUSEHOLD, "v1#1"),         # the antenatal referral's result
        ItemRef("v2#2", "referral_result", WANG, HOUSEHOLD, "v1#6"),         # the other referral's: stays
        ItemRef("v3#1", "pregnancy_guidance", LI, OTHER_HOUSEHOLD, None),    # someone else's
        ItemRef("v3#2", "prepregnancy_check", None, OTHER_HOUSEHOLD, None),  # another household's
    ]
    assert withdrawn_items(items, WANG, HOUSEHOLD) == {"v1#1", "v1#2", "v1#3", "v1#4", "v2#1"}
    # Living elsewhere when she withdrew: the checks of her old household stay (they name a couple, not her).
    assert withdrawn_items(items, WANG, OTHER_HOUSEHOLD) == {"v1#1", "v1#2", "v2#1", "v3#2"}
    assert withdrawn_items(items, "p-nobody", "h-none") == set()


def test_a_withdrawal_covers_her_reported_pregnancy_only():
    assert withdrawn_anchor("pregnancy_reported", WANG, WANG)
    assert not withdrawn_anchor("pregnancy_reported", LI, WANG)
    assert not withdrawn_anchor("birth", WANG, WANG)
    assert not withdrawn_anchor("operation", WANG, WANG)


def test_names_told_with_a_consent_refused_are_blanked_and_only_the_offer_stays():
    xml = _visit(pregnancy=(WANG, "no", None), prepregnancy=("李强、王秀英", "no"))
    scrub = consent_scrub(xml)
    assert scrub == Scrub(blank=("pregnancy/pregnant_person", "prepregnancy/prepregnancy_names"))
    shown = _answers(scrub_submission(xml, scrub))
    assert shown.text("pregnancy/pregnant_person") is None
    assert shown.text("prepregnancy/prepregnancy_names") is None
    assert shown.text("pregnancy/pregnancy_consent") == "no"
    assert shown.text("prepregnancy/prepregnancy_consent") == "no"
    assert shown.text("service_needs") == "pregnancy_reported prepregnancy_check"


def test_nothing_is_blanked_in_a_visit_with_consent_and_no_withdrawal():
    xml = _visit(pregnancy=(WANG, "yes", "yes"), prepregnancy=("李强、王秀英", "yes"))
    assert consent_scrub(xml) == Scrub()
    assert not consent_scrub(xml)
    assert scrub_submission(xml, Scrub()) is xml
    assert consent_scrub(b"<data id='other_form'><meta><instanceID>uuid:x</instanceID></meta></data>") == Scrub()
    assert consent_scrub(b"not xml") == Scrub()


def test_a_withdrawal_blanks_her_pregnancy_and_the_households_check_and_the_needs_that_asked_for_them():
    xml = _visit(pregnancy=(WANG, "yes", "yes"), prepregnancy=("李强、王秀英", "yes"),
                 supplies=[(WANG, "folic_acid", "3", "yes")])
    scrub = consent_scrub(xml, people={WANG}, households={HOUSEHOLD})
    assert scrub == Scrub(
        blank=("pregnancy/pregnant_person", "pregnancy/pregnancy_consent", "pregnancy/antenatal_referral",
               "prepregnancy/prepregnancy_names", "prepregnancy/prepregnancy_consent"),
        codes=(("service_needs", ("pregnancy_reported", "prepregnancy_check")),))
    scrubbed = scrub_submission(xml, scrub)
    shown = _answers(scrubbed)
    for path in scrub.blank:
        assert shown.text(path) is None
    assert shown.text("service_needs") == "supplies"
    assert b"\xe6\x9d\x8e\xe5\xbc\xba" not in scrubbed   # 李强: the couple's names are gone from the bytes
    assert WANG.encode() in scrubbed                      # her folic acid (asked for, not by this consent) stays
    visit = read_visit(scrubbed)                          # read again (a rebuild): nothing of either is recorded
    assert [item.kind for item in visit.services.items] == ["supply"]
    assert visit.anchors == ()
    assert visit.instance_id == "uuid:hv-1"


def test_a_withdrawal_covers_only_her_and_her_household():
    xml = _visit(pregnancy=(WANG, "yes", "no"), prepregnancy=("李强、王秀英", "yes"))
    only_hers = consent_scrub(xml, people={WANG}, households={OTHER_HOUSEHOLD})
    assert only_hers.codes == (("service_needs", ("pregnancy_reported",)),)
    assert "prepregnancy/prepregnancy_names" not in only_hers.blank
    only_the_household = consent_scrub(xml, people={LI}, households={HOUSEHOLD})
    assert only_the_household.codes == (("service_needs", ("prepregnancy_check",)),)
    assert "pregnancy/pregnant_person" not in only_the_household.blank
    assert consent_scrub(xml, people={LI}, households={OTHER_HOUSEHOLD}) == Scrub()


def test_scrubbing_twice_changes_nothing_more():
    xml = _visit(pregnancy=(WANG, "yes", "yes"))
    once = scrub_submission(xml, consent_scrub(xml, people={WANG}))
    assert consent_scrub(once, people={WANG}) == Scrub()
    assert scrub_submission(once, consent_scrub(xml, people={WANG})) == once
