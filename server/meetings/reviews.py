"""The quarterly and yearly village reviews (村季度/年度考评) of a town or a village: every indicator per village for
the period and month by month (server.indicators), as a workbook (reports/village_review.py); the town office files
one in the archive, byte for byte as it was handed over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.village_review import ReviewIndicator, ReviewMonth, ReviewRow, VillageReview, build_village_review
from server import clock
from server.archive.models import ArchivedReport
from server.archive.operations import keep
from server.areas.models import Area
from server.areas.operations import staff_area
from server.audit import queries as audit
from server.exports.downloads import file_name
from server.indicators.operations import IndicatorTable, area_indicators
from server.principal import Principal
from sync.access import TOWN_OFFICE_ROLES
from sync.errors import BadRequest, Forbidden
from sync.indicators import INDICATORS, months_in, parse_period, period_code
from sync.periods import Period, month_of

__all__ = ["REVIEW_KINDS", "ProducedReview", "village_review", "file_village_review"]

REFUSAL = "village reviews are for village cadres and the town office"
# A review's period kind → (archived kind, its name in a file name, in ASCII, its title).
REVIEW_KINDS = {"quarter": ("village_review_quarter", "村季度考评表", "village-review-quarter",
                            "村季度考评 Village quarterly review"),
                "year": ("village_review_year", "村年度考评表", "village-review-year",
                         "村年度考评 Village yearly review")}


@dataclass(frozen=True)
class ProducedReview:
    area: Area
    period: Period
    content: bytes
    figures: dict           # what it shows, JSON-able: per village (and 合计) each indicator's [numerator, denominator]

    @property
    def area_full_name(self) -> str:
        return self.area.full_name

    @property
    def period_code(self) -> str:
        return period_code(self.period)

    @property
    def report_name(self) -> str:
        return REVIEW_KINDS[self.period.kind][1]

    @property
    def ascii_name(self) -> str:
        return REVIEW_KINDS[self.period.kind][2]

    @property
    def file_name(self) -> str:
        return file_name(self.area.full_name, self.period_code, self.report_name)


def _indicators() -> tuple[ReviewIndicator, ...]:
    return tuple(ReviewIndicator(f"{item.label_zh} {item.label_en}", item.unit, f"{item.formula_zh}\n{item.formula_en}")
                 for item in INDICATORS.values())


def _rows(table: IndicatorTable) -> tuple[tuple[ReviewRow, ...], ReviewRow]:
    """The villages' rows (a town's villages; a village alone) and the total row."""
    def row(name: str, values) -> ReviewRow:
        return ReviewRow(name, tuple(values[code] for code in INDICATORS))

    if table.unit_level == "village":
        return (tuple(row(line.area.full_name.rsplit("/", 1)[-1], line.values) for line in table.rows),
                row("合计 Total", table.total.values))
    village = row(table.area.full_name.rsplit("/", 1)[-1], table.total.values)
    return (village,), row("合计 Total", table.total.values)


def _review_area(principal: Principal, area_full_name: str) -> Area:
    area = staff_area(principal, area_full_name, refusal=REFUSAL)
    if area.kind not in ("town", "village"):
        raise BadRequest("a village review is of a town or a village")
    return area


def _period(text: str, today: dt.date) -> Period:
    period = parse_period(text)
    if period.kind not in REVIEW_KINDS:
        raise BadRequest("a village review is of a quarter (2026-Q4) or a year (2026)")
    if period.start > today:
        raise BadRequest("a village review of a period that has not begun")
    return period


def _figures(rows: tuple[ReviewRow, ...], total: ReviewRow) -> dict:
    return {line.name: {code: [figure.numerator, figure.denominator] if figure.applies else None
                        for code, figure in zip(INDICATORS, line.figures)} for line in (*rows, total)}


def _produce(principal: Principal, area_full_name: str, period_text: str, now: dt.datetime) -> ProducedReview:
    area = _review_area(principal, area_full_name)
    today = clock.date_of(now)
    period = _period(period_text, today)
    table = area_indicators(principal, area.full_name, period)
    rows, total = _rows(table)
    months = []
    for month in months_in(period):
        if month > today:
            break
        month_rows, month_total = _rows(area_indicators(principal, area.full_name, month_of(month)))
        months.append(ReviewMonth(f"{month.year}年{month.month}月 ({month:%Y-%m})", month_rows, month_total))
    kind = REVIEW_KINDS[period.kind]
    content = build_village_review(VillageReview(
        area=area.full_name.replace("/", " › "), title=kind[3],
        period_label=f"{period.label('zh')} ({period_code(period)})", as_of=table.as_of,
        produced_at=clock.wall_time(now), indicators=_indicators(), rows=rows, total=total, months=tuple(months)))
    return ProducedReview(area, period, content, _figures(rows, total))


def village_review(principal: Principal, area_full_name: str, period_text: str, *,
                   now: dt.datetime | None = None) -> ProducedReview:
    """The review of a town (its villages) or a village for a quarter or a year that has begun, as the register
    stands now; staff inside their own area (the download audited)."""
    review = _produce(principal, area_full_name, period_text, now or clock.now())
    audit.record(principal.id, "export.village_review", area_path=review.area.path, subject=review.period_code)
    return review


def file_village_review(principal: Principal, area_full_name: str, period_text: str, *,
                        now: dt.datetime | None = None) -> ArchivedReport:
    """The town office files a review in the archive as it is now (the next version of its area and period): the
    bytes kept are the bytes a download at this moment gives."""
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden("the town office files the village reviews")
    review = _produce(principal, area_full_name, period_text, now or clock.now())
    return keep(principal, REVIEW_KINDS[review.period.kind][0], review.area, review.period.start, review.period.end,
                review.file_name, review.content, review.figures)
