"""Nothing the system stores or shows is a compliance record: every table and column name, every kind of service
item and decision, the service record's fields and words, the village's registers and their columns, and every
message of the pages, checked against the out-of-scope list of shared/DOMAIN.md (the forms' own words are checked
by tests/unit/test_questionnaires.py)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

import server.models  # noqa: F401  (every table in the metadata)
import sync.service_counts
import sync.services
from server.extensions import db
from sync.decisions import DECISION_KINDS
from sync.services import ITEM_KINDS

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "server" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"

# The out-of-scope list of shared/DOMAIN.md ("Out of scope, on purpose"), as words the code and the pages could use:
# "birth permits and quotas, mandatory contraception and sterilisation, 'remedial measures' for 'out-of-plan'
# pregnancies, IUD/pregnancy checks, fines (社会抚养费), deposits and breach penalties, mutual surveillance, public
# posting of individuals' reproductive data" — and, from DEVELOPERS.md's scope boundary, "no contraceptive method as
# a compliance status". Copied here so the test stands on the repository alone; keep it in step with DOMAIN.md.
# The supplies handed out on request (口服避孕药, 避孕套, "oral contraceptive pills", …) and the free pre-pregnancy
# check (孕前优生健康检查, prepregnancy_check) are services, not among these terms.
OUT_OF_SCOPE_TERMS: dict[str, str] = {
    # English, in identifiers (birth_permit, contraceptiveStatus) and in words; letters may not run on either side
    "permit": r"(?<![a-z])permits?(?![a-z])",
    "quota": r"(?<![a-z])quotas?(?![a-z])",
    "out-of-plan": r"out[-_ ]?of[-_ ]?(plan|policy)",
    "fine": r"(?<![a-z])fine[sd]?(?![a-z])",
    "social maintenance fee": r"social[-_ ]?maintenance",
    "deposit": r"(?<![a-z])deposits?(?![a-z])",
    "penalty": r"penalt(y|ies)",
    "IUD": r"(?<![a-z])iuds?(?![a-z])",
    "pregnancy check": r"(?<![a-z])(?<!pre-)(?<!pre_)(?<!pre )pregnancy[-_ ]?(check|exam|test)",
    "sterilisation": r"sterili[sz]|(?<![a-z])ligation",
    "contraceptive status": r"contracepti[a-z]*[-_ ]?(status|method|measure|use)|method[-_ ]?used"
                            r"|birth[-_ ]?control[-_ ]?(status|method)",
    "mandatory contraception": r"mandatory[-_ ]?contracept",
    "remedial": r"remedial",
    "compliance": r"complian(ce|t)",
    "surveillance": r"surveillance",
    # Chinese, as written
    "准生": "准生", "生育证": "生育证", "生育服务证": "生育服务证", "生育指标": "生育指标",
    "计划外": "计划外", "政策外": "政策外", "超生": "超生",
    "社会抚养费": "社会抚养费", "罚款": "罚款", "罚金": "罚金", "违约金": "违约金", "保证金": "保证金", "押金": "押金",
    "上环": "上环", "取环": "取环", "查环": "查环", "环检": "环检", "孕检": "孕检", "查孕": "查孕", "四术": "四术",
    "结扎": "结扎", "绝育": "绝育",
    "节育措施": "节育措施", "节育情况": "节育情况", "避孕措施": "避孕措施", "避孕方法": "避孕方法", "避孕情况": "避孕情况",
    "补救": "补救", "强制": "强制", "互相监督": "互相监督", "张榜": "张榜",
}
_PATTERNS = {term: re.compile(pattern) for term, pattern in OUT_OF_SCOPE_TERMS.items()}


def out_of_scope(texts: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(where, text, term) for every text that names an out-of-scope term (case-insensitively)."""
    return [(where, text, term) for where, text in texts for term, pattern in _PATTERNS.items()
            if pattern.search(text.lower())]


