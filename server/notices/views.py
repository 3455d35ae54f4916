"""The service notices' pages (menu 协查, the town office; the county reads them all): the list by state, a new
notice about a person of the register, a notice with its answer form, export (xlsx, JSON) and import; and the
replication API (/api/v1/replication/notices: GET after a cursor, POST one notice or answer as JSON). A refused
value shows the form again with why (nothing stored); a refused request gets the error page."""

from __future__ import annotations

import json
import uuid as uuid_module

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from reports.notices import build_notices_workbook, read_notices_workbook
from server import clock
from server.accounts.session import current_staff, require_staff
from server.database import commit
from server.exports.downloads import XLSX, full_export_asked
from server.extensions import csrf, db
from server.notices import operations
from server.notices.schemas import MAX_FILE_BYTES, AnswerForm, ListQuery, NoticeForm, PageQuery
from server.openrosa.auth import authenticate
from server.register.search import search
from sync.code_labels import CODE_LABELS, code_label
from sync.errors import BadRequest, NotFound, NoticeFileInvalid, NoticeInvalid, NoticeTownUnknown, TaizhangError
from sync.notices import (
    FILTERS,
    RESULTS,
    SERVICES,
    notice_from_json,
    notice_to_json,
    notices_document,
    read_notices_json,
)

bp = Blueprint("notices", __name__, template_folder="templates")
bp.before_request(csrf.protect)

api = Blueprint("notice_replication", __name__, url_prefix="/api/v1/replication")


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def _render(template: str, **values) -> str:
    return render_template(template, code_label=code_label, language=_language(), **values)


def _why(refused: TaizhangError) -> dict:
    """Why a form or file was refused (notices/_problem.html): the message in the reader's language, the detail beside
    it, or, when it is technical English on a Chinese page, folded away with the error code for support."""
    zh = _language() == "zh"
    detail = refused.detail or ""
    return {"text": refused.message_zh if zh else refused.message_en, "code": refused.code, "detail": detail,
            "folded": zh and any("a" <= letter.lower() <= "z" for letter in detail)}


def _choices(list_name: str, codes) -> list[tuple[str, str]]:
    return [(code, code_label(list_name, code, _language())) for code in codes]


@bp.get("/notices")
def list_page():
    principal = require_staff()
    wanted = ListQuery().load(request.args)["state"]
    rows = operations.list_notices(principal, wanted, clock.today())
    page = _render("notices/list.html", rows=rows, wanted=wanted,
                           filters=_choices("notice_state", FILTERS))
    commit()
    return page


def _new_page(principal, form: dict, problem: dict | None = None, status: int = 200):
    own_town = operations.sender_town(principal)
    person_uuid = form.get("person") or None
    person = operations.person_for_notice(principal, person_uuid) if person_uuid else None
    text = request.args.get("q", "")
    found = search(principal, text) if person is None and text.strip() else None
    return _render("notices/new.html", person=person, found=found, q=text, form=form, problem=problem,
                           towns=[town for town in operations.county_towns() if town != own_town],
                           services=_choices("service_needs", SERVICES), today=clock.today(),
                           sexes=CODE_LABELS["sex"]), status


@bp.get("/notices/new")
def new_notice():
    principal = require_staff()
    page = _new_page(principal, {"person": request.args.get("person", "")})
    commit()
    return page


@bp.post("/notices/new")
def send_notice():
    principal = require_staff()
    form = NoticeForm().load(request.form)
    outside = form["to"] == "outside"
    draft = operations.NoticeDraft(
        to_town=None if outside else form["to"], to_outside=form["outside_place"].strip() if outside else None,
        address=form["address"].strip(), phone=form["phone"].strip() or None, service=form["service"],
        service_note=form["service_note"].strip() or None, reply_by=form["reply_by"])
    try:
        row = operations.send_notice(principal, form["person"], draft, uuid=str(uuid_module.uuid4()))
    except (NoticeInvalid, NoticeTownUnknown) as refused:   # the form again, with why; nothing stored
        db.session.rollback()
        page = _new_page(principal, request.form, _why(refused), 400)
        commit()
        return page
    uuid = row.uuid
    commit()
    flash(_("The notice is sent."), "notice")
    return redirect(url_for("notices.notice_page", uuid=uuid))


