"""Read an XForm definition: formID, version, title, binary fields and the media files it refers to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.errors import XFormInvalid
from sync.xmlsafe import parse_untrusted

__all__ = ["FormDefinition", "parse_xform", "VERSION_PATTERN"]

VERSION_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FORM_ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,99}")
_MEDIA_REFERENCE = re.compile(r"jr://(?:images|audio|video|file|file-csv)/([^\s\"'<>)]+)")
_H = "{http://www.w3.org/1999/xhtml}"
_XF = "{http://www.w3.org/2002/xforms}"


@dataclass(frozen=True, slots=True)
class FormDefinition:
    form_id: str
    version: str
    title: str
    binary_paths: frozenset[str]
    media_names: tuple[str, ...]


def parse_xform(xml: bytes) -> FormDefinition:
    """Parse XForm bytes as published; raises XFormInvalid when a required part is missing."""
    root = parse_untrusted(xml)
    head = root.find(f"{_H}head")
    model = head.find(f"{_XF}model") if head is not None else None
    if model is None:
        raise XFormInvalid("no h:head/model")
    main_instance = next((i for i in model.findall(f"{_XF}instance") if i.get("id") is None), None)
    data = next(iter(main_instance), None) if main_instance is not None else None
    if data is None:
        raise XFormInvalid("no primary instance")
    form_id = data.get("id") or ""
    if not _FORM_ID_PATTERN.fullmatch(form_id):
        raise XFormInvalid(f"formID {form_id!r} must be letters, digits, '.', '_' or '-'")
    version = data.get("version") or ""
    if not VERSION_PATTERN.fullmatch(version):
        raise XFormInvalid(f"version {version!r}: set a version (letters, digits, '.', '_', '-') in the settings sheet")
    title_element = head.find(f"{_H}title")
    title = (title_element.text or "").strip() if title_element is not None else ""
    binary_paths = frozenset(
        bind.get("nodeset", "") for bind in model.iter(f"{_XF}bind") if bind.get("type") == "binary"
    )
    media: dict[str, None] = {}
    for element in root.iter():
        for text in (element.text, *element.attrib.values()):
            if text and "jr://" in text:
                for name in _MEDIA_REFERENCE.findall(text):
                    media.setdefault(name)
    return FormDefinition(
        form_id=form_id,
        version=version,
        title=title or form_id,
        binary_paths=binary_paths,
        media_names=tuple(media),
    )

