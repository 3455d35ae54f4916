"""Where the masks apply (sync.privacy): a visit's answers that are ID numbers or phones, the reason an export in full
needs, the audit action that says it was in full."""

from __future__ import annotations

import pytest

from sync.errors import ExportReasonRequired, ExportReasonTooLong
from sync.privacy import EXPORT_REASON_LENGTH, export_action, export_reason, mask_answer


@pytest.mark.parametrize(("element", "value", "shown"), [
    ("id_number", "330102199001011234", "3301**********1234"),
    ("id_number_corrected", "33010219900101123X", "3301**********123X"),
    ("phone", "13812345678", "138****5678"),
    ("phone_now", "13812345678", "138****5678"),
    ("person_name_new", "王秀英", "王秀英"),
    ("quantity", "13812345678", "13812345678"),   # another question's answer stays as written
])
def test_answers_that_are_id_numbers_or_phones_are_masked(element, value, shown):
    assert mask_answer(element, value) == shown


def test_an_export_in_full_needs_a_reason_of_at_most_300_characters():
    assert export_reason(False, None) is None and export_reason(False, "any") is None   # masked: no reason kept
    assert export_reason(True, "  核对低保户联系方式 ") == "核对低保户联系方式"
    assert export_reason(True, "理" * EXPORT_REASON_LENGTH) == "理" * 300
    for empty in (None, "", "  \n "):
        with pytest.raises(ExportReasonRequired) as refused:
            export_reason(True, empty)
        assert refused.value.code == "400.80" and refused.value.status == 400
    with pytest.raises(ExportReasonTooLong) as refused:
        export_reason(True, "理" * 301)
    assert refused.value.code == "400.81"


def test_an_export_in_full_is_audited_as_such():
    assert export_action("export.register", False) == "export.register"
    assert export_action("export.register", True) == "export.register.full"
    assert export_action("registers.export", True) == "registers.export.full"
