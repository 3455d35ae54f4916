"""The Chinese catalogue covers every message of the pages, and the compiled catalogue is the source's."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "server" / "translations" / "zh" / "LC_MESSAGES"


def test_every_message_is_translated_and_the_compiled_catalogue_is_current():
    method_map = [("server/**.py", "python"), ("server/**/templates/**.html", "jinja2")]
    messages = {message[2] for message in extract_from_dir(str(ROOT), method_map=method_map)
                if isinstance(message[2], str)}
    source = read_po(io.BytesIO((CATALOGUE / "messages.po").read_bytes()))
    compiled = read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes()))
    translated = {message.id: message.string for message in source if message.id}
    assert messages - set(translated) == set(), "run pybabel extract/update and translate"
    assert all(translated.values())
    assert {message.id: message.string for message in compiled if message.id} == translated, \
        "run: .venv/bin/pybabel compile -d server/translations"
