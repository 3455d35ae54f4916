"""A person's own copy on the web (本人信息副本, from the person's page): the request recorded, the copy downloaded as
PDF or xlsx (produced then, its SHA-256 recorded), its hand-over recorded; the person's past requests. A refused
value or step shows the page again with why (nothing recorded); another area's person is refused (403)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.copies import operations
from server.copies.schemas import HandOverForm, RequestForm
from server.database import commit
from server.exports.downloads import XLSX, named_download
from server.extensions import csrf, db
from server.services.views import error_message
from sync.code_labels import code_label
from sync.errors import Conflict, CopyRequestDayInvalid, CopyRequestInvalid, TaizhangError
from sync.privacy import COPY_FORMATS, COPY_REQUESTERS

bp = Blueprint("copies", __name__, template_folder="templates")
bp.before_request(csrf.protect)

_MIMETYPES = {"pdf": "application/pdf", "xlsx": XLSX}


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def _page(principal, uuid: str, values: dict | None = None, refused: TaizhangError | None = None, status: int = 200):
    page = operations.copies_page(principal, uuid)
    language = _language()
    body = render_template(
        "copies/copies.html", page=page, values=values or {"requested_by": page.name, "requester": "self",
                                                           "format": "pdf", "day": clock.today().isoformat()},
        problem=error_message(refused) if refused else None, code=refused.code if refused else None,
        requesters=[(code, code_label("copy_requester", code, language)) for code in COPY_REQUESTERS],
        formats=[(code, code_label("copy_format", code, language)) for code in COPY_FORMATS],
        label=lambda list_name, code: code_label(list_name, code, language) or "")
    commit()   # the audit record of this read
    return body, status


@bp.get("/people/<uuid>/copies")
def copies(uuid: str):
    return _page(require_staff(), uuid)


@bp.post("/people/<uuid>/copies")
def record_request(uuid: str):
    """Record who asked (the person or a representative), on which day, for a PDF or an xlsx."""
    principal = require_staff()
    values = RequestForm().load(request.form)
    try:
        operations.record_request(principal, uuid, requested_by=values["requested_by"],
                                  requester=values["requester"], copy_format=values["format"], day=values["day"])
    except (CopyRequestInvalid, CopyRequestDayInvalid) as refused:    # the form again, with why; nothing recorded
        db.session.rollback()
        return _page(principal, uuid, values, refused, refused.status)
    commit()
    flash(_("The request is recorded: download the copy, hand it over, then record the hand-over."), "notice")
    return redirect(url_for("copies.copies", uuid=uuid))


@bp.post("/people/<uuid>/copies/<int:copy_id>/produce")
def produce(uuid: str, copy_id: int):
    """The copy, produced now from the register as it stands, as a download (PDF or xlsx)."""
    principal = require_staff()
    try:
        produced = operations.produce_copy(principal, uuid, copy_id)
    except Conflict as refused:
        db.session.rollback()
        return _page(principal, uuid, refused=refused, status=refused.status)
    commit()
    return named_download(produced.content, produced.file_name, _MIMETYPES[produced.copy_format])


@bp.post("/people/<uuid>/copies/<int:copy_id>/handover")
def hand_over(uuid: str, copy_id: int):
    """Record that the copy was handed to the person or their representative."""
    principal = require_staff()
    values = HandOverForm().load(request.form)
    try:
        operations.hand_over(principal, uuid, copy_id, handed_to=values["handed_to"])
    except (Conflict, CopyRequestInvalid) as refused:
        db.session.rollback()
        return _page(principal, uuid, refused=refused, status=refused.status)
    commit()
    flash(_("The hand-over is recorded."), "notice")
    return redirect(url_for("copies.copies", uuid=uuid))
