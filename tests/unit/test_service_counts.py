"""The town's monthly service counts on plain rows: visits by outcome, services, supplies (given, not given, odd
quantities), referrals made, closed and open, support requests; the summary's sections in words."""

from __future__ import annotations

import datetime as dt

from sync.form_labels import FormLabels
from sync.service_counts import (
    CLOSED_REFERRALS,
    NOT_LISTED,
    NOT_STATED,
    ChoiceWords,
    ItemRow,
    ServiceCounts,
    SummaryTable,
    SupplyCount,
    VisitRow,
    combined,
    service_counts,
    summary_tables,
)
from sync.services import CLOSING_RESULTS

D = dt.date
NOVEMBER = D(2026, 11, 1)

VISITS = [
    VisitRow("东村", D(2026, 11, 3), "completed"),
    VisitRow("东村", D(2026, 11, 30), "completed"),
    VisitRow("东村", D(2026, 11, 12), "nobody_home"),
    VisitRow("东村", D(2026, 10, 31), "completed"),        # October
    VisitRow("东村", D(2026, 12, 1), "refused"),           # December
    VisitRow("东村", None, "completed"),                   # no date: in no month
    VisitRow("西村", D(2026, 11, 5), "refused"),
    VisitRow("西村", D(2026, 11, 6), "moved_away"),
]

ITEMS = [
    ItemRow("东村", "service", "health_guidance", D(2026, 11, 3)),
    ItemRow("东村", "service", "health_guidance", D(2026, 11, 30)),
    ItemRow("东村", "service", "other", D(2026, 11, 30)),
    ItemRow("东村", "service", "supplies", D(2026, 11, 30)),          # the supplies are counted as items
    ItemRow("东村", "service", "health_guidance", D(2026, 10, 30)),   # October
    ItemRow("东村", "supply", "folic_acid", D(2026, 11, 3), quantity=3, given=True),
    ItemRow("东村", "supply", "folic_acid", D(2026, 11, 30), quantity=2, given=True),
    ItemRow("东村", "supply", "condoms", D(2026, 11, 30), quantity=5000, given=True, problems=("quantity_absurd",)),
    ItemRow("东村", "supply", "condoms", D(2026, 11, 30), quantity=10, given=False),   # requested, not given
    ItemRow("东村", "supply", "condoms", D(2026, 11, 3), quantity=None, given=True,
            problems=("quantity_not_a_number",)),
    ItemRow("东村", "supply", "folic_acid", D(2026, 12, 2), quantity=7, given=True),  # December
    # Referrals: made in November and closed by a cadre in November; made in October, closed in November by a
    # follow-up; made in November, declined in December (open at November's end); made in November, not attended
    # (still open); made in September, attended in October (neither made nor closed in November, not open).
    ItemRow("东村", "referral", None, D(2026, 11, 3), result="attended", result_on=D(2026, 11, 20)),
    ItemRow("东村", "referral", "health_centre", D(2026, 10, 25), result="declined", result_on=D(2026, 11, 2)),
    ItemRow("西村", "referral", "antenatal_guidance", D(2026, 11, 5), result="declined",
            result_on=D(2026, 12, 1)),
    ItemRow("西村", "referral", "antenatal_guidance", D(2026, 11, 6), result="not_attended",
            result_on=D(2026, 11, 8)),
    ItemRow("西村", "referral", "prepregnancy_check", D(2026, 9, 6), result="attended", result_on=D(2026, 10, 8)),
    ItemRow("西村", "support_request", "elderly_support", D(2026, 11, 6)),
    ItemRow("西村", "support_request", "family_benefit", D(2026, 11, 6)),
    ItemRow("西村", "support_request", "family_benefit", D(2026, 11, 7)),
    ItemRow("西村", "support_request", "family_benefit", D(2026, 10, 7)),          # October
    ItemRow("西村", "pregnancy_guidance", None, D(2026, 11, 6)),                    # not counted here
    ItemRow("南村", "service", "health_guidance", D(2026, 8, 1)),                   # nothing in November
]


def test_each_villages_month():
    counts = service_counts(VISITS, ITEMS, NOVEMBER)
    assert counts == {
        "东村": ServiceCounts(
            visits={"completed": 2, "nobody_home": 1},
            services={"health_guidance": 2, "other": 1},
            supplies_given={"folic_acid": SupplyCount(times=2, quantity=5, to_correct=0),
                            "condoms": SupplyCount(times=2, quantity=0, to_correct=2)},
            supplies_not_given={"condoms": 1},
            referrals_made=1, referrals_closed={"attended": 1, "declined": 1}, referrals_open=0),
        "西村": ServiceCounts(
            visits={"refused": 1, "moved_away": 1}, referrals_made=2, referrals_open=2,
            requests={"elderly_support": 1, "family_benefit": 2}),
    }
    assert (counts["东村"].completed, counts["东村"].attempted) == (2, 1)
    assert (counts["西村"].completed, counts["西村"].attempted) == (0, 2)


def test_the_closed_columns_are_the_results_that_close_a_referral():
    assert set(CLOSED_REFERRALS) == CLOSING_RESULTS


def test_the_towns_total_adds_the_villages():
    total = combined(service_counts(VISITS, ITEMS, NOVEMBER).values())
    assert total == ServiceCounts(
        visits={"completed": 2, "nobody_home": 1, "refused": 1, "moved_away": 1},
        services={"health_guidance": 2, "other": 1},
        supplies_given={"folic_acid": SupplyCount(2, 5, 0), "condoms": SupplyCount(2, 0, 2)},
        supplies_not_given={"condoms": 1}, referrals_made=3, referrals_closed={"attended": 1, "declined": 1},
        referrals_open=2, requests={"elderly_support": 1, "family_benefit": 2})
    assert combined([]) == ServiceCounts()