@bp.get("/notices/<uuid>")
def notice_page(uuid: str):
    principal = require_staff()
    found = operations.read_notice(principal, uuid)
    page = _render("notices/notice.html", found=found, results=_choices("notice_result", RESULTS),
                           today=clock.today(), form={}, problem=None)
    commit()
    return page


@bp.post("/notices/<uuid>/answer")
def answer(uuid: str):
    principal = require_staff()
    form = AnswerForm().load(request.form)
    try:
        operations.answer_notice(principal, uuid, done=form["done"].strip(), result=form["result"], day=form["day"])
    except NoticeInvalid as refused:
        db.session.rollback()
        found = operations.read_notice(principal, uuid)
        page = _render("notices/notice.html", found=found, results=_choices("notice_result", RESULTS),
                               today=clock.today(), form=request.form, problem=_why(refused)), 400
        commit()
        return page
    commit()
    flash(_("The answer is recorded; it goes back to the sender."), "notice")
    return redirect(url_for("notices.notice_page", uuid=uuid))


def _format(kind: str) -> str:
    if kind not in ("xlsx", "json"):
        raise NotFound(f"export.{kind}")
    return kind


def _download(notices, kind: str, name: str) -> Response:
    if kind == "json":
        body = json.dumps(notice_to_json(notices[0]) if name != "list" else notices_document(notices),
                          ensure_ascii=False, indent=1).encode("utf-8")
        content_type = "application/json"
    else:
        title = _("Service notice")
        body = build_notices_workbook(notices, language=_language(), title=title, produced_at=clock.now(),
                                      as_of=clock.today())
        content_type = XLSX
    file_name = f"service-notices_{clock.today().isoformat()}.{kind}" if name == "list" else \
        f"service-notice_{name[:8]}.{kind}"
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


@bp.get("/notices/<uuid>/export.<kind>")
def export_notice(uuid: str, kind: str):
    kind = _format(kind)
    notices = operations.notices_for_export(require_staff(), uuid, None, clock.today())
    response = _download(notices, kind, uuid)
    commit()
    return response


@bp.route("/notices/export.<kind>", methods=["GET", "POST"])
def export_list(kind: str):
    """The list as a file, ID numbers and phones masked; posted with `full` and a reason, in full."""
    kind = _format(kind)
    principal = require_staff()
    wanted = ListQuery().load(request.args)["state"]
    full, reason = full_export_asked()
    notices = operations.notices_for_export(principal, None, wanted, clock.today(), full=full, reason=reason)
    response = _download(notices, kind, "list")
    commit()
    return response


@bp.route("/notices/import", methods=["GET", "POST"])
def import_file():
    principal = require_staff()
    operations.town_of(principal)   # the town office's and the county's
    problem, status = None, 200
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise NoticeFileInvalid("choose a file")
            content = upload.stream.read(MAX_FILE_BYTES + 1)
            if len(content) > MAX_FILE_BYTES:
                raise NoticeFileInvalid("larger than 5 MB")
            notices = read_notices_workbook(content) if content[:2] == b"PK" else read_notices_json(content)
            changed = operations.import_notices(principal, notices)
        except (BadRequest, TaizhangError) as refused:     # nothing stored: the page again, with why
            db.session.rollback()
            problem, status = _why(refused), refused.status
        else:
            commit()
            flash(_("Imported: %(changed)s of %(count)s notices changed something here.", changed=changed,
                    count=len(notices)), "notice")
            return redirect(url_for("notices.list_page"))
    page = _render("notices/import.html", problem=problem), status
    commit()
    return page


# ---- replication ------------------------------------------------------------------------------------------------

def _principal():
    return current_staff() or authenticate(None)


@api.get("/notices")
def notices_after():
    query = PageQuery().load(request.args)
    page = operations.notices_after(_principal(), query["after"], query["limit"])
    commit()   # the audit record of this read
    return jsonify({"notices": [notice_to_json(notice) for notice in page.notices], "cursor": page.cursor,
                    "last": page.last, "more": page.more})


@api.post("/notices")
def receive_notice():
    """A notice, with its receipt and answer when it has them (its JSON form), taken once by its uuid."""
    principal = authenticate(None)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("a JSON object is expected")
    notice = notice_from_json(body)
    changed = operations.take_notice(principal, notice, source="replication")
    commit()
    return jsonify({"uuid": notice.uuid, "changed": changed})
