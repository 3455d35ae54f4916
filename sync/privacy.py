"""Privacy rules of the register: how ID numbers and phones are masked, how long each kind of record is kept (the
retention rules a purge applies), and which services are recorded only with the person's consent (docs/privacy.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sync.errors import (
    CopyAlreadyHandedOver,
    CopyNotProduced,
    CopyRequestDayInvalid,
    CopyRequestInvalid,
    ExportReasonRequired,
    ExportReasonTooLong,
)

__all__ = ["mask_id_number", "mask_phone", "MASKED_FIELDS", "mask_value", "RetentionRule", "RETENTION_RULES",
           "DAYS_PER_YEAR", "CONSENT_ITEM_KINDS", "CONSENT_ANCHOR_KINDS", "PeriodTooShort", "check_period",
           "MASKED_FORM_FIELDS", "mask_answer", "EXPORT_REASON_LENGTH", "FULL_SUFFIX", "export_action", "export_reason"]

DAYS_PER_YEAR = 365


def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """`value` with every character but the first `keep_start` and the last `keep_end` replaced by `*`; a value too
    short to keep both ends shows only its last quarter (never the whole of it)."""
    if len(value) > keep_start + keep_end:
        return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]
    shown = len(value) // 4
    return "*" * (len(value) - shown) + value[len(value) - shown:]


def mask_id_number(value: str | None) -> str | None:
    """A resident ID number as lists and exports show it: the first four and last four characters
    (330102199001011234 → 3301**********1234); None and "" stay as they are."""
    if not value:
        return value
    return _mask_middle(value.strip(), 4, 4)


def mask_phone(value: str | None) -> str | None:
    """A phone number as lists and exports show it: a mobile's first three and last four digits (13812345678 →
    138****5678); other numbers keep their last four."""
    if not value:
        return value
    value = value.strip()
    if len(value) == 11 and value.startswith("1"):
        return _mask_middle(value, 3, 4)
    return _mask_middle(value, 0, 4)


MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}
"""The fields shown masked outside the person page (and an export asked for in full, with a reason)."""


def mask_value(field: str, value: str | None) -> str | None:
    """`value` of `field` as lists show it: masked when the field is one of MASKED_FIELDS, else as it is."""
    mask = MASKED_FIELDS.get(field)
    return mask(value) if mask else value


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long one kind of record is kept after the event that ends its use, and what a purge removes.

    `removes`: "person" (the person's register record, history, events, anchors, service items and their content in
    the raw submissions), "service_record" (the person's service items and anchors of services given with consent,
    the person staying in the register) or "location" (the GPS points of visits).
    """

    name: str
    label_zh: str
    label_en: str
    config_key: str          # the setting holding the period, in days (TAIZHANG_RETAIN_…_DAYS)
    default_days: int
    minimum_days: int        # a shorter period is refused (PeriodTooShort)
    removes: str

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


RETENTION_RULES: dict[str, RetentionRule] = {rule.name: rule for rule in (
    RetentionRule("died", "已死亡人员", "People who died", "TAIZHANG_RETAIN_DIED_DAYS",
                  5 * DAYS_PER_YEAR, 2 * DAYS_PER_YEAR, "person"),
    RetentionRule("moved_out_of_county", "迁出本县人员", "People who moved out of the county",
                  "TAIZHANG_RETAIN_MOVED_OUT_DAYS", 3 * DAYS_PER_YEAR, 2 * DAYS_PER_YEAR, "person"),
    RetentionRule("aged_out", "超出服务年龄人员的服务记录", "Service records of people past the service age",
                  "TAIZHANG_RETAIN_AGED_OUT_DAYS", 3 * DAYS_PER_YEAR, 2 * DAYS_PER_YEAR, "service_record"),
    RetentionRule("consent_withdrawn", "已撤回同意的服务记录", "Service records whose consent was withdrawn",
                  "TAIZHANG_RETAIN_CONSENT_WITHDRAWN_DAYS", 0, 0, "service_record"),
    RetentionRule("location", "访视定位", "GPS points of visits", "TAIZHANG_RETAIN_LOCATION_DAYS",
                  180, 30, "location"),
)}
"""The retention rules, by name: each a configurable period (days after the event) with a floor."""


class PeriodTooShort(ValueError):
    """A retention period under its rule's minimum."""

    def __init__(self, rule: RetentionRule, days: int):
        super().__init__(f"{rule.name}: {days} days is under the minimum of {rule.minimum_days} days")
        self.rule = rule
        self.days = days