def strings_in(value, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a constant: itself, a mapping's keys and values, a collection's items, a dataclass's fields."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(key, where)
            yield from strings_in(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for number, item in enumerate(value):
            yield from strings_in(item, f"{where}[{number}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_in(getattr(value, field.name), f"{where}.{field.name}")


def module_strings(module) -> Iterator[tuple[str, str]]:
    """The strings of a module's public constants (not its functions, classes or imported modules)."""
    for name, value in vars(module).items():
        if not name.startswith("_") and not callable(value) and not isinstance(value, type(re)):
            yield from strings_in(value, f"{module.__name__}.{name}")


def schema_names(metadata: sa.MetaData) -> Iterator[tuple[str, str]]:
    """Every table's name and every column's name."""
    for table in metadata.sorted_tables:
        yield "table", table.name
        for column in table.columns:
            yield f"{table.name} column", column.name


def every_model_module() -> None:
    """Import every server package's models (a new package's tables are in the metadata even before server.models
    names them)."""
    for path in sorted((ROOT / "server").rglob("models.py")):
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))


def test_the_check_catches_the_terms_and_passes_the_services():
    """The check can fail: a column, a label or a message naming a term is caught; supplies on request, the free
    pre-pregnancy check and other service words are not."""
    metadata = sa.MetaData()
    sa.Table("person_plan", metadata, sa.Column("birth_permit", sa.String), sa.Column("contraceptive_status", sa.String),
             sa.Column("iud_check_date", sa.Date), sa.Column("birth_quota", sa.Integer))
    assert [(where, text) for where, text, _ in out_of_scope(schema_names(metadata))] == [
        ("person_plan column", "birth_permit"), ("person_plan column", "contraceptive_status"),
        ("person_plan column", "iud_check_date"), ("person_plan column", "birth_quota")]
    caught = ["Out-of-plan pregnancy", "Fines owed", "Pregnancy check due", "Sterilization", "Remedial measures",
              "fined_on", "节育措施", "上环情况", "查孕", "社会抚养费征收", "计划外怀孕", "绝育手术", "补救措施",
              "Contraceptive method", "method_used", "Deposit paid", "Penalty"]
    assert {text for _, text, _ in out_of_scope(("test", text) for text in caught)} == set(caught)
    allowed = ["口服避孕药 Oral contraceptive pills", "避孕套 Condoms", "紧急避孕药 Emergency contraceptive pills",
               "外用避孕药具 Topical contraceptives", "免费孕前优生健康检查 Free pre-pregnancy health check",
               "prepregnancy_check", "pre-pregnancy check", "Define the period", "You are not permitted", "financial",
               "Recovery after the operation", "recovery_check", "supplies_given", "refine", "Quotation"]
    assert out_of_scope(("test", text) for text in allowed) == []


def test_no_table_or_column_is_out_of_scope():
    every_model_module()
    names = list(schema_names(db.metadata))
    assert ("service_item column", "quantity") in names      # the service record's tables are read
    assert out_of_scope(names) == []


def test_no_kind_of_service_item_or_decision_is_out_of_scope():
    kinds = [*strings_in(ITEM_KINDS, "ITEM_KINDS"),
             *((f"DECISION_KINDS[{name!r}]", text) for name, kind in DECISION_KINDS.items()
               for text in (kind.name, kind.label_zh, kind.label_en))]
    assert ("ITEM_KINDS['supply'].label_zh", "药具发放（应本人要求）") in kinds
    assert out_of_scope(kinds) == []


def test_no_field_or_word_of_the_service_record_is_out_of_scope():
    """The service record's fields (each form version's layout), codes, problems and the summary's words."""
    texts = [*module_strings(sync.services), *module_strings(sync.service_counts)]
    assert any(text == "referral_reason" for _, text in texts)
    assert out_of_scope(texts) == []


def test_no_register_or_register_column_is_out_of_scope():
    """The village's named registers (sync/registers.py, when it is there): their names and columns' labels."""
    if importlib.util.find_spec("sync.registers") is None:
        pytest.skip("sync/registers.py is not there yet")
    texts = list(module_strings(importlib.import_module("sync.registers")))
    assert texts, "sync.registers has no constants to check"
    assert out_of_scope(texts) == []


def test_no_message_of_the_pages_is_out_of_scope():
    catalogue = read_po(io.BytesIO(CATALOGUE.read_bytes()))
    texts = [(f"messages.po {message.lineno}", text) for message in catalogue if message.id
             for text in ((message.id, message.string) if isinstance(message.id, str)
                          else (*message.id, *message.string)) if text]
    assert len(texts) > 100
    assert out_of_scope(texts) == []
