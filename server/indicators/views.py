"""The indicators over HTTP: GET /indicators (a page: area and period chosen) and GET /api/v1/indicators (JSON, for
a staff session or Digest credentials, as /api/v1/due)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import current_staff, require_staff
from server.extensions import csrf, db
from server.indicators.operations import IndicatorRow, IndicatorTable, area_indicators
from server.indicators.schemas import IndicatorQuery, IndicatorTableOut
from server.openrosa.auth import authenticate
from server.registers.operations import area_choices
from server.replica import replica_reads
from sync.errors import BadRequest, Forbidden, NotFound
from sync.indicators import INDICATORS, KEY_INDICATORS, parse_period, period_code
from sync.periods import Period, month_of

bp = Blueprint("indicators", __name__, template_folder="templates")

RATES = tuple(code for code, indicator in INDICATORS.items() if indicator.unit == "rate")
COUNTS = tuple(code for code, indicator in INDICATORS.items() if indicator.unit == "count")


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def _last_month() -> Period:
    return month_of(clock.today()).previous()


def _table(principal) -> IndicatorTable:
    """The table the request asks for (area and period; last month by default)."""
    query = IndicatorQuery().load({name: request.args[name] for name in ("area", "period") if request.args.get(name)})
    period = parse_period(query["period"]) if query["period"] else _last_month()
    with replica_reads():  # figures only: read on the replica when there is one (the principal was read before)
        return area_indicators(principal, query["area"], period)


def _row_out(row: IndicatorRow) -> dict:
    return dict(area=row.full_name, level=row.level, supplies=dict(row.tally.supplies),
                indicators={code: dict(applies=value.applies,
                                       value=value.rate if value.denominator is not None else value.count,
                                       numerator=value.numerator if value.applies else None,
                                       denominator=value.denominator)
                            for code, value in row.values.items()})


@bp.get("/api/v1/indicators")
def indicators_json():
    """For a signed-in browser session, or a program with Digest credentials; reads nothing it writes."""
    table = _table(current_staff() or authenticate(None))
    return jsonify(IndicatorTableOut().dump(dict(
        area=table.area.full_name if table.area else None, level=table.level, unit_level=table.unit_level,
        period=dict(code=period_code(table.period), kind=table.period.kind, start=table.period.start,
                    end=table.period.end),
        as_of=table.as_of, counted_at=table.counted_at, fresh=table.fresh,
        indicators=[dict(code=code, label_zh=indicator.label_zh, label_en=indicator.label_en, unit=indicator.unit,
                         formula_zh=indicator.formula_zh, formula_en=indicator.formula_en,
                         levels=sorted(indicator.levels, key=["group", "village", "town", "county"].index))
                    for code, indicator in INDICATORS.items()],
        supply_items=[dict(code=item.code, label_zh=item.label_zh, label_en=item.label_en)
                      for item in table.supply_items],
        rows=[_row_out(row) for row in table.rows], total=_row_out(table.total))))


@bp.get("/indicators")
def indicators_page():
    """The indicators of an area the reader chooses from a menu of theirs, for a month, quarter or year; a bad
    period, an area outside theirs or none such is said on the page itself."""
    csrf.protect()
    principal = require_staff()
    choices = area_choices(principal, request.args.get("area", ""))
    asked_area, asked_period = request.args.get("area", ""), request.args.get("period", "")
    page = dict(choices=choices, own_path=principal.area_path, everywhere=principal.area_path is None,
                selected="" if any(area.full_name == asked_area and area.path == principal.area_path
                                   for area in choices) else asked_area,
                period_text=asked_period or period_code(_last_month()), language=_language(),
                indicators=INDICATORS, rates=RATES, counts=COUNTS, key_indicators=KEY_INDICATORS)

    def refused(message: str, status: int):
        db.session.rollback()
        return render_template("indicators/indicators.html", table=None, messages=[message], **page), status

    try:
        table = _table(principal)
    except Forbidden:
        return refused(_("That area is outside yours: choose one from the list."), 403)
    except NotFound:
        return refused(_("There is no such area: choose one from the list."), 404)
    except BadRequest:
        return refused(_("Write the period as a month (2026-11), a quarter (2026-Q4) or a year (2026)."), 400)
    page["period_text"] = period_code(table.period)
    return render_template("indicators/indicators.html", table=table, messages=[], **page)
