"""Form look-ups for publishing, for formList, and for matching a submission to its form version."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.database import lookup_connection
from server.extensions import db
from server.forms.models import Form, FormMedia, FormVersion
from server.lookup_cache import lookup_cache
from sync.form_labels import FormLabels, parse_form_labels


@dataclass(frozen=True, slots=True)
class FormVersionAccess:
    """A form version with what deciding access needs."""

    form_pk: int
    version_pk: int
    xml_form_id: str
    version: str
    title: str
    md5: str
    audience: str
    area_path: str | None
    state: str
    binary_paths: frozenset[str]
    media_names: tuple[str, ...]
    is_current: bool


class FormListing(NamedTuple):
    """A form with its current version (None before one is published) and the full name of the area it is
    limited to (None: everywhere)."""

    form: Form
    version: FormVersion | None
    area_full_name: str | None


def _access_query():
    area = aliased(Area)
    return (select(Form.id.label("form_pk"), FormVersion.id.label("version_pk"), Form.xml_form_id,
                   FormVersion.version, FormVersion.title, FormVersion.md5, Form.audience,
                   area.path.label("area_path"), Form.state, FormVersion.binary_paths, FormVersion.media_names,
                   (Form.current_version_id == FormVersion.id).label("is_current"))
            .join(FormVersion, FormVersion.form_id == Form.id)
            .outerjoin(area, area.id == Form.area_id))


def _access(row) -> FormVersionAccess:
    return FormVersionAccess(
        form_pk=row.form_pk, version_pk=row.version_pk, xml_form_id=row.xml_form_id, version=row.version,
        title=row.title, md5=row.md5, audience=row.audience, area_path=row.area_path, state=row.state,
        binary_paths=frozenset(row.binary_paths or ()), media_names=tuple(row.media_names or ()),
        is_current=bool(row.is_current))


def current_versions(xml_form_id: str | None = None) -> list[FormVersionAccess]:
    query = _access_query().where(Form.current_version_id == FormVersion.id).order_by(Form.xml_form_id)
    if xml_form_id is not None:
        query = query.where(Form.xml_form_id == xml_form_id)
    return [_access(row) for row in db.session.execute(query)]


_VERSION_ACCESS = _access_query().where(Form.xml_form_id == bindparam("form_id"),
                                        FormVersion.version == bindparam("version"))


def version_access(xml_form_id: str, version: str) -> FormVersionAccess | None:
    def load() -> FormVersionAccess | None:
        with lookup_connection() as connection:
            row = connection.execute(_VERSION_ACCESS, {"form_id": xml_form_id, "version": version}).first()
        return _access(row) if row else None

    return lookup_cache().get(("form_version", xml_form_id, version), load)


def form_exists(xml_form_id: str) -> bool:
    return db.session.scalar(select(Form.id).where(Form.xml_form_id == xml_form_id)) is not None


def version_xml(version_pk: int) -> bytes:
    return db.session.scalar(select(FormVersion.xml).where(FormVersion.id == version_pk))


def media_rows(version_pk: int) -> list[FormMedia]:
    return list(db.session.scalars(
        select(FormMedia).where(FormMedia.form_version_id == version_pk).order_by(FormMedia.filename)))


def form_by_xml_id(xml_form_id: str) -> Form | None:
    return db.session.scalar(select(Form).where(Form.xml_form_id == xml_form_id))


def version_row(form_pk: int, version: str) -> FormVersion | None:
    return db.session.scalar(select(FormVersion).where(FormVersion.form_id == form_pk, FormVersion.version == version))


def version_by_pk(version_pk: int) -> FormVersion | None:
    return db.session.get(FormVersion, version_pk)


def all_forms() -> list[FormListing]:
    area = aliased(Area)
    return [FormListing(row.Form, row.FormVersion, row.full_name) for row in db.session.execute(
        select(Form, FormVersion, area.full_name)
        .outerjoin(FormVersion, FormVersion.id == Form.current_version_id)
        .outerjoin(area, area.id == Form.area_id).order_by(Form.xml_form_id))]


def add(instance) -> None:
    db.session.add(instance)
    db.session.flush()


@functools.lru_cache(maxsize=32)
def _parsed_labels(xform: bytes) -> FormLabels:
    """A published XForm's labels (a version's XForm never changes: parsed once per process)."""
    return parse_form_labels(xform)


_EMPTY_LABELS = FormLabels(questions={}, choices={}, default_language="zh")


def form_labels(xml_form_id: str, version: str | None) -> FormLabels:
    """The words of a form version as published here (its questions' and choices' labels); a version not published
    here (a visit replicated from a town, an old fixture) is shown with the form's current version's words."""
    def load() -> FormLabels | None:
        row = db.session.execute(select(FormVersion.xml).join(Form, Form.id == FormVersion.form_id).where(
            Form.xml_form_id == xml_form_id, FormVersion.version == (version or ""))).first()
        if row is None:
            row = db.session.execute(select(FormVersion.xml).join(Form, Form.current_version_id == FormVersion.id)
                                     .where(Form.xml_form_id == xml_form_id)).first()
        return _parsed_labels(bytes(row.xml)) if row is not None else None

    return lookup_cache().get(("form_labels", xml_form_id, version or ""), load) or _EMPTY_LABELS
