"""Read the service record of a visit (services, supplies, referrals, checks, guidance, support) by its form version's field names (pure).

A visit's service record is what the collector did for the household besides the register changes: the services
given, the supplies handed out on request (the 药具发放 register), the referrals made and their later results, the
free pre-pregnancy check offered, antenatal guidance where the woman chose to tell, and the support the household
asked for. Each is a `ServiceItem` of one of the kinds in `ITEM_KINDS`; the visit's own closing answers (agreed next
visit, notes, GPS point) are a `ServiceRecord`'s other fields.

Every form version is read by its own field names (`FIELD_LAYOUTS`): a visit filled on an older version of a form
keeps being read the way that version wrote it. Odd values (a quantity that is not a number, negative or absurd,
an unknown supply item, a referral to nowhere) are kept as written and flagged (`ServiceItem.problems`), never
dropped; the cadre corrects them by a decision (sync.decisions, the service kinds).

Nothing here is a compliance status: supplies are only what a person asked for; a referral is a service offered;
a support request is a request, never judged (its outcome is what the town office records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from sync.errors import DecisionNotPossible
from sync.submission import AnswerPaths

__all__ = ["ServiceItem", "ServiceRecord", "Location", "ItemKind", "ITEM_KINDS", "FIELD_LAYOUTS", "SUPPLY_ITEMS",
           "REFERRAL_RESULTS", "SUPPORT_OUTCOMES", "PROBLEMS", "MAX_QUANTITY", "read_service_record", "item_key",
           "parse_item_key", "layout_for", "parse_location", "check_quantity", "item_problems", "corrected_item",
           "CORRECTABLE", "COLUMN_LIMITS", "SUPPORT_FIELDS", "ItemChange", "ItemState", "item_state", "check_support_value", "check_correction", "REFERRAL_PURPOSES", "CLOSING_RESULTS", "SUPPORT_KINDS", "BENEFIT_KINDS"]

MAX_QUANTITY = 1000
"""A quantity above this is absurd (the forms allow 1–100): kept, and flagged for the cadre."""

MAX_TEXT = 200
"""The longest value a decision about a service item records (a correction, a note)."""

SUPPLY_ITEMS = ("folic_acid", "condoms", "oral_pills", "emergency", "topical", "other")
"""The supply items of the forms' `supply_item` list (every version so far)."""

REFERRAL_PURPOSES = ("antenatal_guidance", "prepregnancy_check", "health_centre", "other")
REFERRAL_RESULTS = ("attended", "not_attended", "declined")
"""What became of a referral: set by a follow-up of the referral or by the cadre. None: still open."""
CLOSING_RESULTS = frozenset({"attended", "declined"})
"""Results that close a referral (one not attended yet stays open, and due)."""
SUPPORT_KINDS = ("family_benefit", "elderly_support", "hardship_support", "other")
BENEFIT_KINDS = ("reward", "special")
SUPPORT_OUTCOMES = ("granted", "not_granted", "referred_on", "withdrawn")
"""What the town office recorded about a support request (it records the decision; the system never judges)."""

COLUMN_LIMITS = {"person_uuid": 64, "person_name": 100, "code": 40, "quantity_text": 100, "place": 200, "detail": 40,
                 "refers_to": 300}
"""The longest value each bounded column of an item holds (the `service_item` table is made with these)."""
MAX_STORED_QUANTITY = 2 ** 63 - 1
"""The largest quantity the column holds: a larger one is kept as written text."""

PROBLEMS = {
    "quantity_not_a_number": ("数量不是数字", "The quantity is not a number"),
    "quantity_not_positive": ("数量不大于零", "The quantity is zero or negative"),
    "quantity_absurd": (f"数量超过{MAX_QUANTITY}", f"The quantity is over {MAX_QUANTITY}"),
    "unknown_item": ("药具品种不在清单中", "The supply item is not on the list"),
    "referral_nowhere": ("没有写转介到哪里", "The referral does not say where to"),
    "referral_unknown": ("没有找到被跟进的转介", "The referral followed up is not known"),
    "too_long": ("有的内容太长，只保存了开头（原文在原始表单中）",
                 "A value was too long: its beginning is kept (the whole is in the raw form)"),
}
"""Odd values a visit may carry, by code: (zh, en). The item is kept and shown flagged for correction."""


