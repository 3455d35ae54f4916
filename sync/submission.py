"""Read what the server needs from a submission's XML: form, version, instanceID, deprecatedID, attachment names."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sync.errors import AttachmentNameInvalid, FormIdMissing, IdentifierTooLong, InstanceIdInvalid, InstanceIdMissing
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["SubmissionEnvelope", "parse_submission", "attachment_names", "check_attachment_name", "check_instance_id",
           "text_values"]

_MAX_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class SubmissionEnvelope:
    """The identifying facts of one submission (one version of one filled form)."""

    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    sha256: str
    root: Element

    @property
    def is_edit(self) -> bool:
        return self.deprecated_id is not None


def parse_submission(xml: bytes) -> SubmissionEnvelope:
    """Parse untrusted submission XML and pull out its identity; raises a TaizhangError on bad input."""
    root = parse_untrusted(xml)
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise FormIdMissing()
    version = (root.get("version") or "").strip()
    instance_id = deprecated_id = None
    for child in root:
        if local_name(child.tag) == "meta":
            for field in child:
                name = local_name(field.tag)
                if name == "instanceID":
                    instance_id = (field.text or "").strip() or None
                elif name == "deprecatedID":
                    deprecated_id = (field.text or "").strip() or None
            break
    if instance_id is None:  # ODK Aggregate's legacy place for it
        instance_id = (root.get("instanceID") or "").strip() or None
    if instance_id is None:
        raise InstanceIdMissing()
    for value in (form_id, version, instance_id, deprecated_id or ""):
        if len(value) > _MAX_ID_LENGTH:
            raise IdentifierTooLong(value[:40] + "…")
    check_instance_id(instance_id)
    if deprecated_id is not None:
        check_instance_id(deprecated_id)
    return SubmissionEnvelope(
        form_id=form_id,
        version=version,
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        sha256=hashlib.sha256(xml).hexdigest(),
        root=root,
    )


def check_instance_id(instance_id: str) -> str:
    """An instanceID is one URL path segment as it stands (it names the submission in the replication API and in
    Central's): no slash or backslash, no spaces, control or invisible formatting characters, not `.` or `..`.
    Collect writes `uuid:<uuid>`; ODK Central passes any instanceID through, and has crashed on hostile ones
    (getodk/central-backend#1157), so ours are refused at intake, before anything is kept."""
    if instance_id.isascii() and instance_id.isprintable():   # Collect's: only the space is a C or Z character
        refused = " " in instance_id or "/" in instance_id or "\\" in instance_id
    else:
        refused = any(ch in "/\\" or unicodedata.category(ch)[0] in "CZ" for ch in instance_id)
    if refused or instance_id in (".", ".."):
        raise InstanceIdInvalid(repr(instance_id)[:80])
    return instance_id


def check_attachment_name(name: str) -> str:
    """An attachment is named by a bare file name: no directories, no traversal, no control characters."""
    if (not name or len(name) > 255 or name in (".", "..") or "/" in name or "\\" in name
            or any(unicodedata.category(ch) == "Cc" for ch in name)):
        raise AttachmentNameInvalid(repr(name)[:80])
    return name


def attachment_names(root: Element, binary_paths: frozenset[str]) -> list[str]:
    """File names the submission refers to in its binary (photo, audio, file, signature) fields, in document order."""
    if not binary_paths:
        return []
    names: list[str] = []
    stack: list[tuple[Element, str]] = [(root, "/" + local_name(root.tag))]
    while stack:
        element, path = stack.pop()
        if path in binary_paths:
            value = (element.text or "").strip()
            if value and value not in names:
                names.append(check_attachment_name(value))
        stack.extend((child, f"{path}/{local_name(child.tag)}") for child in reversed(list(element)))
    return names


def text_values(root: Element) -> set[str]:
    """Every non-empty element text in the document: the file names an upload may legitimately carry."""
    return {value for element in root.iter() if (value := (element.text or "").strip())}


class AnswerPaths:
    """Namespace-blind access to a submission's elements by slash paths of local names: the subtree is indexed
    once, by path, the first element of each path (in document order) standing for it."""

    __slots__ = ("element", "_paths")

    def __init__(self, element: Element) -> None:
        self.element = element
        self._paths: dict[str, Element] | None = None

    def _find(self, path: str) -> Element | None:
        if self._paths is None:
            paths: dict[str, Element] = {}
            pending = [(self.element, "")]
            for element, prefix in pending:  # breadth first: earlier elements of a path come first
                for child in element:
                    child_path = prefix + local_name(child.tag)
                    paths.setdefault(child_path, child)
                    if len(child):
                        pending.append((child, child_path + "/"))
            self._paths = paths
        return self._paths.get(path)

    def text(self, path: str) -> str | None:
        element = self._find(path)
        return ((element.text or "").strip() or None) if element is not None else None

    def child(self, path: str) -> AnswerPaths:
        element = self._find(path)
        return AnswerPaths(element if element is not None else Element("missing"))

    def all(self, name: str) -> list[AnswerPaths]:
        return [AnswerPaths(child) for child in self.element if local_name(child.tag) == name]
