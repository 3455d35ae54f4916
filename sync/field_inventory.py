"""The field inventory: every stored field of the register (table columns and form questions) with its purpose, who may
see it, whether it is sensitive and how long it is kept; rendered to docs/privacy.md (`python -m sync.field_inventory`).

One entry per field (`FIELDS`); tables without personal data are declared with a reason (`NON_PERSONAL_TABLES`).
tests/unit/test_field_inventory.py fails when a column of the models or a question of the forms has no entry, when an
entry names a field that is gone, and when docs/privacy.md is not the rendering of this registry. Adding a column is
one line here (`_col(...)`, or its name in a `_technical(...)` call), then `python -m sync.field_inventory >
docs/privacy.md`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sync.privacy import (
    CONSENT_ANCHOR_KINDS,
    CONSENT_ITEM_KINDS,
    DAYS_PER_YEAR,
    MASKED_FIELDS,
    RETENTION_RULES,
    mask_id_number,
    mask_phone,
)

__all__ = ["Field", "NonPersonalTable", "Keeping", "AUDIENCES", "SENSITIVITIES", "KEPT", "SECTIONS",
           "TABLE_SECTIONS", "FIELDS", "NON_PERSONAL_TABLES", "FORMS", "column_keys", "question_keys",
           "render_markdown"]

# ---- who may see a field: the project's roles, each inside its own area ----------------------------------------

COLLECTOR, CADRE, TOWN, COUNTY = "collector", "village_cadre", "town_officer", "county_admin"
AUDIENCES: dict[str, tuple[str, str, str, str]] = {
    COLLECTOR: ("信息员", "本组信息员：手机上收到的名单（户、人员、待随访）和自己填报的访视",
                "collector", "the group's collector: the lists sent to the phone (households, people, due) and the "
                "visits they fill"),
    CADRE: ("村专干", "本村的村专干：本村人员、户、访视和服务记录的页面与导出",
            "village cadre", "the village's cadre: pages and exports of the village's people, households, visits"),
    TOWN: ("镇计生办", "本镇计生办人员：全镇的页面、导出、复核、协查通报和审计日志",
           "town office", "the town's officers: the town's pages and exports, re-checks, notices and the audit log"),
    COUNTY: ("县", "县管理员：全县（与镇计生办相同的页面）",
             "county", "the county administrator: the whole county (the town office's pages)"),
}
"""Who may see a field, by role: (short Chinese, Chinese, short English, English). Every role sees only its own area
(sync.access); every staff read of a person is audited."""

ALL = (COLLECTOR, CADRE, TOWN, COUNTY)
STAFF = (CADRE, TOWN, COUNTY)
OFFICE = (TOWN, COUNTY)
NOBODY: tuple[str, ...] = ()
"""Used by the system only: shown on no page, in no export."""

# ---- how sensitive a field is (PIPL, 2021) --------------------------------------------------------------------

SENSITIVE, PERSONAL, NOT_PERSONAL = "sensitive", "personal", "none"
SENSITIVITIES: dict[str, tuple[str, str]] = {
    SENSITIVE: ("敏感个人信息", "sensitive personal information"),
    PERSONAL: ("个人信息", "personal information"),
    NOT_PERSONAL: ("非个人信息", "not personal information"),
}
"""Sensitive personal information as the Personal Information Protection Law (art. 28) defines it: ID numbers,
health and medical information (pregnancy, births, operations, supplies, referrals), whereabouts (GPS points);
personal information: whatever identifies or describes a person (names, phones, addresses, staff accounts)."""


# ---- how long a field is kept: a closed set ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Keeping:
    """How long a field is kept: `rules` are the retention rules (sync.privacy.RETENTION_RULES) whose purge removes
    it; none: nothing removes it but its own end."""

    name: str
    short_zh: str
    label_zh: str
    label_en: str
    rules: tuple[str, ...] = ()


KEPT: dict[str, Keeping] = {keeping.name: keeping for keeping in (
    Keeping("person", "人员在册期间", "人员在册期间；死亡或迁出本县满保存期限后清除",
            "while the register holds the person; purged once their death or move out of the county is older than "
            "the period", ("died", "moved_out_of_county")),
    Keeping("household", "户在册期间", "户在册期间（没有单独的清除规则）",
            "while the register holds the household (no retention rule of its own)"),
    Keeping("service", "服务记录期限", "服务记录：随人员清除；超出服务年龄或撤回同意后满保存期限清除",
            "the service record: purged with the person, or once they are past the service age or withdrew "
            "consent", ("died", "moved_out_of_county", "aged_out", "consent_withdrawn")),
    Keeping("location", "定位期限", "访视定位：满保存期限后清除", "the visit's GPS point: purged after its period",
            ("location",)),
    Keeping("raw", "原始表单", "原始表单：为重建台账长期保存；清除时抹去被清除人员、撤回同意的服务和定位的内容",
            "the raw submission: kept to rebuild the register from; a purge blanks what it says about purged "
            "people, withdrawn consents and GPS points",
            ("died", "moved_out_of_county", "aged_out", "consent_withdrawn", "location")),
    Keeping("row", "随所在记录", "随所在记录（技术字段）", "as long as its row (technical field)"),
    Keeping("log", "长期保存", "操作记录：长期保存，不清除（回放时跳过被清除人员的决定）",
            "the log of what people decided: kept, never purged (decisions about purged people are skipped)"),
    Keeping("archive", "按上报原样", "归档报表：按上报时的原样长期保存，清除不改动",
            "an archived report: kept as it was handed over; the purge does not change it"),
    Keeping("no_rule", "暂无期限", "暂无保存期限规则（长期保存）", "no retention rule yet (kept)"),
    Keeping("account", "账户存续期间", "工作人员账户存续期间（停用的账户为审计日志保留）",
            "while the staff account exists (a revoked account stays for the audit log)"),
    Keeping("expiry", "到期删除", "到期即删除（登录会话、登录失败计数）",
            "deleted when it expires (sessions, failed sign-in counts)"),
    Keeping("latest", "仅最近一次", "只保留最近一次，下次覆盖", "only the latest, overwritten the next time"),
    Keeping("audit", "审计日志", "审计日志：长期保存，不清除（只记录谁在何时查看了哪条记录，不含记录内容）",
            "the audit log: kept, never purged (who read which record when, never the record's content)"),
)}
"""Every value an entry's `kept` may take."""


# ---- where a field is shown in docs/privacy.md ----------------------------------------------------------------

SECTIONS: dict[str, tuple[str, str]] = {
    "person": ("人员", "People"),
    "household": ("户", "Households"),
    "visit": ("访视与原始表单", "Visits and raw submissions"),
    "service": ("服务记录", "The service record"),
    "register": ("台账维护：查重、冲突、决定", "Keeping the register: duplicates, conflicts, decisions"),
    "notice": ("协查通报", "Service notices"),
    "recheck": ("复核", "Re-checks"),
    "report": ("报表与月报签收", "Reports and month sign-offs"),
    "staff": ("工作人员账户与登录", "Staff accounts and sign-in"),
    "audit": ("审计日志", "The audit log"),
    "question": ("问卷题目（原始表单中的答案）", "Questions of the forms (answers in the raw submissions)"),
}

TABLE_SECTIONS = {
    "person": "person", "person_match_key": "register", "life_event": "person", "register_field_value": "person",
    "household": "household",
    "visit": "visit", "submission": "visit", "submission_attachment": "visit", "submission_record": "visit",
    "visit_review": "visit",
    "service_item": "service", "service_anchor": "service", "schedule_summary": "service",
    "register_decision": "register", "register_conflict": "register", "duplicate_candidate": "register",
    "service_notice": "notice", "service_notice_step": "notice", "person_copy": "person", "purged_record": "register",
    "recheck_sample": "recheck", "recheck_household": "recheck", "recheck": "recheck", "recheck_finding": "recheck",
    "archived_report": "report", "month_signoff": "report", "month_signoff_step": "report",
    "app_user": "staff", "staff_session": "staff", "auth_throttle": "staff", "collector_form_download": "staff",
    "audit_event": "audit",
}
"""The section of docs/privacy.md each table with personal data is listed in."""

