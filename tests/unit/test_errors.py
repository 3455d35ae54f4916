"""Unit tests for sync.errors: the error hierarchy's codes, statuses and bilingual messages."""

from __future__ import annotations

import re

import pytest

import sync.errors as errors
from sync.errors import AttachmentNameInvalid, BadRequest, Conflict, TaizhangError

ALL_CLASSES = [getattr(errors, name) for name in errors.__all__]
ERROR_IDS = [cls.__name__ for cls in ALL_CLASSES]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def test_all_lists_every_subclass_defined_in_the_module():
    defined = {cls for cls in _all_subclasses(TaizhangError) if cls.__module__ == "sync.errors"}
    assert defined == set(ALL_CLASSES) - {TaizhangError}


def test_all_classes_derive_from_taizhang_error():
    assert all(issubclass(cls, TaizhangError) for cls in ALL_CLASSES)


def test_codes_are_unique():
    codes = [cls.code for cls in ALL_CLASSES]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_code_is_status_dot_number(cls):
    assert re.fullmatch(rf"{cls.status}\.\d+", cls.code)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_code_is_declared_on_the_class_itself(cls):
    assert "code" in vars(cls)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_chinese_message_is_non_empty_chinese(cls):
    assert CJK.search(cls.message_zh)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_english_message_is_non_empty_ascii(cls):
    assert cls.message_en.strip() and cls.message_en.isascii()


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_messages_are_declared_on_the_class_itself(cls):
    assert {"message_zh", "message_en"} <= set(vars(cls))


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=ERROR_IDS)
def test_message_is_unique_to_the_class(cls):
    same = [other.__name__ for other in ALL_CLASSES
            if other is not cls and (other.message_zh == cls.message_zh or other.message_en == cls.message_en)]
    assert same == []


def test_module_docstring_table_lists_every_specific_code():
    table = dict(re.findall(r"([A-Z][A-Za-z]+)\s+(\d{3}\.\d+)", errors.__doc__))
    grouping = (TaizhangError, BadRequest, Conflict)  # listed with a status only
    assert table == {cls.__name__: cls.code for cls in ALL_CLASSES if cls not in grouping}


def test_grouping_classes_have_their_status_and_a_dot_zero_code():
    assert [(BadRequest.code, BadRequest.status), (Conflict.code, Conflict.status)] == [("400.0", 400),
                                                                                        ("409.0", 409)]


def test_message_without_detail_is_chinese_slash_english():
    error = AttachmentNameInvalid()
    assert error.message() == f"{AttachmentNameInvalid.message_zh} / {AttachmentNameInvalid.message_en}"


def test_message_with_detail_appends_it_in_parentheses():
    error = AttachmentNameInvalid("'../x'")
    assert error.message() == f"{AttachmentNameInvalid.message_zh} / {AttachmentNameInvalid.message_en} ('../x')"


def test_str_of_error_is_its_message():
    error = AttachmentNameInvalid("detail")
    assert str(error) == error.message()


def test_detail_and_context_are_kept():
    error = TaizhangError("why", form_id="f", instance_id="uuid:1")
    assert (error.detail, error.context) == ("why", {"form_id": "f", "instance_id": "uuid:1"})


def test_empty_detail_is_not_appended():
    assert TaizhangError("").message() == f"{TaizhangError.message_zh} / {TaizhangError.message_en}"


def test_base_error_is_internal_server_error():
    assert (TaizhangError.code, TaizhangError.status) == ("500.1", 500)