@dataclass(frozen=True, slots=True)
class ItemKind:
    """A kind of service item: what it is called and what its columns mean."""

    name: str
    label_zh: str
    label_en: str
    choice_list: str | None     # the forms' choice list its `code` comes from (labels are the form version's own)
    person_required: bool = False


ITEM_KINDS: dict[str, ItemKind] = {kind.name: kind for kind in (
    ItemKind("service", "提供的服务", "Service given", "services"),
    ItemKind("supply", "药具发放（应本人要求）", "Supplies given on request", "supply_item"),
    ItemKind("referral", "转介", "Referral", "referral_purpose"),
    ItemKind("referral_result", "转介结果", "Result of a referral", "referral_result"),
    ItemKind("prepregnancy_check", "免费孕前优生健康检查", "Free pre-pregnancy health check", None),
    ItemKind("pregnancy_guidance", "孕期保健指导（本人自愿告知）", "Antenatal guidance (she chose to tell)", None),
    ItemKind("support_request", "扶助与关爱需求", "Support requested", "service_needs"),
)}
"""Every kind of service item by its stored name."""


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """One thing a visit did or asked for. Which columns a kind uses:

    * service: person (None: the household), code (the form's `services` code), text (the "other" service)
    * supply: person, code (item), quantity, given (False: requested, not handed out yet)
    * referral: person, code (purpose), place (to where), text (why)
    * referral_result: person, code (attended, not_attended, declined), refers_to (the referral's key)
    * prepregnancy_check: text (who was told: the couple's names; only with their consent), consent, refers_to (the
      referral made with it); declined: only the fact that it was offered
    * pregnancy_guidance: person, refers_to (the antenatal referral, if she wanted one); only with her consent
    * support_request: person (may be None), code (family_benefit, elderly_support, hardship_support, other),
      detail (a family benefit's scheme: reward or special), text (what help, for whom)
    """

    kind: str
    seq: int                               # its place in the visit (1, 2, …): the key is `<instanceID>#<seq>`
    person_uuid: str | None = None
    person_name: str | None = None         # named, not picked (a household being registered)
    code: str | None = None
    quantity: int | None = None
    quantity_text: str | None = None       # the quantity as written, when it is not a whole number
    given: bool | None = None
    place: str | None = None
    text: str | None = None
    detail: str | None = None
    consent: bool | None = None
    refers_to: str | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Location:
    """A GPS point as Collect records it: WGS-84 decimal degrees, altitude and accuracy in metres."""

    latitude: float
    longitude: float
    altitude: float | None = None
    accuracy: float | None = None


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    items: tuple[ServiceItem, ...] = ()
    next_visit: dt.date | None = None      # the next visit agreed with the household
    notes: str | None = None
    location: Location | None = None


# ---- field layouts by form version -------------------------------------------------------------------------------

FIELD_LAYOUTS: dict[str, tuple[tuple[str, Mapping[str, str | None]], ...]] = {
    "household_visit": (
        ("0", {
            "recording": "recording", "mode": "household_choice/mode", "service_needs": "service_needs",
            "services_given": None, "services_other": None,
            "supply_person": None, "supply_person_name": None,
            "pregnant_person": "pregnancy/pregnant_person", "pregnant_person_name": "pregnancy/pregnant_person_name",
            "pregnancy_consent": "pregnancy/pregnancy_consent", "antenatal_referral": "pregnancy/antenatal_referral",
            "prepregnancy_names": "prepregnancy/prepregnancy_names",
            "prepregnancy_consent": "prepregnancy/prepregnancy_consent",
            "support_details": "support/support_details", "benefit_kind": None,
            "support_person": None, "support_person_name": None,
            "needs_text": "needs_text", "next_visit": "closing/next_visit", "notes": "closing/notes",
            "location": "closing/location",
        }),
        ("2026120501", {
            "services_given": "services_given_group/services_given",
            "services_other": "services_given_group/services_other",
            "supply_person": "supply/supply_person", "supply_person_name": "supply/supply_person_name",
            "benefit_kind": "support/benefit_kind", "support_person": "support/support_person",
            "support_person_name": "support/support_person_name",
        }),
    ),
    "followup": (
        ("0", {
            "outcome": "visit/outcome", "followup_type": "visit/followup_type",
            "services_given": "services/services_given", "services_other": "services/services_other",
            "referral": "services/referral", "referral_purpose": None, "referral_place": "services/referral_to",
            "referral_reason": "services/referral_reason", "referral_item": None, "referral_result": None,
            "next_visit": "closing/next_date", "notes": "closing/notes", "location": None,
        }),
        ("2026120501", {
            "referral_purpose": "services/referral_purpose", "referral_place": "services/referral_place",
            "referral_item": "referral_item", "referral_result": "referral_followup/referral_result",
        }),
    ),
}
"""Where each answer the reader needs lies in each form version (None: that version does not ask it). A layout
lists what changed since the one before it; versions are compared as numbers (yyyymmddNN)."""


