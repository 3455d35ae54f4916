"""Safe XML parsing for untrusted bytes: no DTDs, no entities, no network (a hardened lxml parser), errors mapped
to our codes."""

from __future__ import annotations

import threading

from lxml import etree

from sync.errors import XmlForbiddenConstruct, XmlMalformed

__all__ = ["parse_untrusted", "local_name"]

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not thread-safe): entities are never resolved, no DTD is loaded,
    nothing is fetched, libxml2's size limits stay on, and comments and processing instructions are dropped
    (so every node read is an element)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False, huge_tree=False,
            remove_comments=True, remove_pis=True)
    return parser


def parse_untrusted(data: bytes) -> etree._Element:
    """Parse XML bytes, refusing any DOCTYPE, entity declaration or entity reference."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if "entity" in str(exc).lower():
            raise XmlForbiddenConstruct("entity") from exc
        raise XmlMalformed(str(exc)) from exc
    except ValueError as exc:  # e.g. an unknown or wrong encoding declaration
        raise XmlMalformed(str(exc)) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlForbiddenConstruct("DTD")
    if next(root.iter(etree.Entity), None) is not None:
        raise XmlForbiddenConstruct("entity")
    return root


def local_name(tag: str) -> str:
    """`{namespace}name` → `name`."""
    return tag[tag.rfind("}") + 1:]
