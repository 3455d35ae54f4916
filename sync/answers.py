"""Every answer of a visit in words, grouped as the phone showed it: a published XForm's body paired with a submission (pure).

The XForm's `<h:body>` gives the order, the groups and repeats and each question's label (itext, per language);
the submission gives the values. A value is shown as the form's own words: a choice's label in the language asked
for (several joined), a list from a CSV file (people.csv, households.csv: UUIDs) through the caller's look-up of
names, a date as YYYY-MM-DD, a GPS point as "lat, lon (±accuracy m)". Notes, calculations and the metadata the
phone fills in are not answers and are left out, and so is every question left unanswered. ID numbers and phones
are masked (sync.privacy.MASKED_FORM_FIELDS): the full values are on the person page.

A submission filled on another version of the form than the XForm given (the caller passes the submission's own
version when it is published here, else the current one) is paired by element names as far as they match; answers
the XForm does not know are listed last, under their element names, so nothing the collector wrote is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sync.form_labels import language_code, parse_form_labels
from sync.privacy import mask_answer
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["Answer", "AnswerGroup", "NameLookup", "read_answers", "format_location", "NOT_IN_REGISTER"]

_XF = "{http://www.w3.org/2002/xforms}"
_H = "{http://www.w3.org/1999/xhtml}"
_JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
_ITEXT_REF = re.compile(r"^\s*jr:itext\('([^']+)'\)\s*$")
_INSTANCE = re.compile(r"instance\('([^']+)'\)")
_QUESTIONS = frozenset({"input", "select1", "select", "upload", "range", "rank"})

NOT_IN_REGISTER = {"zh": "（不在台账中）", "en": "(not in the register)"}
"""What a person or household picked from a phone list shows as when the register does not know it (any more)."""

_WORDS = {
    "zh": {"joiner": "、", "item": "第{n}项", "unknown_choice": "（表单中没有的选项：{code}）",
           "not_in_form": "本表单版本中没有的回答"},
    "en": {"joiner": ", ", "item": "Item {n}", "unknown_choice": "(an option not in the form: {code})",
           "not_in_form": "Answers this form version does not have"},
}

NameLookup = Callable[[str, str], str | None]
"""(list file, value) → the name to show, e.g. ("people.csv", a person's UUID) → "王秀英"; None: not known."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One question and its answer, in words."""

    label: str
    value: str
    path: str = ""      # the answer's element path in the submission, without the root ("supplies/supply/item")


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    """A group of the form (or one instance of a repeat, numbered) with its answers and groups in the phone's order."""

    label: str
    entries: tuple[Answer | AnswerGroup, ...] = field(default=())

    @property
    def answers(self) -> list[Answer]:
        return [entry for entry in self.entries if isinstance(entry, Answer)]

    @property
    def groups(self) -> list[AnswerGroup]:
        return [entry for entry in self.entries if isinstance(entry, AnswerGroup)]

    def all_answers(self) -> list[Answer]:
        """Every answer of the group and of the groups inside it, in order."""
        found: list[Answer] = []
        for entry in self.entries:
            found.extend(entry.all_answers() if isinstance(entry, AnswerGroup) else [entry])
        return found


def format_location(text: str | None) -> str | None:
    """A geopoint answer ("lat lon [alt [accuracy]]") as "31.23456, 121.12345 (±5 m)"; None when it is not one."""
    parts = (text or "").split()
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    if len(numbers) < 2:
        return None
    shown = f"{numbers[0]:.5f}, {numbers[1]:.5f}"
    if len(numbers) >= 4:
        shown += f" (±{round(numbers[3], 1):g} m)"
    return shown


def read_answers(xform: bytes, submission: bytes, *, language: str, name_of: NameLookup) -> AnswerGroup:
    """The submission's answers grouped as in the XForm's body; the group returned is the form (its title)."""
    return _Reader(xform, submission, language if language in _WORDS else "zh", name_of).read()


class _Context:
    """Where values are read from: the submission's root, or one instance of a repeat (its element and path)."""

    def __init__(self, element, path: tuple[str, ...], outer: _Context | None = None) -> None:
        self.element, self.path, self.outer = element, path, outer

    def find(self, path: tuple[str, ...]):
        """The element at an absolute path (without the root): from the innermost repeat instance holding it."""
        context = self
        while context is not None:
            if path[:len(context.path)] == context.path:
                return _descend(context.element, path[len(context.path):])
            context = context.outer
        return None


def _descend(element, names: Iterable[str]):
    for name in names:
        if element is None:
            return None
        element = next((child for child in element if local_name(child.tag) == name
                        and child.get(_JR_TEMPLATE) is None), None)
    return element


def _parts(ref: str | None) -> tuple[str, ...]:
    """"/data/a/b" → ("a", "b"): a path without the root element's name."""
    names = [name for name in (ref or "").strip().split("/") if name]
    return tuple(names[1:])


def _resolve(ref: str | None, here: tuple[str, ...]) -> tuple[str, ...]:
    """An output's reference as an absolute path without the root: "/data/a/b", or "../../b" read from `here`."""
    ref = (ref or "").strip()
    if ref.startswith("/"):
        return _parts(ref)
    path = list(here)
    for step in ref.split("/"):
        if step == "..":
            path = path[:-1]
        elif step not in ("", "."):
            path.append(step)
    return tuple(path)


class _Reader:
    def __init__(self, xform: bytes, submission: bytes, language: str, name_of: NameLookup) -> None:
        self.form = parse_untrusted(xform)
        self.data = parse_untrusted(submission)
        self.language, self.words, self.name_of = language, _WORDS[language], name_of
        self.choices = parse_form_labels(xform).choices
        model = self.form.find(f"{_H}head/{_XF}model")
        self.texts: dict[str, dict[str, object]] = {}
        self.default = ""
        self.binds: dict[tuple[str, ...], dict[str, str]] = {}
        self.files: dict[str, str] = {}       # instance id → its CSV file name
        self.known: set[tuple[str, ...]] = set()
        if model is None:
            return
        for translation in model.iter(f"{_XF}translation"):
            lang = language_code(translation.get("lang", ""))
            if translation.get("default") or not self.default:
                self.default = lang
            for text in translation.iter(f"{_XF}text"):
                value = next((value for value in text.iter(f"{_XF}value") if not value.get("form")), None)
                if value is not None:
                    self.texts.setdefault(text.get("id", ""), {})[lang] = value
        for bind in model.iter(f"{_XF}bind"):
            self.binds[_parts(bind.get("nodeset"))] = dict(bind.attrib)
        for instance in model.iter(f"{_XF}instance"):
            if instance.get("src") and instance.get("id"):
                self.files[instance.get("id")] = instance.get("src").rstrip("/").rsplit("/", 1)[-1]
            elif not instance.get("id"):
                primary = next(iter(instance), None)
                if primary is not None:
                    self._collect_known(primary, ())

    def _collect_known(self, element, path: tuple[str, ...]) -> None:
        for child in element:
            child_path = path + (local_name(child.tag),)
            self.known.add(child_path)
            self._collect_known(child, child_path)

    # ---- labels ----------------------------------------------------------------------------------------------

    def _text(self, value, context: _Context, here: tuple[str, ...]) -> str:
        """An itext value or a label element's text, with its <output>s filled in from the submission (a relative
        reference is read from `here`, the path of the question or group labelled)."""
        pieces = [value.text or ""]
        for child in value:
            if local_name(child.tag) == "output":
                found = context.find(_resolve(child.get("value"), here))
                pieces.append((found.text or "").strip() if found is not None else "")
            pieces.append(child.tail or "")
        return " ".join("".join(pieces).split())

    def _itext(self, text_id: str, context: _Context, here: tuple[str, ...]) -> str:
        labels = self.texts.get(text_id, {})
        value = labels.get(self.language)
        if value is None:
            value = labels.get(self.default)
        return self._text(value, context, here) if value is not None else ""

    def _label(self, element, context: _Context) -> str:
        label = element.find(f"{_XF}label")
        if label is None:
            return ""
        here = _parts(element.get("ref") or element.get("nodeset"))
        ref = _ITEXT_REF.match(label.get("ref") or "")
        return self._itext(ref.group(1), context, here) if ref else self._text(label, context, here)

    # ---- walking the body ------------------------------------------------------------------------------------

    def read(self) -> AnswerGroup:
        root = _Context(self.data, ())
        body = self.form.find(f"{_H}body")
        entries = self._entries(body if body is not None else [], root)
        unknown = self._not_in_form()
        if unknown:
            entries.append(AnswerGroup(self.words["not_in_form"], tuple(unknown)))
        title = self.form.findtext(f"{_H}head/{_H}title") or ""
        return AnswerGroup(title.strip(), tuple(entries))

    def _entries(self, parent, context: _Context) -> list[Answer | AnswerGroup]:
        entries: list[Answer | AnswerGroup] = []
        for element in parent:
            if not isinstance(element.tag, str) or not element.tag.startswith(_XF):
                continue
            name = local_name(element.tag)
            if name == "group":
                entries.extend(self._group(element, context))
            elif name == "repeat":
                entries.extend(self._repeat(element, context, self._label(element, context)))
            elif name in _QUESTIONS:
                answer = self._answer(element, context)
                if answer is not None:
                    entries.append(answer)
        return entries

    def _group(self, group, context: _Context) -> list[Answer | AnswerGroup]:
        repeat = group.find(f"{_XF}repeat")
        label = self._label(group, context)
        if repeat is not None:   # pyxform wraps each repeat in a group carrying its label
            return self._repeat(repeat, context, label or self._label(repeat, context))
        inner = self._entries(group, context)
        if not label:
            return inner
        return [AnswerGroup(label, tuple(inner))] if inner else []

    def _repeat(self, repeat, context: _Context, label: str) -> list[AnswerGroup]:
        path = _parts(repeat.get("nodeset"))
        if not path:
            return []
        holder = context.find(path[:-1])
        if holder is None:
            return []
        instances = [child for child in holder if local_name(child.tag) == path[-1] and child.get(_JR_TEMPLATE) is None]
        groups = []
        for number, instance in enumerate(instances, start=1):
            inner = self._entries(repeat, _Context(instance, path, context))
            if inner:
                heading = f"{label} {number}" if label else self.words["item"].format(n=number)
                groups.append(AnswerGroup(heading, tuple(inner)))
        return groups

    def _answer(self, question, context: _Context) -> Answer | None:
        path = _parts(question.get("ref"))
        bind = self.binds.get(path, {})
        if bind.get("readonly", "").startswith("true") and not bind.get("calculate"):
            return None   # a note: it shows something, it asks nothing
        element = context.find(path)
        value = (element.text or "").strip() if element is not None else ""
        if not value:
            return None
        return Answer(self._label(question, context) or path[-1],
                      mask_answer(path[-1], self._value(question, bind, value)), "/".join(path))

    # ---- values ----------------------------------------------------------------------------------------------

    def _value(self, question, bind: dict[str, str], value: str) -> str:
        kind = local_name(question.tag)
        if kind in ("select1", "select"):
            codes = value.split() if kind == "select" else [value]
            return self.words["joiner"].join(self._choice(question, code) for code in codes)
        value_type = bind.get("type", "string").rpartition(":")[2]
        if value_type == "date":
            return value[:10]
        if value_type == "dateTime":
            return value[:16].replace("T", " ")
        if value_type == "geopoint":
            return format_location(value) or value
        return value

    def _choice(self, question, code: str) -> str:
        itemset = question.find(f"{_XF}itemset")
        if itemset is not None:
            found = _INSTANCE.search(itemset.get("nodeset") or "")
            list_id = found.group(1) if found else ""
            if list_id in self.files:
                return self.name_of(self.files[list_id], code) or NOT_IN_REGISTER[self.language]
            labels = self.choices.get(list_id, {}).get(code)
            if labels:
                return labels.get(self.language) or labels.get(self.default) or next(iter(labels.values()))
        for item in question.iter(f"{_XF}item"):
            if (item.findtext(f"{_XF}value") or "").strip() == code:
                label = self._label(item, _Context(self.data, ()))
                if label:
                    return label
        return self.words["unknown_choice"].format(code=code)

    def _not_in_form(self) -> list[Answer]:
        """The submission's answers at paths the XForm's instance does not have (another version's fields)."""
        found: list[Answer] = []

        def walk(element, path: tuple[str, ...]) -> None:
            for child in element:
                child_path = path + (local_name(child.tag),)
                if child_path[0] == "meta":
                    continue
                if len(child):
                    walk(child, child_path)
                elif child_path not in self.known and (child.text or "").strip():
                    found.append(Answer("/".join(child_path), mask_answer(child_path[-1], child.text.strip()),
                                        "/".join(child_path)))

        walk(self.data, ())
        return found
