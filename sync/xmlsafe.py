"""Safe XML parsing for untrusted bytes: no DTDs, no entities, no network (defusedxml), errors mapped to our codes."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as DefusedET

from sync.errors import XmlForbiddenConstruct, XmlMalformed

__all__ = ["parse_untrusted", "local_name"]


def parse_untrusted(data: bytes) -> Element:
    """Parse XML bytes, refusing any DOCTYPE, entity declaration or external reference."""
    try:
        return DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise XmlForbiddenConstruct(type(exc).__name__) from exc
    except ParseError as exc:
        raise XmlMalformed(str(exc)) from exc
    except (ValueError, LookupError) as exc:  # e.g. an unknown or wrong encoding declaration
        raise XmlMalformed(str(exc)) from exc


def local_name(tag: str) -> str:
    """`{namespace}name` → `name`."""
    return tag.rsplit("}", 1)[-1]