def layout_for(form_id: str, version: str) -> dict[str, str | None]:
    """The field paths of a form version: every layout up to the version, later ones overriding earlier ones."""
    paths: dict[str, str | None] = {}
    number = _version_number(version)
    for since, changes in FIELD_LAYOUTS.get(form_id, ()):
        if _version_number(since) <= number:
            paths.update(changes)
    return paths


def _version_number(version: str) -> int:
    try:
        return int(version)
    except (TypeError, ValueError):
        return 0


class _Fields:
    """A submission's answers read by the logical names of the form version's layout."""

    def __init__(self, answers: AnswerPaths, paths: Mapping[str, str | None]) -> None:
        self.answers, self.paths = answers, paths

    def text(self, name: str, within: AnswerPaths | None = None) -> str | None:
        path = self.paths.get(name)
        return None if path is None else (within or self.answers).text(path)

    def codes(self, name: str) -> tuple[str, ...]:
        return tuple((self.text(name) or "").split())


# ---- reading -----------------------------------------------------------------------------------------------------

def item_key(instance_id: str, seq: int) -> str:
    """A service item's stable key: the visit's instanceID and the item's place in it."""
    return f"{instance_id}#{seq}"


def parse_item_key(key: str) -> tuple[str, int] | None:
    """(instanceID, seq) of a key, or None when it is not one."""
    instance_id, _, seq = (key or "").rpartition("#")
    return (instance_id, int(seq)) if instance_id and seq.isdigit() and int(seq) > 0 else None


def read_service_record(answers: AnswerPaths, *, form_id: str, version: str, instance_id: str,
                        visit_date: dt.date | None, recorded: bool, person_uuid: str | None = None,
                        household_picked: bool = True) -> ServiceRecord:
    """The service record of a household visit or a follow-up. `recorded`: the visit was completed (and, for a
    household visit, the household consented); otherwise only its closing answers are kept. `person_uuid`: the
    person a follow-up is about."""
    fields = _Fields(answers, layout_for(form_id, version))
    items: list[ServiceItem] = []
    if recorded:
        reader = _household_visit_items if form_id == "household_visit" else _followup_items
        reader(fields, _Items(items, instance_id), person_uuid)
    return ServiceRecord(items=tuple(items), next_visit=_date(fields.text("next_visit")),
                         notes=fields.text("notes"), location=parse_location(fields.text("location")))


class _Items:
    """Numbers items as they are added (seq 1, 2, …) and knows their keys."""

    def __init__(self, items: list[ServiceItem], instance_id: str) -> None:
        self.items, self.instance_id = items, instance_id

    def add(self, kind: str, **values) -> str:
        seq = len(self.items) + 1
        item, cut = _bounded(ServiceItem(kind=kind, seq=seq, **values))
        self.items.append(replace(item, problems=item_problems(item) + (("too_long",) if cut else ())))
        return item_key(self.instance_id, seq)


def _bounded(item: ServiceItem) -> tuple[ServiceItem, bool]:
    """The item with every value cut to what its column holds (a phone's text is never refused; the raw form keeps
    the whole of it), and whether anything was cut."""
    cut = {name: getattr(item, name)[:limit] for name, limit in COLUMN_LIMITS.items()
           if getattr(item, name) is not None and len(getattr(item, name)) > limit}
    return (replace(item, **cut), True) if cut else (item, False)