def test_a_month_without_anything():
    assert service_counts(VISITS, ITEMS, D(2026, 1, 1)) == {}


def test_a_corrected_quantity_counts_once_corrected():
    """Rows are items as they stand: once the cadre corrects the quantity its problem is gone and it counts."""
    corrected = ItemRow("东村", "supply", "condoms", D(2026, 11, 30), quantity=50, given=True)
    assert service_counts([], [corrected], NOVEMBER)["东村"].supplies_given == {"condoms": SupplyCount(1, 50, 0)}


LABELS = FormLabels(
    questions={},
    choices={"supply_item": {"folic_acid": {"zh": "叶酸", "en": "Folic acid"},
                             "condoms": {"zh": "避孕套", "en": "Condoms"}},
             "services": {"health_guidance": {"zh": "健康指导", "en": "Health guidance"},
                          "supplies": {"zh": "药具（应本人要求）", "en": "Supplies (on request)"},
                          "other": {"zh": "其他"}}},
    default_language="zh")


def test_choice_words_come_from_the_form_then_the_fallbacks_never_a_code():
    words = ChoiceWords([LABELS])
    assert words.label("supply_item", "folic_acid") == "叶酸 Folic acid"
    assert words.label("services", "other") == "其他"                   # the form has no English: its default
    assert words.label("supply_item", "oral_pills") == "口服避孕药 Oral contraceptive pills"   # fallback
    assert words.label("service_needs", "elderly_support") == "养老关爱 Elderly support"
    assert words.label("supply_item", "vitamins") == NOT_LISTED
    assert words.label("supply_item", None) == NOT_STATED
    assert words.codes("supply_item") == ["folic_acid", "condoms"]
    assert words.codes("service_needs") == ["postpartum_followup", "post_operation_followup", "pregnancy_reported",
                                            "prepregnancy_check", "supplies", "family_benefit", "elderly_support",
                                            "hardship_support", "other"]   # the catalogue's, in the form's order
    assert ChoiceWords().label("supply_item", "folic_acid") == "叶酸 Folic acid"


def test_the_summary_sections_in_words_with_a_row_per_village():
    counts = service_counts(VISITS, [*ITEMS, ItemRow("西村", "supply", "vitamins", D(2026, 11, 6), quantity=2,
                                                    given=True)], NOVEMBER)
    tables = summary_tables(counts, ["东村", "西村", "北村"], ChoiceWords([LABELS]))
    assert tables[0] == SummaryTable(
        "访视 Visits (by outcome)",
        ("完成 Completed", "无人在家 Nobody home", "拒绝 Refused", "已搬走 Moved away",
         "未完成合计 Attempted, not completed", "访视合计 All visits"),
        (("东村", (2, 1, 0, 0, 1, 3)), ("西村", (0, 0, 1, 1, 2, 2)), ("北村", (0, 0, 0, 0, 0, 0))))
    assert tables[1] == SummaryTable(
        "服务 Services given (times)", ("健康指导 Health guidance", "其他", "合计 Total"),
        (("东村", (2, 1, 3)), ("西村", (0, 0, 0)), ("北村", (0, 0, 0))))
    assert tables[2] == SummaryTable(
        "药具发放数量（应本人要求）Supplies given on request (quantity)",
        ("叶酸 Folic acid", "避孕套 Condoms", "口服避孕药 Oral contraceptive pills",
         "紧急避孕药 Emergency contraceptive pills", "外用避孕药具 Topical contraceptives", "其他 Other", NOT_LISTED,
         "合计 Total", "数量待更正（次）Quantities to correct (times)"),
        (("东村", (5, 0, 0, 0, 0, 0, 0, 5, 2)), ("西村", (0, 0, 0, 0, 0, 0, 2, 2, 0)),
         ("北村", (0, 0, 0, 0, 0, 0, 0, 0, 0))))
    assert tables[3].title == "已申请、未发放药具（次）Supplies requested, not given yet (times)"
    assert tables[3].rows[0] == ("东村", (0, 1, 0, 0, 0, 0, 1))
    assert tables[4] == SummaryTable(
        "转介 Referrals",
        ("本月转介 Made this month", "本月结案：已就诊 Closed this month: attended",
         "本月结案：拒绝 Closed this month: declined",
         "月末未结案 Open at the month's end"),
        (("东村", (1, 1, 1, 0)), ("西村", (2, 0, 0, 2)), ("北村", (0, 0, 0, 0))))
    assert tables[5] == SummaryTable(
        "扶助与关爱需求（次）Support requested (times)",
        ("计生家庭奖励扶助 Family benefit", "养老关爱 Elderly support", "困难家庭帮扶 Hardship support",
         "其他需求 Other needs", "合计 Total"),
        (("东村", (0, 0, 0, 0, 0)), ("西村", (2, 1, 0, 0, 3)), ("北村", (0, 0, 0, 0, 0))))


def test_an_odd_outcome_and_a_service_without_a_code_get_columns_in_words():
    counts = service_counts([VisitRow("东村", D(2026, 11, 3), "postponed")],
                            [ItemRow("东村", "service", None, D(2026, 11, 3))], NOVEMBER)
    visits, services = summary_tables(counts, ["东村"], ChoiceWords([LABELS]))[:2]
    assert visits.columns[4] == "其他结果 Other outcome" and visits.rows == (("东村", (0, 0, 0, 0, 1, 1, 1)),)
    assert services.columns == ("健康指导 Health guidance", "其他", NOT_STATED, "合计 Total")
    assert services.rows == (("东村", (0, 0, 1, 1)),)
