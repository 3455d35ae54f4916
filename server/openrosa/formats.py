"""OpenRosa XML documents, one builder per response type (built with lxml, never by string formatting)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

__all__ = ["FormListEntry", "ManifestEntry", "form_list", "manifest", "response_message", "ALREADY_THERE",
           "XML_CONTENT_TYPE"]

XML_CONTENT_TYPE = "text/xml; charset=utf-8"

ALREADY_THERE = "服务器上已有这份表单。 / Already on the server."
"""The message of a 201 to a retry that brought nothing new (transfer clients report it as "already there")."""
_XFORMS_LIST = ElementMaker(namespace="http://openrosa.org/xforms/xformsList",
                            nsmap={None: "http://openrosa.org/xforms/xformsList"})
_MANIFEST = ElementMaker(namespace="http://openrosa.org/xforms/xformsManifest",
                         nsmap={None: "http://openrosa.org/xforms/xformsManifest"})
_RESPONSE = ElementMaker(namespace="http://openrosa.org/http/response",
                         nsmap={None: "http://openrosa.org/http/response"})


@dataclass(frozen=True, slots=True)
class FormListEntry:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    filename: str
    md5: str
    download_url: str
    kind: str | None = None
    integrity_url: str | None = None


def _serialize(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def form_list(entries: list[FormListEntry]) -> bytes:
    """`<xforms>` per the OpenRosa Form List API."""
    items = []
    for entry in entries:
        children = [_XFORMS_LIST.formID(entry.form_id), _XFORMS_LIST.name(entry.name),
                    _XFORMS_LIST.version(entry.version), _XFORMS_LIST.hash(f"md5:{entry.md5}"),
                    _XFORMS_LIST.downloadUrl(entry.download_url)]
        if entry.manifest_url:
            children.append(_XFORMS_LIST.manifestUrl(entry.manifest_url))
        items.append(_XFORMS_LIST.xform(*children))
    return _serialize(_XFORMS_LIST.xforms(*items))


def manifest(entries: list[ManifestEntry]) -> bytes:
    """`<manifest>` per the OpenRosa Form List API; entity lists carry Central's type and integrityUrl."""
    files = []
    for entry in entries:
        children = [_MANIFEST.filename(entry.filename), _MANIFEST.hash(f"md5:{entry.md5}"),
                    _MANIFEST.downloadUrl(entry.download_url)]
        if entry.integrity_url:
            children.append(_MANIFEST.integrityUrl(entry.integrity_url))
        attributes = {"type": entry.kind} if entry.kind else {}
        files.append(_MANIFEST.mediaFile(*children, **attributes))
    return _serialize(_MANIFEST.manifest(*files))


def response_message(text: str, nature: str = "") -> bytes:
    """`<OpenRosaResponse>` with one message; nature="error" for failures."""
    return _serialize(_RESPONSE.OpenRosaResponse(_RESPONSE.message(text, nature=nature)))