def _household_visit_items(fields: _Fields, items: _Items, person_uuid: str | None) -> None:
    needs = fields.codes("service_needs")

    def person(picked: str, named: str, within: AnswerPaths | None = None) -> dict:
        return {"person_uuid": fields.text(picked, within), "person_name": fields.text(named, within)}

    _services(fields, items, None)
    for supply in fields.answers.all("supplies"):
        _supply(items, supply, given=supply.text("supply/given") != "no",
                **person("supply_person", "supply_person_name", supply))
    if "pregnancy_reported" in needs and fields.text("pregnancy_consent") == "yes":
        who = person("pregnant_person", "pregnant_person_name")
        referral = None
        if fields.text("antenatal_referral") == "yes":
            referral = items.add("referral", code="antenatal_guidance", **who)
        items.add("pregnancy_guidance", refers_to=referral, **who)
    if "prepregnancy_check" in needs:
        # The couple's names only with their consent to the referral; declined: only that it was offered.
        consent = fields.text("prepregnancy_consent") == "yes"
        referral = items.add("referral", code="prepregnancy_check") if consent else None
        items.add("prepregnancy_check", text=fields.text("prepregnancy_names") if consent else None, consent=consent,
                  refers_to=referral)
    support_for = person("support_person", "support_person_name")
    for need in ("family_benefit", "elderly_support", "hardship_support"):
        if need in needs:
            items.add("support_request", code=need, text=fields.text("support_details"),
                      detail=fields.text("benefit_kind") if need == "family_benefit" else None, **support_for)
    if "other" in needs:
        items.add("support_request", code="other", text=fields.text("needs_text"), **support_for)


def _followup_items(fields: _Fields, items: _Items, person_uuid: str | None) -> None:
    _services(fields, items, person_uuid)
    if fields.text("referral") == "yes":
        items.add("referral", person_uuid=person_uuid, code=fields.text("referral_purpose"),
                  place=fields.text("referral_place"), text=fields.text("referral_reason"))
    for supply in fields.answers.all("supplies"):
        _supply(items, supply, given=True, person_uuid=person_uuid)
    result = fields.text("referral_result")
    if fields.text("followup_type") == "referral" and result:
        items.add("referral_result", person_uuid=person_uuid, code=result, refers_to=fields.text("referral_item"))


def _services(fields: _Fields, items: _Items, person_uuid: str | None) -> None:
    for code in fields.codes("services_given"):
        if code == "supplies":
            continue   # the supplies themselves are items of their own
        items.add("service", person_uuid=person_uuid, code=code,
                  text=fields.text("services_other") if code == "other" else None)


def _supply(items: _Items, supply: AnswerPaths, *, given: bool, **person) -> None:
    quantity, quantity_text, _ = check_quantity(supply.text("supply/quantity"))
    items.add("supply", code=supply.text("supply/item"), quantity=quantity, quantity_text=quantity_text,
              given=given, **person)


def check_quantity(text: str | None) -> tuple[int | None, str | None, tuple[str, ...]]:
    """A quantity as (whole number or None, the text when it is not one, problems)."""
    try:
        quantity = int((text or "").strip())
    except ValueError:
        return None, text, ("quantity_not_a_number",)
    if abs(quantity) > MAX_STORED_QUANTITY:
        return None, text, ("quantity_absurd",)
    if quantity <= 0:
        return quantity, None, ("quantity_not_positive",)
    if quantity > MAX_QUANTITY:
        return quantity, None, ("quantity_absurd",)
    return quantity, None, ()


def parse_location(text: str | None) -> Location | None:
    """A geopoint answer ("lat lon [alt [accuracy]]"); None when empty or not a point on the earth."""
    parts = (text or "").split()
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    if len(numbers) < 2 or not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        return None
    altitude, accuracy = (numbers[2:4] + [None, None])[:2]
    return Location(numbers[0], numbers[1], altitude, accuracy)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


# ---- odd values and corrections ----------------------------------------------------------------------------------

CORRECTABLE = {"supply": ("code", "quantity", "given"), "service": ("code", "text"),
               "referral": ("code", "place", "text"), "support_request": ("code", "detail", "text"),
               "prepregnancy_check": ("text",)}
"""The columns of each kind of item a cadre may correct on the web (a correction is a decision: sync.decisions)."""


def item_problems(item: ServiceItem) -> tuple[str, ...]:
    """The odd values of an item as it stands (codes of PROBLEMS)."""
    problems: tuple[str, ...] = ()
    if item.kind == "supply":
        problems = check_quantity(item.quantity_text if item.quantity is None else str(item.quantity))[2]
        if item.code not in SUPPLY_ITEMS:
            problems += ("unknown_item",)
    elif item.kind == "referral" and not item.place and item.code not in _REFERRALS_WITH_A_KNOWN_PLACE:
        problems = ("referral_nowhere",)
    elif item.kind == "referral_result" and not parse_item_key(item.refers_to or ""):
        problems = ("referral_unknown",)
    return problems


SUPPORT_FIELDS = ("outcome", "decided_on", "paid_on", "amount", "note")
"""What the town office records about a support request: its outcome, the day it was decided, the payment's day and
amount (yuan), and a note."""


