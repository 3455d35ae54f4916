"""Submission XML for tests, built with lxml as phones write it: the form's root element and the bytes they send."""

from __future__ import annotations

from lxml import etree
from lxml.builder import E

__all__ = ["COLLECT_DECLARATION", "E", "JAVAROSA_DECLARATION", "optional", "plain_submission", "submission_bytes",
           "submission_root"]

# JavaRosa (the form engine) and the placeholder form of tests/collect.py write the declaration each its own way.
JAVAROSA_DECLARATION = b"<?xml version='1.0' encoding='UTF-8' ?>"
COLLECT_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

NAMESPACES = {"jr": "http://openrosa.org/javarosa", "orx": "http://openrosa.org/xforms"}


def submission_root(form_id: str, version: str, *children):
    """The instance's root `<data id=… version=…>` with the JavaRosa and OpenRosa namespaces declared."""
    root = etree.Element("data", nsmap=NAMESPACES, id=form_id, version=version)
    root.extend(children)
    return root


def optional(name: str, value: str | None):
    """An element with the value as its text, empty when there is no value (as JavaRosa writes an unanswered one)."""
    return E(name, value) if value else E(name)


def submission_bytes(root, declaration: bytes) -> bytes:
    """The instance in UTF-8 after the given XML declaration."""
    return declaration + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def plain_submission(form_id: str, version: str, instance_id: str, fields: dict[str, str],
                     declaration: bytes = b"") -> bytes:
    """A minimal instance of a test form: `<data id=… version=…>`, its fields in order (an empty value gives an
    empty element), then `<meta><instanceID>`; no namespaces declared."""
    root = etree.Element("data", id=form_id, version=version)
    root.extend(optional(name, value) for name, value in fields.items())
    root.append(E.meta(E.instanceID(instance_id)))
    return declaration + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
