"""Every code a page shows has words in both languages in the one catalogue (sync.code_labels): register field names,
choice lists' values, decision kinds, review states, and every audit action the server records (found by reading
the source, so a new action without words fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.register.decisions import REVIEW_STATES
from server.users.operations import MANAGED_ROLES
from sync.code_labels import CODE_LABELS, audit_action_label, code_label
from sync.decisions import CHOICE_FIELDS, DECISION_KINDS, SETTABLE_FIELDS
from sync.privacy import FULL_SUFFIX
from sync.visits import PERSON_FIELDS

SERVER = Path(__file__).resolve().parents[2] / "server"

# An action given as a literal, an f-string or a named constant, where the audit log is written.
_WRITES = [re.compile(r"audit\.record\(\s*[\w.]+,\s*(f?\"[^\"]+\")"),       # audit.record(who, "action", …)
           re.compile(r"\baction=(f?\"[^\"]+\")"),                            # undo(…, action="…")
           re.compile(r"_audit\(\s*principal,\s*(\"[^\"]+\")"),              # registers' _audit(principal, "…")
           re.compile(r"^\w*_ACTION\s*=\s*(\"[^\"]+\")", re.M)]              # LOCK_ACTION = "…" (record_event)
# An export's action, recorded as it is or with FULL_SUFFIX (ID numbers and phones in full): export_action("…", full).
_EXPORTS = re.compile(r"export_action\(\s*\"([^\"]+)\"")
# What the placeholders of f-string actions stand for.
_PLACEHOLDERS = {"kind.name": list(DECISION_KINDS), "decision.kind": list(DECISION_KINDS),
                 "state": list(REVIEW_STATES), "user.role": sorted({role for roles in MANAGED_ROLES.values()
                                                                   for role in roles})}


def recorded_actions() -> set[str]:
    actions: set[str] = set()
    for path in SERVER.rglob("*.py"):
        text = path.read_text("utf-8")
        for pattern in _WRITES:
            for literal in pattern.findall(text):
                template = literal.removeprefix("f").strip('"')
                names = re.findall(r"\{([^}]+)\}", template)
                assert all(name in _PLACEHOLDERS for name in names), f"teach this test {names} ({path.name})"
                expanded = [template]
                for name in names:
                    expanded = [action.replace("{" + name + "}", value)
                                for action in expanded for value in _PLACEHOLDERS[name]]
                actions.update(expanded)
        actions.update(action + suffix for action in _EXPORTS.findall(text) for suffix in ("", FULL_SUFFIX))
    return actions


def test_the_source_scan_finds_the_actions():
    actions = recorded_actions()
    assert {"person.read", "person.search", "inbox.read", "duplicates.read", "visit.read", "visit.rejected",
            "register.merge_people", "register.undo_merge_people", "register.distinct", "registers.export",
            "registers.export.full", "export.register.full", "notice.export.full",
            "replication.undo_automatic_merge", "signin.locked", "collector.revoke"} <= actions
    assert len(actions) > 60


def test_every_audit_action_has_words_in_both_languages():
    missing = sorted(action for action in recorded_actions() if action not in CODE_LABELS["audit_action"])
    assert missing == []
    assert audit_action_label("person.search", "zh") == "查找人员"
    assert audit_action_label("register.undo_merge_people", "zh") == "撤销：合并重复人员"
    assert audit_action_label("register.undo_merge_people", "en") == "Undo: Merge duplicate people"
    assert audit_action_label("no.such_action", "zh") == "其他操作"


def test_every_decision_kind_has_words_and_they_are_the_kinds_own():
    assert set(CODE_LABELS["decision_kind"]) == set(DECISION_KINDS)
    for name, kind in DECISION_KINDS.items():
        assert CODE_LABELS["decision_kind"][name] == (kind.label_zh, kind.label_en)


def test_every_register_field_has_words():
    fields = {*PERSON_FIELDS, "tier", "household_uuid", *SETTABLE_FIELDS["person"], *SETTABLE_FIELDS["household"]}
    assert sorted(fields - set(CODE_LABELS["register_field"])) == []


def test_every_choice_list_the_register_uses_is_in_the_catalogue():
    for list_name in {*CHOICE_FIELDS.values(), "outcome", "life_event", "review_state", "tier", "record_kind"}:
        assert CODE_LABELS[list_name], list_name
    assert set(CODE_LABELS["review_state"]) == {"received", *REVIEW_STATES}


@pytest.mark.parametrize("list_name", sorted(CODE_LABELS))
def test_every_value_of_every_list_has_a_chinese_and_an_english_label(list_name):
    for code, labels in CODE_LABELS[list_name].items():
        assert isinstance(labels, tuple) and len(labels) == 2, (list_name, code)
        zh, en = labels
        assert zh.strip() and en.strip(), (list_name, code)
        assert re.search(r"[\u4e00-\u9fff]", zh), (list_name, code, zh)     # Chinese words, not a code
        assert code_label(list_name, code, "zh") == zh and code_label(list_name, code, "en") == en