def check_support_value(field: str | None, value: str) -> None:
    """A support-outcome decision's field and value (DecisionNotPossible when they cannot be recorded)."""
    if field not in SUPPORT_FIELDS:
        raise DecisionNotPossible(f"support request field {field!r}")
    if field == "outcome" and value not in SUPPORT_OUTCOMES:
        raise DecisionNotPossible(f"support outcome {value!r}")
    if field in ("decided_on", "paid_on") and value and _date(value) is None:
        raise DecisionNotPossible(f"not a date: {value!r}")
    if field == "amount" and value:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise DecisionNotPossible(f"not an amount: {value!r}") from None
        if not amount.is_finite() or amount < 0 or amount > 1_000_000 or amount.as_tuple().exponent < -2:
            raise DecisionNotPossible(f"not an amount: {value!r}")
    if len(value) > MAX_TEXT:
        raise DecisionNotPossible(f"at most {MAX_TEXT} characters")


def check_correction(column: str | None, value: str) -> None:
    """A correction's column and value: a column some kind of item lets a cadre correct, and a value that is right
    (a whole quantity from 1 to MAX_QUANTITY, yes or no, a text of at most MAX_TEXT characters)."""
    if not any(column in columns for columns in CORRECTABLE.values()):
        raise DecisionNotPossible(f"service record field {column!r}")
    if column == "quantity" and check_quantity(value)[2]:
        raise DecisionNotPossible(f"a quantity is a whole number from 1 to {MAX_QUANTITY}")
    if column == "given" and value not in ("yes", "no"):
        raise DecisionNotPossible("given is yes or no")
    if len(value) > MAX_TEXT:
        raise DecisionNotPossible(f"at most {MAX_TEXT} characters")


# Referrals the household visit makes to the town's own services (antenatal care, the free pre-pregnancy check):
# the form does not ask where to.
_REFERRALS_WITH_A_KNOWN_PLACE = frozenset({"antenatal_guidance", "prepregnancy_check"})


def corrected_item(item: ServiceItem, column: str, value: str) -> ServiceItem:
    """An item with one column corrected by the cadre ("" clears a text column); its problems are judged again,
    so a flag goes exactly when the value is right."""
    if column not in CORRECTABLE.get(item.kind, ()):
        raise ValueError(f"{item.kind} items have no correctable column {column!r}")
    if column == "quantity":
        quantity, quantity_text, _ = check_quantity(value)
        updated = replace(item, quantity=quantity, quantity_text=quantity_text)
    elif column == "given":
        updated = replace(item, given=value == "yes")
    else:
        updated = replace(item, **{column: value or None})
    return replace(updated, problems=item_problems(updated))


# ---- an item as it stands ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemChange:
    """Something said about an item after its visit: a decision in force about it (`kind` is the decision kind's
    name: correct_service, referral_result, support_outcome), or a follow-up's result of a referral
    (referral_result, `by_visit` True)."""

    at: dt.datetime
    kind: str
    field: str | None
    value: str
    by_visit: bool = False


@dataclass(frozen=True, slots=True)
class ItemState:
    """A service item as it stands: corrected, with its referral's latest result or its request's outcome."""

    item: ServiceItem
    result: str | None = None               # a referral's latest result (REFERRAL_RESULTS); None: no result yet
    result_at: dt.datetime | None = None
    support: Mapping[str, str] = field(default_factory=dict)   # a support request's SUPPORT_FIELDS recorded

    @property
    def is_open(self) -> bool:
        """A referral nobody has attended or declined yet."""
        return self.item.kind == "referral" and self.result not in CLOSING_RESULTS


def item_state(item: ServiceItem, changes: Iterable[ItemChange]) -> ItemState:
    """Apply what was said about an item, oldest first (the latest result or value of a field wins)."""
    result = result_at = None
    support: dict[str, str] = {}
    for change in sorted(changes, key=lambda change: change.at):
        if change.kind == "correct_service" and change.field in CORRECTABLE.get(item.kind, ()):
            item = corrected_item(item, change.field, change.value)
        elif change.kind == "referral_result" and item.kind == "referral" and change.value in REFERRAL_RESULTS:
            result, result_at = change.value, change.at
        elif change.kind == "support_outcome" and item.kind == "support_request" and change.field in SUPPORT_FIELDS:
            support[change.field] = change.value
    return ItemState(item, result, result_at, support)
