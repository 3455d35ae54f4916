"""Consent withdrawn: what a withdrawal takes out of the register and which raw answers it covers (pure).

The answers covered are blanked by a purge and hidden on the visit page.

A person may withdraw the consent under which a sensitive service was recorded (sync.privacy.CONSENT_ITEM_KINDS,
CONSENT_ANCHOR_KINDS). The withdrawal (the decision kind withdraw_consent, sync.decisions) covers what was recorded
before it:

* her antenatal guidance items (`pregnancy_guidance` about her), and her reported pregnancy (`pregnancy_reported`
  anchors: the follow-up of a pregnancy's outcome is no longer due);
* the free pre-pregnancy checks told at visits to the household she lived in when the withdrawal was recorded
  (`prepregnancy_check`): a check names the couple in free text, not by record, so it is the household's — a
  check too many is hidden rather than one withdrawn shown;
* the referrals those items made (`refers_to`), and the results recorded of those referrals.

A later visit recording the service with a new consent is recorded again. In a raw submission the withdrawal covers
the answers of the pregnancy group about her and of the household's pre-pregnancy group, and the service needs'
codes that asked for them (`consent_scrub`); names told with a consent refused are never shown either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from sync.errors import TaizhangError
from sync.privacy import CONSENT_ANCHOR_KINDS, CONSENT_ITEM_KINDS
from sync.services import layout_for
from sync.submission import AnswerPaths
from sync.visits import read_visit
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["ItemRef", "BY_PERSON", "BY_HOUSEHOLD", "withdrawn_items", "withdrawn_anchor", "Scrub", "consent_scrub",
           "scrub_submission", "COVERED_GROUPS"]

BY_PERSON = frozenset({"pregnancy_guidance"})
"""Consent items that are about one person (`person_uuid`): covered by her withdrawal."""
BY_HOUSEHOLD = frozenset({"prepregnancy_check"})
"""Consent items of a household (a couple named in free text): covered by the withdrawal of a member."""
assert BY_PERSON | BY_HOUSEHOLD == frozenset(CONSENT_ITEM_KINDS)


class ItemRef(NamedTuple):
    """A service item as a withdrawal judges it."""

    key: str                    # sync.services.item_key
    kind: str
    person_uuid: str | None
    household_uuid: str | None
    refers_to: str | None


def withdrawn_items(items: Iterable[ItemRef], person_uuid: str, household_uuid: str | None) -> set[str]:
    """The keys of the items a withdrawal by `person_uuid` (living in `household_uuid` when it was recorded) covers
    among `items`: their consent items, the referrals those made and the results of those referrals."""
    items = list(items)
    covered = {item.key for item in items
               if item.kind in BY_PERSON and item.person_uuid == person_uuid
               or item.kind in BY_HOUSEHOLD and household_uuid is not None and item.household_uuid == household_uuid}
    referrals = {item.refers_to for item in items if item.key in covered and item.refers_to}
    covered |= {item.key for item in items if item.key in referrals}
    covered |= {item.key for item in items if item.kind == "referral_result" and item.refers_to in referrals}
    return covered


def withdrawn_anchor(kind: str, anchor_person: str, person_uuid: str) -> bool:
    """Whether an anchor (a schedule's event) of `anchor_person` is covered by `person_uuid`'s withdrawal."""
    return kind in CONSENT_ANCHOR_KINDS and anchor_person == person_uuid


# ---- the raw submission -----------------------------------------------------------------------------------------

COVERED_GROUPS = {
    "pregnancy_reported": ("pregnant_person", "pregnant_person_name", "pregnancy_consent", "antenatal_referral"),
    "prepregnancy_check": ("prepregnancy_names", "prepregnancy_consent"),
}
"""The household visit's answers (logical names of sync.services.FIELD_LAYOUTS) a withdrawal blanks, by the service
need that asked for them."""
_NAMES_WITHOUT_CONSENT = {"pregnancy_consent": ("pregnant_person", "pregnant_person_name"),
                          "prepregnancy_consent": ("prepregnancy_names",)}
"""Who was told, blanked when the consent answer is not yes (only the fact that it was offered and declined stays)."""


@dataclass(frozen=True, slots=True)
class Scrub:
    """What to take out of one raw submission: answers blanked (element paths without the root, as
    sync.submission.AnswerPaths reads them) and codes taken out of a multiple choice's answer."""

    blank: tuple[str, ...] = ()
    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()    # (path, codes)

    def __bool__(self) -> bool:
        return bool(self.blank or self.codes)


def consent_scrub(xml: bytes, *, people: Collection[str] = (), households: Collection[str] = ()) -> Scrub:
    """What a household visit's raw answers hold that no one may see: the names told with a consent refused, and
    what withdrawals cover — the pregnancy group when the woman it names is one of `people` (the uuids of the
    people who withdrew, with those merged into them), the pre-pregnancy group when the visit's household is one
    of `households` (theirs when they withdrew). An empty Scrub: nothing to take out (or not a household visit)."""
    try:
        visit = read_visit(xml)
    except TaizhangError:
        return Scrub()
    if visit.form_id != "household_visit" or not visit.recorded:
        return Scrub()
    paths = layout_for(visit.form_id, visit.form_version)
    answers = AnswerPaths(parse_untrusted(xml))
    blank: list[str] = []
    needs: list[str] = []
    for consent, names in _NAMES_WITHOUT_CONSENT.items():
        if paths.get(consent) and answers.text(paths[consent]) != "yes":
            blank += [paths[name] for name in names if paths.get(name)]
    kinds = {item.kind: item for item in visit.services.items}
    pregnancy = kinds.get("pregnancy_guidance")
    if pregnancy is not None and pregnancy.person_uuid in people:
        needs.append("pregnancy_reported")
    prepregnancy = kinds.get("prepregnancy_check")
    if (prepregnancy is not None and visit.household is not None
            and visit.household.household_uuid in households):
        needs.append("prepregnancy_check")
    for need in needs:
        blank += [paths[name] for name in COVERED_GROUPS[need] if paths.get(name)]
    blank = [path for path in dict.fromkeys(blank) if answers.text(path) is not None]
    codes = ((paths["service_needs"], tuple(needs)),) if needs and paths.get("service_needs") else ()
    return Scrub(tuple(blank), codes)


def scrub_submission(xml: bytes, scrub: Scrub) -> bytes:
    """The submission with `scrub`'s answers blanked and codes taken out (every other byte of meaning as it was;
    the XML declaration and namespaces kept). Paths that are not there are skipped."""
    if not scrub:
        return xml
    root = parse_untrusted(xml)
    elements = _elements(root)
    for path in scrub.blank:
        for element in elements.get(path, ()):
            for node in element.iter():
                node.text = None
    for path, codes in scrub.codes:
        for element in elements.get(path, ()):
            kept = [code for code in (element.text or "").split() if code not in codes]
            element.text = " ".join(kept) or None
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _elements(root) -> dict[str, list]:
    """Every element under the root by its path of local names (the root left out)."""
    found: dict[str, list] = {}
    pending = [(root, "")]
    for element, prefix in pending:
        for child in element:
            path = prefix + local_name(child.tag)
            found.setdefault(path, []).append(child)
            pending.append((child, path + "/"))
    return found
