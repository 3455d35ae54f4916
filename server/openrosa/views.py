"""OpenRosa endpoints; registered twice: at the site root and under /key/<token>/ (token URLs)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, send_file, url_for

from server import clock
from server.database import commit
from server.forms import operations as form_operations
from server.monitoring.operations import record_form_download
from server.openrosa import formats
from server.openrosa.auth import authenticate
from server.openrosa.media import media_for
from server.openrosa.uploads import UploadLimits, read_submission_body
from server.storage import blob_store
from server.submissions.operations import receive_submission
from sync.errors import NotFound

bp = Blueprint("openrosa", __name__)

# Collect's usual answers, serialized once (30 µs a POST).
_RECEIVED = formats.response_message("提交成功。 / Submission received.")
_ALREADY_THERE = formats.response_message(formats.ALREADY_THERE)


def _url(endpoint: str, **values) -> str:
    """An absolute URL in the same base (plain or token) as the current request."""
    return url_for(f"{request.blueprint}.{endpoint}", _external=True, **{**request.view_args, **values})


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=formats.XML_CONTENT_TYPE)


@bp.get("/formList")
def form_list(token: str | None = None):
    principal = authenticate(token)
    forms = form_operations.forms_for(principal, request.args.get("formID"))
    entries = []
    for form in forms:
        ids = {"form_id": form.xml_form_id, "version": form.version}
        entries.append(formats.FormListEntry(
            form_id=form.xml_form_id, name=form.title, version=form.version, md5=form.md5,
            download_url=_url("form_xml", **ids),
            manifest_url=_url("form_manifest", **ids) if form.media_names else None))
    return _xml(formats.form_list(entries))


@bp.get("/forms/<form_id>/versions/<version>/form.xml")
def form_xml(form_id: str, version: str, token: str | None = None):
    principal = authenticate(token)
    form = form_operations.version_for(principal, form_id, version)
    body = form_operations.form_xml(form)
    record_form_download(principal, form.form_pk, form.version, request.user_agent.string)   # collector monitoring
    commit()
    return _xml(body)


@bp.get("/forms/<form_id>/versions/<version>/manifest")
def form_manifest(form_id: str, version: str, token: str | None = None):
    principal = authenticate(token)
    form = form_operations.version_for(principal, form_id, version)
    entries = [formats.ManifestEntry(filename=media.filename, md5=media.md5,
                                     download_url=_url("form_media", filename=media.filename), kind=media.kind)
               for media in media_for(form, principal, blob_store())]
    return _xml(formats.manifest(entries))


@bp.get("/forms/<form_id>/versions/<version>/media/<filename>")
def form_media(form_id: str, version: str, filename: str, token: str | None = None):
    principal = authenticate(token)
    form = form_operations.version_for(principal, form_id, version)
    media = next((m for m in media_for(form, principal, blob_store()) if m.filename == filename), None)
    if media is None:
        raise NotFound(filename)
    return send_file(media.open(), mimetype=media.content_type, as_attachment=True, download_name=media.filename,
                     etag=media.md5, max_age=0)


@bp.route("/submission", methods=["HEAD"])
def submission_head(token: str | None = None):
    authenticate(token)
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, no type
    return response


@bp.post("/submission")
def submission_post(token: str | None = None):
    principal = authenticate(token)
    limits = UploadLimits.from_config(current_app.config)
    with read_submission_body(request.stream, request.mimetype, request.mimetype_params, request.content_length,
                              limits) as (xml, files):
        result = receive_submission(
            principal, xml, files, blobs=blob_store(),
            max_attachment_bytes=limits.attachment_bytes,
            device_id=request.args.get("deviceID"), user_agent=request.user_agent.string,
            now=clock.now(), on_its_own=True)
        commit()
    if result.attachments_missing:
        body = formats.response_message(f"已收到表单，还缺 {result.attachments_missing} 个附件，请继续发送。 / "
                                        f"Form received; {result.attachments_missing} attachment(s) still to come.")
    elif not result.created and not result.attachments_added:
        body = _ALREADY_THERE
    else:
        body = _RECEIVED
    return _xml(body, status=201)
