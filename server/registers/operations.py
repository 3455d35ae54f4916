"""The named registers as staff read them: an area of theirs and a period, a page of rows or the whole register as a workbook; every read audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.registers import RegisterSheet, build_register_workbook
from server import clock
from server.audit import queries as audit
from server.forms.queries import form_labels
from server.principal import Principal
from server.registers import queries
from server.registers.queries import AreaName
from server.services.queries import PlacedItem
from sync.access import STAFF_ROLES, area_contains
from sync.errors import BadRequest, Forbidden, NotFound
from sync.periods import month_of
from sync.privacy import export_action, export_reason
from sync.registers import (
    REGISTERS,
    AwayRow,
    EventRow,
    FollowupRow,
    ItemRow,
    Register,
    Value,
    Words,
    register_named,
)

__all__ = ["PAGE_SIZE", "EVERYONE_NOW", "Filters", "RegisterRow", "RegisterPage", "registers", "register",
           "area_choices", "filters_for", "register_page", "register_workbook"]

PAGE_SIZE = 50
EVERYONE_NOW = ("working_away",)
"""Sources that list everyone of an area as they stand now (not a period's events): everywhere, a county's
hundreds of thousands, they are shown a town at a time (the county picks a town first; its workbook has them all)."""
_REFUSAL = "the registers are for village cadres and the town office"


def _staff(principal: Principal) -> None:
    if principal.role not in STAFF_ROLES:
        raise Forbidden(_REFUSAL)


def registers(principal: Principal) -> list[Register]:
    """Every named register, in the registry's order."""
    _staff(principal)
    return list(REGISTERS.values())


def register(name: str) -> Register:
    """A register by name (NotFound for a name no register has)."""
    found = register_named(name)
    if found is None:
        raise NotFound(f"register {name[:40]!r}")
    return found


def area_choices(principal: Principal, asked: int | str | None = None) -> list[AreaName]:
    """The areas a reader may ask a register (the due list, the indicators) of, by name: their own, the towns and
    villages in it, and the groups of one village, theirs or that of the area asked for (by id or full name) — a
    county's menu offers its villages, then a village's groups, not six thousand groups at once."""
    _staff(principal)
    area = (queries.area_by_id(asked) if isinstance(asked, int) else
            queries.area_by_name(asked) if asked else None)
    path = area.path if area is not None and area_contains(principal.area_path, area.path) else principal.area_path
    ids = (path or "").strip("/").split("/")
    return queries.area_menu(principal.area_path, f"/{ids[0]}/{ids[1]}/" if len(ids) >= 2 else None)


@dataclass(frozen=True)
class Filters:
    area: AreaName | None           # None: everywhere (a county administrator's default)
    since: dt.date
    until: dt.date
    open_only: bool = False

    @property
    def area_path(self) -> str | None:
        return None if self.area is None else self.area.path


def filters_for(principal: Principal, *, area_id: int | None = None, since: dt.date | None = None,
                until: dt.date | None = None, open_only: bool = False) -> Filters:
    """The filters a reader asked for, completed: their own area by default (an area outside theirs: Forbidden),
    and the current month in the town's calendar (a period given from one end only runs to the end of that
    month, or from its start)."""
    _staff(principal)
    if area_id is None:
        area = None if principal.area_path is None else queries.area_by_path(principal.area_path)
    else:
        area = queries.area_by_id(area_id)
        if area is None:
            raise NotFound(f"area {area_id}")
        if not area_contains(principal.area_path, area.path):
            raise Forbidden("this area is outside yours")
    if since is None:
        since = month_of(until or clock.today()).start
    if until is None:
        until = month_of(since).end
    if since > until:
        raise BadRequest("the period ends before it starts")
    return Filters(area, since, until, open_only)


@dataclass(frozen=True)
class RegisterRow:
    values: tuple[Value, ...]
    submission_id: int | None       # the visit that recorded it (None: none did, e.g. a decision)


class _Labels:
    """The words of each form version a register's rows were filled in, looked up once per version."""

    def __init__(self, language: str, full: bool = False) -> None:
        self.language = language
        self.full = full
        self.versions: dict[tuple[str, str | None], Words] = {}

    def of(self, form: str | None, version: str | None) -> Words:
        if form is None:
            return Words(self.language, full=self.full)
        if (form, version) not in self.versions:
            self.versions[(form, version)] = Words(self.language, form_labels(form, version), full=self.full)
        return self.versions[(form, version)]


class _ItemsAsTheyStand:
    """Service items of a register for the filters when which of them belong is known only as they stand (open
    referrals; codes as corrected), in the Listing's shape. By code: the keys of the items written with the
    register's codes or recoded since are read, the recoded ones placed to read their code as it stands, and a
    page places its own items only. Open referrals: all placed (whether one is open is its state)."""

    def __init__(self, chosen: Register, filters: Filters) -> None:
        source, self.items = chosen.source, None
        if chosen.open_filter and filters.open_only:
            self.items = [item for item in queries.service_items(filters.area_path, source.kinds, filters.since,
                                                                 filters.until, source.codes, or_recoded=True).rows()
                          if (source.codes is None or item.item.code in source.codes) and item.state.is_open]
            return
        found = queries.service_item_keys(filters.area_path, source.kinds, filters.since, filters.until, source.codes)
        recoded = {item.key: item.item.code
                   for item in queries.service_items_by_key(key.key for key in found if key.recoded)}
        self.keys = [key.key for key in found if (recoded[key.key] if key.recoded else key.code) in source.codes]

    def count(self) -> int:
        return len(self.items if self.items is not None else self.keys)

    def rows(self, offset: int = 0, limit: int | None = None) -> list[PlacedItem]:
        end = None if limit is None else offset + limit
        return self.items[offset:end] if self.items is not None else queries.service_items_by_key(self.keys[offset:end])


def _listing(chosen: Register, filters: Filters):
    """What a register reads for the filters: a queries.Listing, or the service items."""
    source = chosen.source
    if source.reads == "life_events":
        return queries.life_events(filters.area_path, source.kinds, filters.since, filters.until)
    if source.reads == "working_away":
        return queries.working_away(filters.area_path, filters.since, filters.until)
    if source.reads == "followups":
        return queries.followup_visits(filters.area_path, source.kinds, filters.since, filters.until)
    if source.codes is None and not (chosen.open_filter and filters.open_only):
        return queries.service_items(filters.area_path, source.kinds, filters.since, filters.until)
    return _ItemsAsTheyStand(chosen, filters)


def _register_rows(chosen: Register, filters: Filters, records: list, language: str,
                   full: bool = False) -> list[RegisterRow]:
    """Source records (a stretch of the listing) as the register's rows (ID numbers and phones masked unless
    `full`)."""
    source, labels = chosen.source, _Labels(language, full)
    if source.reads == "life_events":
        return [RegisterRow(chosen.row(EventRow(
                    kind=row.kind, event_date=row.event_date, person_name=row.person_name, village=row.village,
                    group=row.group, household_no=row.household_no, submission_id=row.submission_id,
                    visit_date=row.visit_date, place=row.place, spouse_name=row.spouse_name, sex=row.sex,
                    birth_date=row.birth_date, phone=row.phone, address=row.address, residence=row.residence,
                    origin=row.origin, destination=row.destination),
                    labels.of(None, None)), row.submission_id) for row in records]
    if source.reads == "working_away":
        return [RegisterRow(chosen.row(AwayRow(
                    person_name=row.person_name, village=row.village, group=row.group, household_no=row.household_no,
                    submission_id=row.submission_id, residence=row.residence, left_on=row.left_on,
                    destination=row.destination, sex=row.sex, birth_date=row.birth_date, phone=row.phone),
                    labels.of(None, None)), row.submission_id) for row in records]
    if source.reads == "followups":
        services = queries.services_given(row.submission_id for row in records)
        return [RegisterRow(chosen.row(FollowupRow(
                    followup_type=row.followup_type, outcome=row.outcome, person_name=row.person_name,
                    village=row.village, group=row.group, household_no=row.household_no,
                    submission_id=row.submission_id, visit_date=row.visit_date,
                    services=tuple(services.get(row.submission_id, ())), next_visit=row.next_visit,
                    collector=row.collector), labels.of("followup", row.form_version)), row.submission_id)
                for row in records]
    return _item_rows(chosen, filters, records, labels)


def _item_rows(chosen: Register, filters: Filters, placed: list[PlacedItem], labels: _Labels) -> list[RegisterRow]:
    referrals: dict[str, PlacedItem] = {}
    if "prepregnancy_check" in chosen.source.kinds:   # whether the check was done is its referral's result
        referrals = {item.key: item for item in queries.service_items(
            filters.area_path, ("referral",), filters.since, filters.until, codes=("prepregnancy_check",)).rows()}
    names = queries.group_names(filters.area_path, (item.group_id for item in placed))
    rows = []
    for item in placed:
        stored, state = item.item, item.state
        result, result_at = state.result, state.result_at
        if stored.kind == "prepregnancy_check":
            referral = referrals.get(stored.refers_to or "")
            result, result_at = (referral.state.result, referral.state.result_at) if referral else (None, None)
        named = names[item.group_id]
        row = ItemRow(kind=stored.kind, person_name=item.person_name, village=named.village, group=named.group,
                      household_no=item.household_no, submission_id=item.submission_id, visit_date=item.visit_date,
                      code=stored.code, quantity=stored.quantity, quantity_text=stored.quantity_text,
                      given=stored.given, place=stored.place, text=stored.text, detail=stored.detail,
                      consent=stored.consent, referred=stored.refers_to is not None, problems=stored.problems,
                      result=result, result_on=clock.date_of(result_at) if result_at else None,
                      support=dict(state.support))
        words = labels.of(item.form, item.form_version)
        rows.append(RegisterRow(chosen.row(row, words), item.submission_id))
    return rows


@dataclass(frozen=True)
class RegisterPage:
    register: Register
    filters: Filters
    rows: list[RegisterRow]         # this page's
    total: int
    page: int                       # 1, 2, … (a page past the last shows the last)
    pages: int
    town_first: bool = False        # a register of everyone now asked of everywhere: nothing read, a town to pick

    @property
    def first(self) -> int:
        """The number of the first row shown (1-based; 0 when none)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _audit(principal: Principal, action: str, chosen: Register, filters: Filters, records: int,
           reason: str | None = None) -> None:
    audit.record(principal.id, action, area_path=filters.area_path, records=records, reason=reason,
                 subject=f"{chosen.name} {filters.since:%Y-%m-%d}..{filters.until:%Y-%m-%d}")


def register_page(principal: Principal, chosen: Register, filters: Filters, *, page: int = 1,
                  language: str = "zh") -> RegisterPage:
    """One page (PAGE_SIZE rows) of a register for the filters (from filters_for: the reader's area)."""
    _staff(principal)
    if filters.area is None and chosen.source.reads in EVERYONE_NOW:
        return RegisterPage(chosen, filters, [], 0, 1, 1, town_first=True)
    listing = _listing(chosen, filters)
    total = listing.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = _register_rows(chosen, filters, listing.rows((page - 1) * PAGE_SIZE, PAGE_SIZE), language)
    _audit(principal, "registers.read", chosen, filters, len(shown))
    return RegisterPage(chosen, filters, shown, total, page, pages)


def register_workbook(principal: Principal, chosen: Register, filters: Filters, *, language: str = "zh",
                      now: dt.datetime | None = None, full: bool = False, reason: str | None = None) -> bytes:
    """The whole register for the filters as an xlsx workbook, in the reader's language; ID numbers and phones
    masked unless `full`, which needs a `reason` (audited with it; none: ExportReasonRequired, nothing made)."""
    _staff(principal)
    reason = export_reason(full, reason)
    rows = _register_rows(chosen, filters, _listing(chosen, filters).rows(), language, full)
    words = Words(language)
    described = [(words.say("地区", "Area"), filters.area.full_name if filters.area else words.say("全部", "All")),
                 (words.say("期间", "Period"), words.say(f"{filters.since:%Y-%m-%d} 至 {filters.until:%Y-%m-%d}",
                                                       f"{filters.since:%Y-%m-%d} to {filters.until:%Y-%m-%d}"))]
    if filters.open_only:
        described.append((words.say("只列", "Only"), words.say("未完成的转介", "open referrals")))
    content = build_register_workbook(RegisterSheet(
        label=chosen.label(language), area=filters.area.full_name if filters.area else "",
        language=language, filters=tuple(described), produced_at=clock.wall_time(now or clock.now()),
        columns=chosen.columns, rows=[row.values for row in rows]))
    _audit(principal, export_action("registers.export", full), chosen, filters, len(rows), reason)
    return content