FORMS = ("household_visit", "followup")
"""The questionnaires in xlsforms/ whose questions are inventoried."""


_MASKED_AS = {"id_number_corrected": "id_number", "phone_now": "phone"}
"""Questions whose answer is an ID number or a phone under another name."""


@dataclass(frozen=True, slots=True)
class Field:
    """One stored field: a table's column (`sources` = the table) or a question (`sources` = the forms asking it)."""

    sources: tuple[str, ...]
    name: str
    is_question: bool
    purpose_zh: str
    purpose_en: str
    seen_by: tuple[str, ...]
    sensitivity: str
    kept: str
    technical: bool = False     # an id, version, link or checksum (listed together per table in docs/privacy.md)

    @property
    def keys(self) -> tuple[str, ...]:
        """"table.column", or "form:question" per form."""
        if self.is_question:
            return tuple(f"{form}:{self.name}" for form in self.sources)
        return tuple(f"{table}.{self.name}" for table in self.sources)

    @property
    def section(self) -> str:
        return "question" if self.is_question else TABLE_SECTIONS[self.sources[0]]

    @property
    def masked(self) -> bool:
        """Shown masked on lists and exports (sync.privacy.MASKED_FIELDS): an ID number or a phone."""
        return _MASKED_AS.get(self.name, self.name) in MASKED_FIELDS


@dataclass(frozen=True, slots=True)
class NonPersonalTable:
    """A table holding no personal data: its columns (so a new column is reviewed) and why."""

    name: str
    columns: tuple[str, ...]
    reason_zh: str
    reason_en: str


def _col(table: str, name: str, zh: str, en: str, seen: tuple[str, ...], sensitivity: str, kept: str) -> Field:
    return Field((table,), name, False, zh, en, seen, sensitivity, kept)


def _technical(table: str, *names: str) -> tuple[Field, ...]:
    """Identifiers, versions, links to other rows, hashes: used by the system, kept with their row."""
    return tuple(Field((table,), name, False, "技术字段：编号、版本、关联或校验", "Technical: id, version, link or "
                       "checksum", NOBODY, NOT_PERSONAL, "row", True) for name in names)


HV, FU, BOTH = ("household_visit",), ("followup",), FORMS


def _q(forms: tuple[str, ...], name: str, zh: str, en: str, seen: tuple[str, ...], sensitivity: str,
       kept: str) -> Field:
    return Field(forms, name, True, zh, en, seen, sensitivity, kept)


def _calculated(forms: tuple[str, ...], *names: str) -> tuple[Field, ...]:
    """Questions the phone computes from its lists (record ids, versions, counts): no answer of a person's own."""
    return tuple(Field(forms, name, True, "手机计算：记录编号、版本或从名单带出的值", "Computed on the phone: a record's "
                       "id, version or a value from its lists", NOBODY, NOT_PERSONAL, "raw", True) for name in names)


