"""Publishing forms: compile XLSForms with pyxform (ODK Validate on), keep every version's exact bytes and media."""

from __future__ import annotations

import hashlib
import mimetypes
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pyxform.errors import PyXFormError
from pyxform.validators.odk_validate import ODKValidateError, check_xform
from pyxform.xls2xform import convert

from server.areas.operations import find_area
from server.forms import queries
from server.forms.models import Form, FormMedia, FormVersion
from server.lookup_cache import lookup_cache
from server.storage import BlobStore
from sync.access import may_fill_form
from sync.errors import BadRequest, FormNotFound, FormVersionConflict, XFormInvalid
from sync.xform import parse_xform

__all__ = ["PublishResult", "compile_form", "publish_form", "forms_for", "version_for", "form_xml", "may_fill"]

XLSFORM_SUFFIXES = {".xlsx", ".xls", ".xlsm"}


@dataclass
class PublishResult:
    xml_form_id: str
    version: str
    title: str
    created: bool
    media_attached: list[str] = field(default_factory=list)
    media_missing: list[str] = field(default_factory=list)
    media_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def compile_form(source: Path, *, validate: bool = True) -> tuple[bytes, dict[str, bytes], list[str]]:
    """XLSForm or XForm file → (XForm bytes, generated media such as itemsets.csv, warnings)."""
    source = Path(source)
    generated: dict[str, bytes] = {}
    warnings: list[str] = []
    try:
        if source.suffix.lower() in XLSFORM_SUFFIXES:
            result = convert(xlsform=source, validate=validate, warnings=warnings, file_type=source.suffix.lower())
            xml = result.xform.encode("utf-8")
            if result.itemsets is not None:
                generated["itemsets.csv"] = result.itemsets.encode("utf-8")
        elif source.suffix.lower() == ".xml":
            xml = source.read_bytes()
            if validate:
                with tempfile.TemporaryDirectory() as folder:
                    copy = Path(folder) / source.name
                    copy.write_bytes(xml)
                    warnings.extend(check_xform(str(copy)) or [])
        else:
            raise BadRequest(f"{source.name}: publish an XLSForm (.xlsx) or an XForm (.xml)")
    except (PyXFormError, ODKValidateError) as exc:
        raise XFormInvalid(str(exc).strip()[:2000]) from exc
    return xml, generated, warnings


def publish_form(source: Path, blobs: BlobStore, *, media: list[Path] = (), audience: str = "collector",
                 area: str | None = None, validate: bool = True) -> PublishResult:
    """Store a new form version (or confirm an identical one); earlier versions stay so old visits still land."""
    xml, generated, warnings = compile_form(source, validate=validate)
    definition = parse_xform(xml)
    media_files = {path.name: path for path in map(Path, media)}
    form = queries.form_by_xml_id(definition.form_id)
    area_row = find_area(area) if area else None
    if form is None:
        form = Form(xml_form_id=definition.form_id, title=definition.title, audience=audience,
                    area_id=area_row.id if area_row else None, state="open")
        queries.add(form)
    existing = queries.version_row(form.id, definition.version)
    if existing is not None:
        if existing.sha256 != hashlib.sha256(xml).hexdigest():
            raise FormVersionConflict(f"{definition.form_id} version {definition.version}")
        return PublishResult(definition.form_id, definition.version, definition.title, created=False,
                             warnings=warnings)
    previous_media = {m.filename: m for m in queries.media_rows(form.current_version_id)} \
        if form.current_version_id else {}
    version = FormVersion(form_id=form.id, version=definition.version, title=definition.title, xml=xml,
                          md5=hashlib.md5(xml).hexdigest(), sha256=hashlib.sha256(xml).hexdigest(),
                          binary_paths=sorted(definition.binary_paths), media_names=list(definition.media_names))
    queries.add(version)
    result = PublishResult(definition.form_id, definition.version, definition.title, created=True, warnings=warnings)
    result.media_ignored = sorted(set(media_files) - set(definition.media_names))  # given but not used by the form
    for name in sorted(set(definition.media_names) | set(generated)):
        if name in media_files:
            with open(media_files[name], "rb") as handle:
                stored = blobs.put_stream(handle, max_bytes=1 << 40)
        elif name in generated:
            stored = blobs.put_bytes(generated[name])
        elif name in previous_media:
            stored = previous_media[name]
        else:
            result.media_missing.append(name)
            continue
        queries.add(FormMedia(form_version_id=version.id, filename=name, sha256=stored.sha256, md5=stored.md5,
                              size=stored.size,
                              content_type=mimetypes.guess_type(name)[0] or "application/octet-stream"))
        result.media_attached.append(name)
    form.current_version_id = version.id
    form.title = definition.title
    if area_row is not None:
        form.area_id = area_row.id
    form.audience = audience
    lookup_cache().clear()
    return result


def may_fill(principal, form: queries.FormVersionAccess) -> bool:
    """Whether this user may download and submit this form version."""
    return may_fill_form(principal.role, principal.area_path, audience=form.audience, form_area_path=form.area_path,
                         form_state=form.state)


def may_fill_as_collector(group_path: str | None, form: queries.FormVersionAccess) -> bool:
    """Whether a collector of this group may submit this form version (for submissions replicated from a town)."""
    return may_fill_form("collector", group_path, audience=form.audience, form_area_path=form.area_path,
                         form_state=form.state)


def forms_for(principal, xml_form_id: str | None = None) -> list[queries.FormVersionAccess]:
    """The current version of every open form this user may fill (formList), optionally one formID only."""
    return [form for form in queries.current_versions(xml_form_id) if may_fill(principal, form)]


def version_for(principal, xml_form_id: str, version: str) -> queries.FormVersionAccess:
    """A form version this user may download, or NotFound (the same answer whether it exists or is not theirs)."""
    form = queries.version_access(xml_form_id, version)
    if form is None or not may_fill(principal, form):
        raise FormNotFound(xml_form_id)
    return form


def form_xml(form: queries.FormVersionAccess) -> bytes:
    """The exact XForm bytes published for this version (their md5 is the formList hash)."""
    return queries.version_xml(form.version_pk)