def check_period(rule: RetentionRule, days: int) -> int:
    """`days` when it is a period `rule` allows, else PeriodTooShort."""
    if days < rule.minimum_days:
        raise PeriodTooShort(rule, days)
    return days


CONSENT_ITEM_KINDS = ("pregnancy_guidance", "prepregnancy_check")
"""Service items recorded only with the person's consent (sync.services): withdrawing consent hides and purges them,
with the referrals they made (`refers_to`)."""

CONSENT_ANCHOR_KINDS = ("pregnancy_reported",)
"""Schedule anchors a visit records only with the person's consent (sync.visits)."""


# ---- a person's own copy (server/copies) ---------------------------------------------------------------------------

COPY_FORMATS = ("pdf", "xlsx")
"""The forms a person's own copy is produced in: a printable PDF, or an Excel workbook."""

COPY_REQUESTERS = ("self", "representative")
"""Who asks for a person's own copy: the person, or a representative (named)."""

MAX_REQUESTER_NAME = 100


def check_copy_request(requested_by: str, requester: str, copy_format: str, day: str, today: dt.date) -> dt.date:
    """The day of a copy request (YYYY-MM-DD, not after `today`) when the request is one to record: the name of who
    asked given (at most MAX_REQUESTER_NAME characters), `requester` one of COPY_REQUESTERS, the format one of
    COPY_FORMATS; else CopyRequestInvalid or CopyRequestDayInvalid."""
    name = (requested_by or "").strip()
    if not name or len(name) > MAX_REQUESTER_NAME:
        raise CopyRequestInvalid("requested_by")
    if requester not in COPY_REQUESTERS:
        raise CopyRequestInvalid("requester")
    if copy_format not in COPY_FORMATS:
        raise CopyRequestInvalid("format")
    try:
        requested_on = dt.date.fromisoformat((day or "").strip())
    except ValueError:
        raise CopyRequestDayInvalid() from None
    if requested_on > today:
        raise CopyRequestDayInvalid(requested_on.isoformat())
    return requested_on


def check_copy_production(handed_at: dt.datetime | None) -> None:
    """A copy is produced (again) until it is handed over; after that a new request is needed."""
    if handed_at is not None:
        raise CopyAlreadyHandedOver()


def check_handover(produced_at: dt.datetime | None, handed_at: dt.datetime | None, handed_to: str = "") -> str:
    """A copy is handed over once, after it was produced; the name of whoever received it ("" for the requester) at
    most MAX_REQUESTER_NAME characters. Returns the name, stripped."""
    if handed_at is not None:
        raise CopyAlreadyHandedOver()
    if produced_at is None:
        raise CopyNotProduced()
    name = (handed_to or "").strip()
    if len(name) > MAX_REQUESTER_NAME:
        raise CopyRequestInvalid("handed_to")
    return name

__all__ += ["COPY_FORMATS", "COPY_REQUESTERS", "MAX_REQUESTER_NAME", "check_copy_request", "check_copy_production",
            "check_handover"]
# ---- masked by default: where the masks apply (issue 21, item 2) ---------------------------------------------------

MASKED_FORM_FIELDS = {"id_number": mask_id_number, "id_number_corrected": mask_id_number,
                      "phone": mask_phone, "phone_now": mask_phone}
"""The questions of the forms whose answers are ID numbers or phones, by element name: a visit's answers show them
masked (the visit page is not the person page)."""


def mask_answer(element: str, value: str) -> str:
    """An answer to the question named `element` as a visit page shows it: masked when it is an ID number or a
    phone."""
    mask = MASKED_FORM_FIELDS.get(element)
    return mask(value) if mask else value


EXPORT_REASON_LENGTH = 300
"""The longest reason a user may give for an export with ID numbers and phones in full."""


FULL_SUFFIX = ".full"


def export_action(action: str, full: bool) -> str:
    """The audit action of an export ("export.register", "registers.export", "notice.export"), with FULL_SUFFIX
    when ID numbers and phones were in full ("export.register.full")."""
    return action + FULL_SUFFIX if full else action


def export_reason(full: bool, reason: str | None) -> str | None:
    """The reason recorded with an export: None for a masked one; for one in full the reason given (trimmed), else
    ExportReasonRequired (empty) or ExportReasonTooLong (over EXPORT_REASON_LENGTH)."""
    if not full:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise ExportReasonRequired()
    if len(reason) > EXPORT_REASON_LENGTH:
        raise ExportReasonTooLong(f"{len(reason)} characters")
    return reason