FIELDS: tuple[Field, ...] = (
    # ---- people -------------------------------------------------------------------------------------------------
    *_technical("person", "uuid", "household_uuid", "version"),
    _col("person", "name", "姓名：识别本人，访视时核对", "Name: who the person is, checked at visits", ALL, PERSONAL,
         "person"),
    _col("person", "sex", "性别：服务对象和统计", "Sex: whom a service is for, counts", ALL, PERSONAL, "person"),
    _col("person", "birth_date", "出生日期：年龄、随访时间表、查重", "Birth date: age, schedules, duplicates", ALL,
         PERSONAL, "person"),
    _col("person", "id_number", "居民身份证号码：识别本人、查重", "Resident ID number: who the person is, duplicates",
         ALL, SENSITIVE, "person"),
    _col("person", "relationship", "与户主关系：户的组成", "Relationship to the head: who the household is", ALL,
         PERSONAL, "person"),
    _col("person", "phone", "手机号：联系本人安排服务", "Phone: reaching the person for a service", ALL, PERSONAL,
         "person"),
    _col("person", "residence", "现住地：是否在本地居住", "Residence: whether the person lives here", ALL, PERSONAL,
         "person"),
    _col("person", "hukou", "户籍：本地或外地户籍", "Hukou: registered here or elsewhere", ALL, PERSONAL, "person"),
    _col("person", "status", "状态：在册、死亡、迁出", "Status: present, died, moved out", STAFF, PERSONAL, "person"),
    _col("person", "tier", "服务分级：随访频次", "Service tier: how often to visit", STAFF, PERSONAL, "person"),
    _col("person", "name_pinyin", "姓名拼音：按拼音查找", "Name in pinyin: search", NOBODY, PERSONAL, "person"),
    _col("person", "name_initials", "姓名首字母：按首字母查找", "Name's initials: search", NOBODY, PERSONAL, "person"),
    *_technical("life_event", "id", "person_uuid", "group_id", "destination_id", "submission_id", "decision_id"),
    _col("life_event", "kind", "事件：出生、死亡、迁入、迁出、结婚", "Event: birth, death, move in or out, marriage",
         STAFF, SENSITIVE, "person"),
    _col("life_event", "event_date", "事件日期：月变更报告、时间表", "Its date: monthly change report, schedules",
         STAFF, SENSITIVE, "person"),
    _col("life_event", "place", "去向或来处", "Where to or from", STAFF, PERSONAL, "person"),
    _col("life_event", "spouse_name", "配偶姓名（结婚）", "Spouse's name (a marriage)", STAFF, PERSONAL, "person"),
    *_technical("register_field_value", "id", "record_kind", "record_uuid", "field", "version", "submission_id",
                "decision_id", "instance_id"),
    _col("register_field_value", "value", "字段的每一个历史值：合并判断、更正和核对", "Every value a field took: merges, "
         "corrections, checks", STAFF, SENSITIVE, "person"),
    _col("register_field_value", "visited_at", "该值被记录的访视时间", "When the visit that stated it took place",
         STAFF, PERSONAL, "person"),
    # ---- households ---------------------------------------------------------------------------------------------
    *_technical("household", "uuid", "group_id", "version"),
    _col("household", "household_no", "户编号：找到这一户", "Household number: finding the household", ALL, PERSONAL,
         "household"),
    _col("household", "address", "住址：上门访视", "Address: visiting the home", ALL, PERSONAL, "household"),
    # ---- visits and raw submissions ---------------------------------------------------------------------------
    *_technical("visit", "submission_id", "household_uuid", "person_uuid", "form_version"),
    _col("visit", "form", "访视类型（入户访视、随访）", "Kind of visit (household visit, follow-up)", STAFF,
         NOT_PERSONAL, "raw"),
    _col("visit", "visited_at", "访视时间：完成情况、及时率", "When: visits done, timeliness", STAFF, PERSONAL,
         "raw"),
    _col("visit", "visit_date", "访视日期：时间表、待随访名单", "Day: schedules, the due list", ALL, PERSONAL, "raw"),
    _col("visit", "outcome", "访视结果（完成、不在家、拒绝……）", "Outcome (done, nobody home, refused …)", STAFF,
         PERSONAL, "raw"),
    _col("visit", "completed", "是否完成：随访率", "Completed: visit rate", STAFF, PERSONAL, "raw"),
    _col("visit", "followup_type", "随访类型（产后、术后、转介）", "Follow-up type (after a birth, an operation, a "
         "referral)", STAFF, SENSITIVE, "raw"),
    _col("visit", "refusal", "合并拒绝的原因（越组）", "Why the merge refused it (outside the group)", STAFF,
         NOT_PERSONAL, "raw"),
    _col("visit", "next_visit", "约定的下次访视日期", "Next visit agreed with the household", ALL, PERSONAL, "raw"),
    _col("visit", "notes", "备注（信息员所写，可能涉及健康）", "Notes (the collector's words; may touch on health)",
         STAFF, SENSITIVE, "raw"),
    _col("visit", "latitude", "访视定位（纬度）：核实上门", "GPS latitude: the visit took place at the home", STAFF,
         SENSITIVE, "location"),
    _col("visit", "longitude", "访视定位（经度）", "GPS longitude", STAFF, SENSITIVE, "location"),
    _col("visit", "altitude", "访视定位（海拔）", "GPS altitude", STAFF, SENSITIVE, "location"),
    _col("visit", "accuracy", "访视定位（精度）", "GPS accuracy", STAFF, SENSITIVE, "location"),
    *_technical("submission", "id", "instance_id", "root_instance_id", "deprecated_id", "form_id", "form_version_id",
                "xml_sha256", "submitter_id", "area_id"),
    _col("submission", "xml", "原始表单：访视的全部答案，用于重建台账", "The raw submission: every answer, to rebuild the "
         "register from", STAFF, SENSITIVE, "raw"),
    _col("submission", "collector_name", "填报的信息员", "The collector who filled it", STAFF, PERSONAL, "raw"),
    _col("submission", "device_id", "手机设备号：信息员手机监测", "The phone's device id: collector monitoring", STAFF,
         PERSONAL, "raw"),
    _col("submission", "user_agent", "手机型号与系统：信息员手机监测", "The phone's model and system: monitoring",
         STAFF, PERSONAL, "raw"),
    _col("submission", "received_at", "收到时间：录入率、及时率", "When it arrived: entry rate, timeliness", STAFF,
         NOT_PERSONAL, "raw"),
    *_technical("submission_attachment", "id", "submission_id", "sha256"),
    _col("submission_attachment", "name", "附件文件名", "The attachment's file name", STAFF, NOT_PERSONAL, "raw"),
    _col("submission_attachment", "size", "附件大小", "Its size", NOBODY, NOT_PERSONAL, "raw"),
    _col("submission_attachment", "content_type", "附件类型", "Its type", NOBODY, NOT_PERSONAL, "raw"),
    _col("submission_attachment", "received_at", "附件收到时间", "When it arrived", NOBODY, NOT_PERSONAL, "raw"),
    *_technical("submission_record", "submission_id", "record_uuid"),
    *_technical("visit_review", "submission_id", "reviewed_by"),
    _col("visit_review", "state", "村专干的审核结果", "The cadre's review", STAFF, NOT_PERSONAL, "log"),
    _col("visit_review", "comment", "审核意见（给信息员）", "The review's comment (for the collector)", STAFF, PERSONAL,
         "log"),
    _col("visit_review", "reviewed_at", "审核时间", "When it was reviewed", STAFF, NOT_PERSONAL, "log"),
    # ---- the service record ------------------------------------------------------------------------------------
    *_technical("service_item", "id", "submission_id", "seq", "item_key", "household_uuid", "person_uuid",
                "refers_to"),
    _col("service_item", "kind", "服务项目类别（服务、药具、转介、孕前检查、孕期指导、扶助需求）", "Kind of item (service, "
         "supplies, referral, pre-pregnancy check, antenatal guidance, support)", STAFF, SENSITIVE, "service"),
    _col("service_item", "person_name", "服务对象姓名（登记新户时填写）", "Whom it was for, by name (a household being "
         "registered)", STAFF, PERSONAL, "service"),
    _col("service_item", "visit_date", "服务日期：登记册、月报", "Day: registers, monthly counts", STAFF, SENSITIVE,
         "service"),
    _col("service_item", "visited_at", "服务时间", "When", STAFF, SENSITIVE, "service"),
    _col("service_item", "code", "服务、药具品种、转介目的或结果", "The service, supply item, referral purpose or result",
         STAFF, SENSITIVE, "service"),
    _col("service_item", "quantity", "药具数量（应本人要求）", "Quantity of supplies (on request)", STAFF, SENSITIVE,
         "service"),
    _col("service_item", "quantity_text", "数量原文（不是整数时）", "The quantity as written (not a whole number)", STAFF,
         SENSITIVE, "service"),
    _col("service_item", "given", "药具是否已当场发放", "Supplies handed out on the spot", STAFF, SENSITIVE, "service"),
    _col("service_item", "place", "转介到哪里", "Where the referral is to", ALL, SENSITIVE, "service"),
    _col("service_item", "text", "其他服务、转介原因、孕前检查夫妇姓名、需要的帮助", "Other service, why referred, the "
         "couple told of the check, help asked for", STAFF, SENSITIVE, "service"),
    _col("service_item", "detail", "扶助类别（奖励扶助、特别扶助）", "Benefit scheme (reward, special)", STAFF,
         SENSITIVE, "service"),
    _col("service_item", "consent", "本人是否同意（孕前检查）", "Consent given (pre-pregnancy check)", STAFF, SENSITIVE,
         "service"),
    _col("service_item", "problems", "需要更正的异常值", "Odd values to correct", STAFF, NOT_PERSONAL, "service"),
    *_technical("service_anchor", "id", "person_uuid", "submission_id"),
    _col("service_anchor", "kind", "随访起算事件：分娩、手术、本人告知怀孕", "What a follow-up counts from: a birth, an "
         "operation, a pregnancy she told of", ALL, SENSITIVE, "service"),
    _col("service_anchor", "anchor_date", "事件日期：应随访日期", "Its day: when follow-ups are due", ALL, SENSITIVE,
         "service"),
    *_technical("schedule_summary", "record_kind", "record_uuid", "scheduled", "head"),
    _col("schedule_summary", "visits", "完成访视的日期（户）或随访日期和类别（人员）：由访视得出，待随访名单和逾期标记读它",
         "Days of the completed visits (a household) or follow-ups with their type (a person): derived from the "
         "visits, read by due lists and overdue flags", ALL, PERSONAL, "person"),
    _col("schedule_summary", "tiers", "服务分级及其变更时间：由分级历史得出", "Service tiers and when each was set: "
         "derived from the tier history", STAFF, SENSITIVE, "person"),
    _col("schedule_summary", "anchors", "随访起算事件及日期：由访视得出", "Events follow-ups count from, with their "
         "days: derived from the visits", ALL, SENSITIVE, "service"),
    _col("schedule_summary", "died_on", "死亡日期：由人员事件得出", "Day of death: derived from life events", STAFF,
         SENSITIVE, "person"),
    _col("schedule_summary", "moved_out_on", "迁出日期：由人员事件得出", "Day of moving away: derived from life events",
         STAFF, PERSONAL, "person"),
    _col("schedule_summary", "agreed", "约定再访日期：由访视得出", "Next visits agreed, with the day of the visit "
         "that agreed each: derived from the visits", ALL, PERSONAL, "person"),
    _col("schedule_summary", "referrals", "转介及其结果日期：由访视和转介结果得出", "Referrals and when a result closed "
         "each: derived from the visits and the results recorded", STAFF, SENSITIVE, "service"),
    # ---- keeping the register -----------------------------------------------------------------------------------
    *_technical("person_match_key", "person_uuid", "village_id"),
    _col("person_match_key", "key", "查重索引键（由姓名、出生日期、证件号、手机号得出）", "Duplicate check key (from "
         "name, birth date, ID number, phone)", NOBODY, SENSITIVE, "person"),
    *_technical("register_decision", "id", "uuid", "subject_uuid", "after_submission_id", "candidate_id",
                "decided_by", "undone_by", "area_path"),
    _col("register_decision", "kind", "决定类别（合并、迁移、更正、分级……）", "Kind (merge, move, correction, tier …)",
         STAFF, NOT_PERSONAL, "log"),
    _col("register_decision", "target", "决定的内容：更正后的值、新成员的信息", "What was decided: a corrected value, a "
         "new member's details", STAFF, SENSITIVE, "log"),
    _col("register_decision", "field", "更正的字段", "The field corrected", STAFF, NOT_PERSONAL, "log"),
    _col("register_decision", "note", "决定的理由（工作人员所写）", "Why (as the staff member wrote it)", STAFF, PERSONAL,
         "log"),
    _col("register_decision", "decided_at", "决定时间", "When decided", STAFF, NOT_PERSONAL, "log"),
    _col("register_decision", "undone_at", "撤销时间", "When undone", STAFF, NOT_PERSONAL, "log"),
    *_technical("register_conflict", "id", "record_uuid", "instance_id", "other_instance_id"),
    _col("register_conflict", "field", "冲突的字段", "The field in conflict", STAFF, NOT_PERSONAL, "person"),
    _col("register_conflict", "value", "一次访视填的值", "The value one visit gave", STAFF, SENSITIVE, "person"),
    _col("register_conflict", "other_value", "另一次访视填的值", "The value the other gave", STAFF, SENSITIVE, "person"),
    _col("register_conflict", "state", "待处理或已处理", "Open or settled", STAFF, NOT_PERSONAL, "person"),
    *_technical("duplicate_candidate", "id", "record_kind", "village_id", "a_uuid", "b_uuid", "decided_by",
                "departed_uuid"),
    _col("duplicate_candidate", "score", "疑似同一人的得分", "How alike the two are", STAFF, PERSONAL, "person"),
    _col("duplicate_candidate", "reasons", "相似之处（姓名、证件号、出生日期……）", "What is alike (name, ID number, "
         "birth date …)", STAFF, PERSONAL, "person"),
    _col("duplicate_candidate", "automatic", "是否自动合并", "Merged automatically", STAFF, NOT_PERSONAL, "person"),
    _col("duplicate_candidate", "state", "待处理、已合并、不是同一人", "Open, merged, not the same", STAFF, NOT_PERSONAL,
         "person"),
    _col("duplicate_candidate", "found_at", "发现时间", "When found", STAFF, NOT_PERSONAL, "person"),
    _col("duplicate_candidate", "decided_at", "处理时间", "When decided", STAFF, NOT_PERSONAL, "person"),
    # ---- service notices --------------------------------------------------------------------------------------
    *_technical("service_notice", "id", "uuid", "person_uuid"),
    _col("service_notice", "from_place", "发出通报的镇或外地地点", "The town (or place outside) sending it", OFFICE,
         NOT_PERSONAL, "no_rule"),
    _col("service_notice", "from_outside", "是否来自县外", "Whether it comes from outside", OFFICE, NOT_PERSONAL,
         "no_rule"),
    _col("service_notice", "to_place", "本人现在所在的镇或外地地点", "The town (or place outside) where the person now "
         "is", OFFICE, PERSONAL, "no_rule"),
    _col("service_notice", "to_outside", "是否在县外", "Whether that is outside", OFFICE, PERSONAL, "no_rule"),
    _col("service_notice", "name", "姓名", "Name", OFFICE, PERSONAL, "person"),
    _col("service_notice", "sex", "性别", "Sex", OFFICE, PERSONAL, "person"),
    _col("service_notice", "birth_date", "出生日期", "Birth date", OFFICE, PERSONAL, "person"),
    _col("service_notice", "id_number", "居民身份证号码：对方找到本人", "Resident ID number: the other office finding "
         "the person", OFFICE, SENSITIVE, "person"),
    _col("service_notice", "address", "现住址", "Where the person lives now", OFFICE, PERSONAL, "person"),
    _col("service_notice", "phone", "手机号", "Phone", OFFICE, PERSONAL, "person"),
    _col("service_notice", "service", "应提供的服务", "The service due", OFFICE, SENSITIVE, "no_rule"),
    _col("service_notice", "service_note", "服务说明", "About the service", OFFICE, SENSITIVE, "person"),
    _col("service_notice", "reply_by", "回复期限", "Answer by", OFFICE, NOT_PERSONAL, "no_rule"),
    _col("service_notice", "sent_at", "发出时间", "When sent", OFFICE, NOT_PERSONAL, "no_rule"),
    _col("service_notice", "sent_by", "发出人（工作人员）", "Sent by (staff member)", OFFICE, PERSONAL, "no_rule"),
    _col("service_notice", "received_at", "收到时间", "When received", OFFICE, NOT_PERSONAL, "no_rule"),
    _col("service_notice", "received_by", "接收人（工作人员）", "Received by (staff member)", OFFICE, PERSONAL,
         "no_rule"),
    _col("service_notice", "answer_done", "对方做了什么", "What the other office did", OFFICE, SENSITIVE, "person"),
    _col("service_notice", "answer_result", "结果", "The result", OFFICE, SENSITIVE, "no_rule"),
    _col("service_notice", "answer_day", "办理日期", "The day it was done", OFFICE, PERSONAL, "no_rule"),
    _col("service_notice", "answer_by", "回复人（工作人员）", "Answered by (staff member)", OFFICE, PERSONAL, "no_rule"),
    _col("service_notice", "answer_at", "回复时间", "When answered", OFFICE, NOT_PERSONAL, "no_rule"),
    *_technical("service_notice_step", "id", "notice_id", "user_id"),
    _col("service_notice_step", "step", "步骤：发出、收到、回复", "Step: sent, received, answered", OFFICE, NOT_PERSONAL,
         "no_rule"),
    _col("service_notice_step", "source", "来源：网页、同步、文件", "Source: web, replication, file", NOBODY,
         NOT_PERSONAL, "no_rule"),
    _col("service_notice_step", "recorded_at", "记录时间（同步游标）", "When recorded (replication cursor)", NOBODY,
         NOT_PERSONAL, "no_rule"),
    # ---- tombstones of the purge (sync.retention): no personal content, kept so a rebuild never brings it back ----
    *_technical("purged_record", "uuid", "after_submission_id"),
    _col("purged_record", "rule", "清除所依据的规则（重建时不恢复）", "The rule it was purged by (a rebuild leaves it out)",
         NOBODY, NOT_PERSONAL, "log"),
    _col("purged_record", "purged_on", "清除日期", "The day it was purged", NOBODY, NOT_PERSONAL, "log"),
    # ---- a person's own copy (server/copies): the request and hand-over; the file itself is not kept ------------
    *_technical("person_copy", "id", "person_uuid", "area_path", "recorded_by", "produced_by", "handed_by", "sha256",
                "size"),
    _col("person_copy", "requested_on", "本人申请信息副本的日期", "The day the person asked for their own copy", STAFF,
         PERSONAL, "no_rule"),
    _col("person_copy", "requested_by", "申请人（本人或代理人）姓名", "Who asked (the person or a representative), by name",
         STAFF, PERSONAL, "person"),
    _col("person_copy", "requester", "申请人是本人还是代理人", "Whether the person or a representative asked", STAFF,
         PERSONAL, "no_rule"),
    _col("person_copy", "format", "副本形式：PDF 或 Excel", "The copy's form: PDF or xlsx", STAFF, NOT_PERSONAL,
         "no_rule"),
    _col("person_copy", "recorded_at", "登记申请的时间", "When the request was recorded", STAFF, NOT_PERSONAL, "no_rule"),
    _col("person_copy", "produced_at", "副本生成时间（文件不保存，只记 SHA-256）",
         "When the copy was produced (the file is not kept, only its SHA-256)", STAFF, NOT_PERSONAL, "no_rule"),
    _col("person_copy", "handed_at", "副本交付时间", "When the copy was handed over", STAFF, NOT_PERSONAL, "no_rule"),
    _col("person_copy", "handed_to", "副本交给谁（姓名）", "Whom the copy was handed to, by name", STAFF, PERSONAL,
         "person"),
    # ---- re-checks ----------------------------------------------------------------------------------------------
    *_technical("recheck_sample", "id", "village_id", "seed", "drawn_by"),
    _col("recheck_sample", "month", "抽样月份", "The month sampled", OFFICE, NOT_PERSONAL, "log"),
    _col("recheck_sample", "percent", "抽样比例", "The share asked for", OFFICE, NOT_PERSONAL, "log"),
    _col("recheck_sample", "size", "抽到的户数", "How many households were drawn", OFFICE, NOT_PERSONAL, "log"),
    _col("recheck_sample", "drawn_at", "抽样时间", "When drawn", OFFICE, NOT_PERSONAL, "log"),
    *_technical("recheck_household", "sample_id", "household_uuid", "position"),
    *_technical("recheck", "id", "sample_id", "household_uuid", "submission_id", "recorded_by"),
    _col("recheck", "checked_on", "复核日期", "The day re-checked", OFFICE, NOT_PERSONAL, "log"),
    _col("recheck", "source", "网页或手机录入", "Entered on the web or the phone", OFFICE, NOT_PERSONAL, "log"),
    _col("recheck", "recorded_at", "录入时间", "When recorded", OFFICE, NOT_PERSONAL, "log"),
    *_technical("recheck_finding", "id", "recheck_id", "person_uuid"),
    _col("recheck_finding", "person_name", "复核到的人员姓名", "The person's name as re-checked", OFFICE, PERSONAL,
         "person"),
    _col("recheck_finding", "field", "复核的字段", "The field compared", OFFICE, NOT_PERSONAL, "no_rule"),
    _col("recheck_finding", "register_value", "台账中的值：准确率", "The register's value: accuracy", OFFICE,
         SENSITIVE, "person"),
    _col("recheck_finding", "observed_value", "复核时看到的值", "The value found at the re-check", OFFICE, SENSITIVE,
         "person"),
    _col("recheck_finding", "agrees", "是否一致", "Whether they agree", OFFICE, NOT_PERSONAL, "no_rule"),
    # ---- reports and month sign-offs --------------------------------------------------------------------------
    *_technical("archived_report", "id", "area_id", "version", "sha256", "created_by"),
    _col("archived_report", "kind", "报表类别", "Kind of report", STAFF, NOT_PERSONAL, "archive"),
    _col("archived_report", "period_start", "报表期间起", "First day of its period", STAFF, NOT_PERSONAL, "archive"),
    _col("archived_report", "period_end", "报表期间止", "Last day of its period", STAFF, NOT_PERSONAL, "archive"),
    _col("archived_report", "file_name", "下载文件名", "File name", STAFF, NOT_PERSONAL, "archive"),
    _col("archived_report", "content", "上报的工作簿（月变更报告单列有出生、死亡、迁移人员姓名）", "The workbook as "
         "handed over (a monthly change report names the people born, died or moved)", STAFF, SENSITIVE, "archive"),
    _col("archived_report", "figures", "报表中的数字（JSON）", "The figures it showed (JSON)", STAFF, NOT_PERSONAL,
         "archive"),
    _col("archived_report", "created_at", "归档时间", "When filed", STAFF, NOT_PERSONAL, "archive"),
    *_technical("month_signoff", "id", "village_id", "version", "report_id", "submitted_by", "decided_by"),
    _col("month_signoff", "month", "月份", "The month", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff", "state", "已提交、已退回、已接收", "Submitted, returned, accepted", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff", "first_submitted_at", "首次提交时间：月报及时率", "First submitted: report timeliness", STAFF,
         NOT_PERSONAL, "log"),
    _col("month_signoff", "late", "是否逾期提交", "Submitted late", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff", "submitted_at", "最近提交时间", "Last submitted", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff", "decided_at", "镇审核时间", "When the town office decided", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff", "comment", "镇计生办的意见", "The town office's comment", STAFF, PERSONAL, "log"),
    *_technical("month_signoff_step", "id", "signoff_id", "version", "report_id", "user_id"),
    _col("month_signoff_step", "step", "步骤：提交、退回、接收", "Step: submitted, returned, accepted", STAFF,
         NOT_PERSONAL, "log"),
    _col("month_signoff_step", "at", "时间", "When", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff_step", "late", "是否逾期", "Late", STAFF, NOT_PERSONAL, "log"),
    _col("month_signoff_step", "comment", "意见", "Comment", STAFF, PERSONAL, "log"),
    # ---- staff accounts and sign-in ---------------------------------------------------------------------------
    *_technical("app_user", "id", "area_id", "digest_realm"),
    _col("app_user", "username", "工作人员用户名：登录", "Staff user name: signing in", STAFF, PERSONAL, "account"),
    _col("app_user", "display_name", "工作人员姓名：页面和报表上署名", "Staff member's name: shown on pages and reports",
         STAFF, PERSONAL, "account"),
    _col("app_user", "role", "角色：能看什么、做什么", "Role: what they may see and do", STAFF, PERSONAL, "account"),
    _col("app_user", "password_hash", "网页登录密码的加盐哈希", "Salted hash of the web password", NOBODY, PERSONAL,
         "account"),
    _col("app_user", "digest_ha1", "手机登录（Digest）凭据", "Phone sign-in (Digest) credential", NOBODY, PERSONAL,
         "account"),
    _col("app_user", "token_hash", "手机令牌网址的哈希", "Hash of the phone's token URL", NOBODY, PERSONAL, "account"),
    _col("app_user", "active", "账户是否有效", "Whether the account is active", OFFICE, NOT_PERSONAL, "account"),
    _col("app_user", "created_at", "账户创建时间", "When the account was made", OFFICE, NOT_PERSONAL, "account"),
    *_technical("staff_session", "id", "key_hash", "user_id"),
    _col("staff_session", "created_at", "登录时间", "When signed in", NOBODY, PERSONAL, "expiry"),
    _col("staff_session", "expires_at", "会话到期时间", "When the session ends", NOBODY, NOT_PERSONAL, "expiry"),
    _col("auth_throttle", "key", "登录失败计数的对象：用户名或客户端地址", "Whose failed sign-ins are counted: a user name "
         "or a client address", NOBODY, PERSONAL, "expiry"),
    _col("auth_throttle", "failures", "失败次数", "How many failures", NOBODY, NOT_PERSONAL, "expiry"),
    _col("auth_throttle", "window_started", "计数开始时间", "When counting started", NOBODY, NOT_PERSONAL, "expiry"),
    _col("auth_throttle", "locked_until", "锁定到何时", "Locked until", NOBODY, NOT_PERSONAL, "expiry"),
    *_technical("collector_form_download", "user_id", "form_id"),
    _col("collector_form_download", "version", "手机上的问卷版本", "The form version on the phone", STAFF, NOT_PERSONAL,
         "latest"),
    _col("collector_form_download", "downloaded_at", "最近一次下载问卷的时间", "When the phone last fetched the form",
         STAFF, PERSONAL, "latest"),
    _col("collector_form_download", "user_agent", "手机型号与系统", "The phone's model and system", STAFF, PERSONAL,
         "latest"),
    # ---- the audit log ------------------------------------------------------------------------------------------
    *_technical("audit_event", "id", "user_id"),
    _col("audit_event", "at", "时间", "When", OFFICE, PERSONAL, "audit"),
    _col("audit_event", "action", "做了什么（查看、导出、决定……）", "What was done (read, export, decision …)", OFFICE,
         PERSONAL, "audit"),
    _col("audit_event", "area_path", "涉及的区域", "The area it covered", OFFICE, NOT_PERSONAL, "audit"),
    _col("audit_event", "subject", "涉及的记录编号（不是内容）", "The record's id (never its content)", OFFICE, PERSONAL,
         "audit"),
    _col("audit_event", "records", "读取了多少人的信息", "How many people's data were read", OFFICE, NOT_PERSONAL,
         "audit"),
    _col("audit_event", "reason", "工作人员写的理由（完整导出等）", "The staff member's reason (a full export …)", OFFICE,
         PERSONAL, "audit"),
    # ---- the questions of the forms (the answers are in the raw submission; what the register keeps is above) ----
    _q(BOTH, "start", "开始填写时间", "When filling started", STAFF, PERSONAL, "raw"),
    _q(BOTH, "end", "填写结束时间", "When filling ended", STAFF, PERSONAL, "raw"),
    _q(BOTH, "today", "填写日期", "The day it was filled", STAFF, PERSONAL, "raw"),
    _q(BOTH, "deviceid", "手机设备号：信息员手机监测", "The phone's device id: monitoring", STAFF, PERSONAL, "raw"),
    _q(BOTH, "username", "信息员用户名", "The collector's user name", STAFF, PERSONAL, "raw"),
    *_calculated(BOTH, "person_uuid", "household_uuid", "person_base_version"),
    _q(BOTH, "instance_name", "手机上表单的名称（户编号、户主或被访人姓名、日期）", "The filled form's name on the phone "
       "(household number, head's or person's name, day)", ALL, PERSONAL, "raw"),
    _q(BOTH, "person_name", "被访人姓名（从名单带出）", "The person's name (from the lists)", ALL, PERSONAL, "person"),
    _q(BOTH, "outcome", "访视结果", "Outcome of the visit", ALL, PERSONAL, "raw"),
    _q(BOTH, "services_given", "本次提供的服务", "Services given", ALL, SENSITIVE, "service"),
    _q(BOTH, "services_other", "其他服务", "Other service", ALL, SENSITIVE, "service"),
    _q(BOTH, "item", "药具品种（应本人要求）", "Supply item (on request)", ALL, SENSITIVE, "service"),
    _q(BOTH, "quantity", "药具数量", "Quantity", ALL, SENSITIVE, "service"),
    _q(BOTH, "notes", "备注", "Notes", ALL, SENSITIVE, "raw"),
    *_calculated(HV, "new_household_uuid", "household_base_version", "split_person_uuid",
                 "split_person_base_version", "new_person_uuid", "arriving_version"),
    _q(HV, "household_no", "户编号（从名单带出或新填）", "Household number (from the lists or entered)", ALL, PERSONAL,
       "household"),
    _q(HV, "head_name", "户主姓名（从名单带出）", "The head's name (from the lists)", ALL, PERSONAL, "person"),
    _q(HV, "members_now", "现有成员姓名（从名单带出，供核对）", "The members' names (from the lists, to check)", ALL,
       PERSONAL, "person"),
    _q(HV, "recording", "是否登记本次访视（完成且同意）", "Whether the visit is recorded (done and agreed)", ALL,
       NOT_PERSONAL, "raw"),
    _q(HV, "reason", "新成员的登记原因（出生、迁入、漏登、新户登记）", "Why a member is new (born, arrived, missed, a new "
       "household)", ALL, SENSITIVE, "person"),
    _q(HV, "mode", "已登记的户还是新户", "A registered household or a new one", ALL, NOT_PERSONAL, "raw"),
    _q(HV, "household", "选择的户", "The household chosen", ALL, PERSONAL, "household"),
    _q(HV, "new_household_no", "新户的户编号", "A new household's number", ALL, PERSONAL, "household"),
    _q(HV, "new_address", "新户的住址", "A new household's address", ALL, PERSONAL, "household"),
    _q(HV, "consent", "户主或家庭成员是否同意登记本次访视", "Whether the household agreed to record the visit", ALL,
       PERSONAL, "raw"),
    _q(HV, "splits_off", "是否分户", "Whether it split off", ALL, PERSONAL, "household"),
    _q(HV, "split_from", "从哪一户分出", "Which household it split from", ALL, PERSONAL, "household"),
    _q(HV, "split_people", "搬到新户的成员", "Who moved to the new household", ALL, PERSONAL, "person"),
    _q(HV, "changed_people", "情况有变化的成员", "Members whose situation changed", ALL, PERSONAL, "person"),
    _q(HV, "household_events", "本户是否有新成员", "New members in the household", ALL, PERSONAL, "person"),
    _q(HV, "change", "成员发生了什么（出生、死亡、迁移、结婚、更正……）", "What happened to the member (birth, death, "
       "move, marriage, correction …)", ALL, SENSITIVE, "person"),
    _q(HV, "to_household", "迁到本组哪一户", "To which household of the group", ALL, PERSONAL, "person"),
    _q(HV, "event_date", "事件日期（出生、死亡、迁移、结婚）", "The day it happened (birth, death, move, marriage)", ALL,
       SENSITIVE, "person"),
    _q(HV, "destination", "迁往哪里（本县的镇、村，或县外）", "Where to (a town or village of the county, or outside)",
       ALL, PERSONAL, "person"),
    _q(HV, "place", "去向或来处", "Where to or from", ALL, PERSONAL, "person"),
    _q(HV, "spouse_name", "配偶姓名", "Spouse's name", ALL, PERSONAL, "person"),
    _q(HV, "phone_now", "现在的手机号", "The phone now", ALL, PERSONAL, "person"),
    _q(HV, "name_corrected", "正确的姓名", "The name corrected", ALL, PERSONAL, "person"),
    _q(HV, "id_number_corrected", "正确的身份证号码", "The ID number corrected", ALL, SENSITIVE, "person"),
    _q(HV, "why_new", "新出生、迁入还是以前漏登", "Born, arrived or missed before", ALL, SENSITIVE, "person"),
    _q(HV, "arriving_person", "预计迁入的人", "An expected arrival", ALL, PERSONAL, "person"),
    _q(HV, "person_name_new", "新成员姓名", "A new member's name", ALL, PERSONAL, "person"),
    _q(HV, "id_number", "新成员身份证号码", "A new member's ID number", ALL, SENSITIVE, "person"),
    _q(HV, "sex", "性别", "Sex", ALL, PERSONAL, "person"),
    _q(HV, "birth_date", "出生日期", "Birth date", ALL, PERSONAL, "person"),
    _q(HV, "relationship", "与户主关系", "Relationship to the head", ALL, PERSONAL, "person"),
    _q(HV, "phone", "手机号", "Phone", ALL, PERSONAL, "person"),
    _q(HV, "residence", "现住地", "Residence", ALL, PERSONAL, "person"),
    _q(HV, "hukou", "户籍", "Hukou", ALL, PERSONAL, "person"),
    _q(HV, "origin", "从哪里迁入", "Where they came from", ALL, PERSONAL, "person"),
    _q(HV, "service_needs", "本户的服务需求", "The household's service needs", ALL, SENSITIVE, "service"),
    _q(HV, "followup_person", "需要产后或术后随访的人", "Who needs a follow-up after a birth or an operation", ALL,
       SENSITIVE, "service"),
    _q(HV, "followup_person_name", "需要随访的人（姓名）", "Who needs it (by name)", ALL, SENSITIVE, "service"),
    _q(HV, "followup_event_date", "分娩或手术日期", "Day of the birth or operation", ALL, SENSITIVE, "service"),
    _q(HV, "pregnant_person", "本人自愿告知怀孕", "The woman who chose to tell of a pregnancy", ALL, SENSITIVE,
       "service"),
    _q(HV, "pregnant_person_name", "本人姓名", "Her name", ALL, SENSITIVE, "service"),
    _q(HV, "pregnancy_consent", "本人同意登记（孕期保健指导）", "Her consent to record it (antenatal guidance)", ALL,
       SENSITIVE, "service"),
    _q(HV, "antenatal_referral", "是否转介做孕期检查", "Referral for antenatal care", ALL, SENSITIVE, "service"),
    _q(HV, "prepregnancy_names", "有意参加孕前检查的夫妇姓名", "The couple interested in the pre-pregnancy check", ALL,
       SENSITIVE, "service"),
    _q(HV, "prepregnancy_consent", "知情同意转介", "Informed consent to the referral", ALL, SENSITIVE, "service"),
    _q(HV, "supply_person", "谁要的药具", "Who asked for the supplies", ALL, SENSITIVE, "service"),
    _q(HV, "supply_person_name", "谁要的（姓名）", "Who asked (by name)", ALL, SENSITIVE, "service"),
    _q(HV, "given", "药具已当场发放", "Handed out on the spot", ALL, SENSITIVE, "service"),
    _q(HV, "benefit_kind", "扶助类别", "Benefit scheme", ALL, SENSITIVE, "service"),
    _q(HV, "support_person", "为谁申请扶助", "For whom support is asked", ALL, SENSITIVE, "service"),
    _q(HV, "support_person_name", "为谁申请（姓名）", "For whom (by name)", ALL, SENSITIVE, "service"),
    _q(HV, "support_details", "需要什么帮助", "What help is needed", ALL, SENSITIVE, "service"),
    _q(HV, "needs_text", "其他需求", "Other needs", ALL, SENSITIVE, "service"),
    _q(HV, "next_visit", "建议下次访视日期", "Next visit suggested", ALL, PERSONAL, "raw"),
    _q(HV, "location", "访视定位（可选）", "GPS point of the visit (optional)", STAFF, SENSITIVE, "location"),
    *_calculated(FU, "referral_item", "overdue_days", "days_left"),
    _q(FU, "due_type", "应随访的类型（从待随访名单带出）", "What is due (from the due list)", ALL, SENSITIVE, "service"),
    _q(FU, "due_since", "应随访起始日期", "Due since", ALL, SENSITIVE, "service"),
    _q(FU, "due_by", "应随访截止日期", "Due by", ALL, SENSITIVE, "service"),
    _q(FU, "due_item", "从待随访名单中选择", "Chosen from the due list", ALL, SENSITIVE, "service"),
    _q(FU, "followup_type", "随访类型（产后、术后、转介）", "Follow-up type (after a birth, an operation, a referral)",
       ALL, SENSITIVE, "service"),
    _q(FU, "referral_result", "本人是否去了转介的地方", "Whether the person went where referred", ALL, SENSITIVE,
       "service"),
    _q(FU, "referral", "是否需要转介", "Whether a referral is needed", ALL, SENSITIVE, "service"),
    _q(FU, "referral_purpose", "转介目的", "Purpose of the referral", ALL, SENSITIVE, "service"),
    _q(FU, "referral_place", "转介到哪里", "Where to", ALL, SENSITIVE, "service"),
    _q(FU, "referral_reason", "转介原因", "Why", ALL, SENSITIVE, "service"),
    _q(FU, "next_date", "下次随访日期", "Next follow-up", ALL, PERSONAL, "raw"),
)
"""Every stored field that is not in a table of NON_PERSONAL_TABLES: one entry each (a question asked in both forms
is one entry naming both)."""

NON_PERSONAL_TABLES: tuple[NonPersonalTable, ...] = (
    NonPersonalTable("area", ("id", "kind", "parent_id", "name", "full_name", "path", "created_at"),
                     "镇、村、组的名称和层级", "Towns, villages and groups: names and the tree"),
    NonPersonalTable("form", ("id", "xml_form_id", "title", "audience", "area_id", "state", "current_version_id",
                              "created_at"), "发布的问卷", "The published forms"),
    NonPersonalTable("form_version", ("id", "form_id", "version", "title", "xml", "md5", "sha256", "binary_paths",
                                      "media_names", "published_at"), "问卷的各个版本（题目，不含答案）",
                     "Each version of a form (the questions, no answers)"),
    NonPersonalTable("form_media", ("id", "form_version_id", "filename", "sha256", "md5", "size", "content_type"),
                     "问卷附带的固定文件（名单按需生成，不存这里）",
                     "Files published with a form (the phone lists are made on request, not kept here)"),
    NonPersonalTable("digest_nonce_use", ("nonce", "nc", "issued_at"),
                     "已用过的 Digest 随机数（防重放），不含用户，过期即删除",
                     "Digest nonces already used (against replays): no user named, deleted once expired"),
    NonPersonalTable("merge_queue", ("submission_id", "enqueued_at", "attempts", "last_error"),
                     "待合并的原始表单编号、重试次数和错误信息，合并后删除",
                     "Submissions waiting for the merge: ids, attempts, the last error; deleted once merged"),
    NonPersonalTable("report_run", ("id", "kind", "area_id", "month", "produced_at", "produced_by"),
                     "某区域月报的生成时间（下一份列出此后到达的访视）",
                     "When an area's monthly report was produced (the next one lists what arrived after it)"),
    NonPersonalTable("register_change", ("shard", "changes"),
                     "登记册的改动计数（只有计数，不含内容），首页统计据此判断是否需要重新统计",
                     "How many writes the register has had (counts only, no content): the home figures are counted "
                     "again when it changes"),
)
"""Tables that hold no personal data, with their columns and why."""


def column_keys() -> set[str]:
    """Every "table.column" the registry accounts for (entries and non-personal tables)."""
    keys = {key for field in FIELDS if not field.is_question for key in field.keys}
    return keys | {f"{table.name}.{column}" for table in NON_PERSONAL_TABLES for column in table.columns}


def question_keys() -> set[str]:
    """Every "form:question" the registry has an entry for."""
    return {key for field in FIELDS if field.is_question for key in field.keys}


# ---- docs/privacy.md -----------------------------------------------------------------------------------------

_REMOVES = {"person": ("人员及其全部记录", "the person and all their records"),
            "service_record": ("服务记录（人员仍在册）", "the service record (the person stays)"),
            "location": ("访视定位", "the visits' GPS points")}

_SENSITIVITY_CELLS = {SENSITIVE: "**敏感**", PERSONAL: "个人", NOT_PERSONAL: "—"}

_ID_EXAMPLE, _PHONE_EXAMPLE = "330102199001011234", "13812345678"


def _period(days: int) -> str:
    if days and days % DAYS_PER_YEAR == 0:
        return f"{days // DAYS_PER_YEAR} 年 years"
    return f"{days} 天 days"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _seen(roles: tuple[str, ...]) -> str:
    return "、".join(AUDIENCES[role][0] for role in roles) if roles else "—（仅系统）"


def _field_name(field: Field) -> str:
    if field.is_question:
        return f"`{field.name}`（{'、'.join(field.sources)}）"
    return f"`{field.sources[0]}.{field.name}`"


def _paragraph(zh: str, en: str) -> list[str]:
    """A Chinese paragraph, then its English."""
    return [zh, "", en, ""]


def _intro() -> list[str]:
    return [
        "# 个人信息清单与保护 Privacy: the field inventory", "",
        "> 本页由 `sync/field_inventory.py` 生成（`python -m sync.field_inventory > docs/privacy.md`），请勿手改。",
        "> Generated from `sync/field_inventory.py` (`python -m sync.field_inventory > docs/privacy.md`); do not edit "
        "by hand: tests/unit/test_field_inventory.py fails when this page differs from the registry, when a column "
        "or a form question has no entry, or when an entry names a field that is gone.", "",
        *_paragraph(
            "台账保存全县的户籍人口信息：姓名、居民身份证号码、手机号、出生、死亡、迁移、与健康有关的服务和访视定位。"
            "按照《个人信息保护法》（2021），每一项信息都要有明确的用途，只收集必要的信息，敏感个人信息要单独同意，"
            "保存期限限于用途所需，本人可以查阅、复制和更正。下面的清单列出系统保存的每一个字段：用途、谁能看到、"
            "是否敏感、保存多久。",
            "The register holds a county's household register: names, resident ID numbers, phones, births, deaths, "
            "moves, health-related services and the GPS points of visits. Following the Personal Information "
            "Protection Law (2021), every item has a purpose, only what is needed is collected, sensitive information "
            "needs its own consent, it is kept no longer than its purpose needs, and a person may see, copy and "
            "correct what is held about them. The inventory below lists every stored field: its purpose, who may see "
            "it, whether it is sensitive, how long it is kept."),
    ]


def _legend() -> list[str]:
    lines = ["## 谁能看到 Who may see a field", "",
             *_paragraph("每个角色只能看到自己区域内的信息（组、村、镇、县；`sync/access.py`）；工作人员每次查看人员信息"
                         "都记入审计日志。本人可以得到关于自己的全部信息的副本（见下文）。",
                         "Each role sees only its own area (group, village, town, county; `sync/access.py`); every "
                         "staff read of a person is written to the audit log. The person may have a copy of "
                         "everything held about them (below)."),
             "| 角色 Role | 能看到 Sees |", "|---|---|"]
    for short_zh, label_zh, short_en, label_en in AUDIENCES.values():
        lines.append(f"| {short_zh} {short_en} | {label_zh}<br>{label_en} |")
    lines += ["| —（仅系统） system only | 不在任何页面或导出中显示<br>shown on no page, in no export |", "",
              "## 敏感程度 Sensitivity", "", "| 标记 Mark | 含义 Meaning |", "|---|---|"]
    for code, (zh, en) in SENSITIVITIES.items():
        lines.append(f"| {_SENSITIVITY_CELLS[code]} | {zh} {en} |")
    return lines + ["", *_paragraph(
        "敏感个人信息按《个人信息保护法》第二十八条：身份证件号码、医疗健康信息（怀孕、分娩、手术、药具、转介）、"
        "行踪（访视定位）；不满十四周岁未成年人的全部个人信息也属敏感个人信息，台账对每个人的信息同样谨慎对待。",
        "Sensitive as the law's article 28 defines it: ID numbers, health information (pregnancy, births, "
        "operations, supplies, referrals), whereabouts (GPS points); all personal information of a child under 14 "
        "is sensitive too, and the register treats every person's fields with the same care.")]


def _retention() -> list[str]:
    lines = ["## 保存期限 How long fields are kept", "", *_paragraph(
        "清除规则（`sync.privacy.RETENTION_RULES`）：期限从事件发生之日起算，按天配置，不得短于最低期限；"
        "清除任务先试运行（按区域统计将清除的内容），再在一个事务中清除派生记录和原始表单中的个人内容，"
        "保留汇总报表所需的数字（已归档的月报不变）；重建台账不会恢复被清除的人员；每次清除都记入审计日志"
        "（谁、何时、多少、哪条规则），不记被清除的内容。详见 [retention.md](retention.md)。",
        "The retention rules: each period counts from the event, set in days, never under its minimum; the purge "
        "runs dry first (what would go, per area), then removes the derived records and the personal content of the "
        "raw submissions in one transaction, keeping what aggregate reports need (archived monthly reports stay as "
        "they were); a rebuild never brings purged people back; every purge is audited (who, when, how many, which "
        "rule), never the purged content. Details: [retention.md](retention.md)."),
        "| 规则 Rule | 默认期限 Default | 最低 Minimum | 配置项 Setting | 清除 Removes |", "|---|---|---|---|---|"]
    for rule in RETENTION_RULES.values():
        zh, en = _REMOVES[rule.removes]
        lines.append(f"| `{rule.name}` {rule.label_zh}<br>{rule.label_en} | {_period(rule.default_days)} | "
                     f"{_period(rule.minimum_days)} | `{rule.config_key}` | {zh}<br>{en} |")
    lines += ["", "清单中“保存期限”一栏的取值 The values of the inventory's “kept” column:", "",
              "| 取值 Value | 含义 Meaning | 清除规则 Rules |", "|---|---|---|"]
    for keeping in KEPT.values():
        rules = ", ".join(f"`{rule}`" for rule in keeping.rules) or "—"
        lines.append(f"| {keeping.short_zh} `{keeping.name}` | {keeping.label_zh}<br>{keeping.label_en} | {rules} |")
    return lines + [""]


def _protections() -> list[str]:
    masked_id, masked_phone = mask_id_number(_ID_EXAMPLE), mask_phone(_PHONE_EXAMPLE)
    items = ", ".join(f"`{kind}`" for kind in CONSENT_ITEM_KINDS)
    anchors = ", ".join(f"`{kind}`" for kind in CONSENT_ANCHOR_KINDS)
    return [
        "## 脱敏显示 Masked by default", "", *_paragraph(
            f"列表、查询结果、导出和信息员手机上的名单中，身份证号码和手机号默认脱敏显示（{_ID_EXAMPLE} → {masked_id}，"
            f"{_PHONE_EXAMPLE} → {masked_phone}；清单中标 🔒 的字段，以及字段历史、冲突和复核结果中这两个字段的值）。"
            "人员页面显示完整值，每次查看都记入审计日志；导出完整值须由用户选择并填写理由，导出和理由都记入审计日志，"
            "没有理由不导出。",
            f"Lists, search results, exports and the collector's phone lists show ID numbers and phones masked "
            f"({_ID_EXAMPLE} → {masked_id}, {_PHONE_EXAMPLE} → {masked_phone}; the fields marked 🔒 below, and these "
            "two fields' values in field histories, conflicts and re-check findings). The person page shows them in "
            "full, and its read is audited; an export shows them in full only when the user asks for it and writes "
            "why (audited, with the reason); without a reason nothing is exported."),
        "## 同意 Consent", "", *_paragraph(
            f"孕期保健指导和免费孕前优生健康检查（服务项目 {items}，随访起算事件 {anchors}）只在问卷中本人回答同意时"
            "才登记。本人可以撤回同意（由村专干或镇计生办记录）：此后这些记录在所有页面和导出中隐藏，并在下一次清除时"
            "删除（规则 `consent_withdrawn`）。",
            f"Antenatal guidance and the free pre-pregnancy check (service items {items}, schedule anchors "
            f"{anchors}) are recorded only when the form's consent answer is yes. A person may withdraw consent "
            "(recorded by the cadre or the town office): those records are then hidden from every page and export "
            "and purged on the next run (rule `consent_withdrawn`)."),
        "## 本人信息副本 A person's own copy", "", *_paragraph(
            "本人提出申请时，村专干或镇计生办可生成一份中文的个人信息副本（可打印的 PDF 或 xlsx），包括台账登记信息、"
            "访视、服务、转介、扶助申请，以及谁在何时查看过其信息；申请和交付都有记录并记入审计日志。",
            "On the person's request a village cadre or the town office produces, in Chinese, everything held about "
            "them (register entries, visits, services, referrals, requests, and who read their record when) as a "
            "printable PDF or xlsx; the request and the hand-over are recorded and audited."),
        "## 异常查阅 Unusual reading", "", *_paragraph(
            "一名工作人员在一小时内查看的不同人员超过设定数量（`TAIZHANG_UNUSUAL_READS_PER_HOUR`）时，镇计生办首页会"
            "列出此人和所查看的人员；导出个人信息的记录（谁、何时、是否完整、理由）也列在那里。",
            "A staff member who opens more than a set number of different people's records in an hour "
            "(`TAIZHANG_UNUSUAL_READS_PER_HOUR`) is listed on the town office's dashboard with the people opened; "
            "exports of personal data (who, when, full or masked, the reason) are listed there too."),
        "## 存储安全 At rest", "", *_paragraph(
            "备份用配置的密钥加密，恢复时用同一密钥（[backup.md](backup.md)）；生产环境的 TLS 终止和数据库自身的加密"
            "选项见 [deploy.md](deploy.md)。",
            "Backups are encrypted with a configured key, which the restore uses too ([backup.md](backup.md)); TLS "
            "termination and the database's own encryption options are in the production guide "
            "([deploy.md](deploy.md))."),
    ]


def _technical_row(fields: list[Field]) -> str:
    first = fields[0]
    where = (f"`{first.sources[0]}`" if not first.is_question else "、".join(first.sources))
    names = ", ".join(f"`{field.name}`" for field in fields)
    return (f"| {where}: {names} | {_cell(first.purpose_zh)}<br>{_cell(first.purpose_en)} | {_seen(first.seen_by)} | "
            f"{_SENSITIVITY_CELLS[first.sensitivity]} | {KEPT[first.kept].short_zh} |")


def _inventory() -> list[str]:
    lines = ["## 字段清单 The inventory", "", *_paragraph(
        "每个表的每一列、两份问卷的每一道题（分组、重复组和提示除外）各一行；技术字段（编号、版本、关联、校验）和手机"
        "计算的题目按表或问卷合为一行。问卷的答案保存在原始表单中，台账从中得出上面各表的记录。",
        "One row per column of every table and per question of the two forms (groups, repeats and notes aside); "
        "technical fields (ids, versions, links, checksums) and the questions the phone computes share one row per "
        "table or form. A form's answers are kept in the raw submission, which the register's tables are derived "
        "from.")]
    header = ["| 字段 Field | 用途 Purpose | 谁能看到 Who sees | 敏感 Sensitive | 保存期限 Kept |", "|---|---|---|---|---|"]
    for section, (zh, en) in SECTIONS.items():
        lines += [f"### {zh} {en}", "", *header]
        technical: dict[tuple[str, ...], list[Field]] = {}
        for field in FIELDS:
            if field.section != section:
                continue
            if field.technical:
                if field.sources not in technical:
                    technical[field.sources] = []
                    lines.append(field.sources)   # where the table's (or form's) technical row goes
                technical[field.sources].append(field)
                continue
            lock = " 🔒" if field.masked else ""
            lines.append(f"| {_field_name(field)}{lock} | {_cell(field.purpose_zh)}<br>{_cell(field.purpose_en)} | "
                         f"{_seen(field.seen_by)} | {_SENSITIVITY_CELLS[field.sensitivity]} | "
                         f"{KEPT[field.kept].short_zh} |")
        lines = [_technical_row(technical[line]) if isinstance(line, tuple) else line for line in lines]
        lines.append("")
    lines += ["### 不含个人信息的表 Tables without personal data", "", "| 表 Table | 列 Columns | 原因 Why |",
              "|---|---|---|"]
    for table in NON_PERSONAL_TABLES:
        lines.append(f"| `{table.name}` | {', '.join(table.columns)} | {table.reason_zh}<br>{table.reason_en} |")
    return lines + [""]


def render_markdown() -> str:
    """docs/privacy.md: the intro, who sees, sensitivity, retention, the protections and the inventory."""
    return "\n".join([*_intro(), *_legend(), *_retention(), *_protections(), *_inventory()])


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
