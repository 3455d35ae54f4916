"""The words of a form version: its questions' and choices' labels in each language, read from the published XForm (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sync.xmlsafe import parse_untrusted

__all__ = ["FormLabels", "parse_form_labels", "language_code"]

_XF = "{http://www.w3.org/2002/xforms}"
_H = "{http://www.w3.org/1999/xhtml}"
_LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$")
_ITEXT_REF = re.compile(r"jr:itext\('([^']+)'\)")


def language_code(name: str) -> str:
    """"中文 (zh)" → "zh"; a language named without a code keeps its name."""
    found = _LANGUAGE_CODE.search(name or "")
    return found.group(1).lower() if found else (name or "").strip()


@dataclass(frozen=True)
class FormLabels:
    """Labels by language code: `questions[path][lang]` (paths without the root, e.g. "visit/outcome"), and
    `choices[list name][code][lang]`; `default_language` is the form's default."""

    questions: Mapping[str, Mapping[str, str]]
    choices: Mapping[str, Mapping[str, Mapping[str, str]]]
    default_language: str

    def choice(self, list_name: str, code: str | None, language: str) -> str | None:
        """The label of a choice code in a language (the default language's when missing); None when the list or
        the code is not in this form version."""
        labels = self.choices.get(list_name, {}).get(code or "")
        return None if labels is None else labels.get(language) or labels.get(self.default_language)

    def question(self, path: str, language: str) -> str | None:
        labels = self.questions.get(path)
        return None if labels is None else labels.get(language) or labels.get(self.default_language)


def parse_form_labels(xform: bytes) -> FormLabels:
    """Read the labels of a published XForm (as pyxform writes it: itext translations, choice lists as secondary
    instances whose items name an itextId or carry a label)."""
    root = parse_untrusted(xform)
    model = root.find(f"{_H}head/{_XF}model")
    texts: dict[str, dict[str, str]] = {}
    default = ""
    for translation in model.iter(f"{_XF}translation") if model is not None else ():
        language = language_code(translation.get("lang", ""))
        if translation.get("default") or not default:
            default = language
        for text in translation.iter(f"{_XF}text"):
            value = next((value for value in text.iter(f"{_XF}value") if not value.get("form")), None)
            if value is not None:
                texts.setdefault(text.get("id", ""), {})[language] = "".join(value.itertext()).strip()
    choices: dict[str, dict[str, dict[str, str]]] = {}
    for instance in model.iter(f"{_XF}instance") if model is not None else ():
        name = instance.get("id")
        if not name or instance.get("src"):
            continue
        for item in instance.iter(f"{_XF}item"):
            code = item.findtext(f"{_XF}name")
            itext = item.findtext(f"{_XF}itextId")
            if code is None:
                continue
            if itext is not None:
                choices.setdefault(name, {})[code] = texts.get(itext, {})
            else:
                label = (item.findtext(f"{_XF}label") or "").strip()
                choices.setdefault(name, {})[code] = {default: label} if label else {}
    questions: dict[str, dict[str, str]] = {}
    for text_id, labels in texts.items():
        if text_id.endswith(":label") and text_id.startswith("/"):
            path = text_id[: -len(":label")].split("/", 2)[-1]
            questions[path] = labels
    return FormLabels(questions=questions, choices=choices, default_language=default or "zh")
