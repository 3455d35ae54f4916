"""Replication endpoints (JSON) for town officers and county administrators: reads take a signed-in session or
Digest credentials; the POST takes Digest only (a program's request, never a browser's, so no CSRF to fear)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from server import clock
from server.accounts.session import current_staff
from server.database import commit
from server.openrosa.auth import authenticate
from server.openrosa.uploads import UploadLimits, read_submission_body
from server.replication import operations
from server.replication.schemas import (
    DecisionIn,
    DecisionIntakeOut,
    DecisionPageOut,
    DecisionPageQuery,
    IntakeOut,
    PageOut,
    PageQuery,
    RawSubmissionOut,
    ReplicatedArgs,
)
from server.storage import blob_store
from sync.errors import BadRequest

bp = Blueprint("replication", __name__, url_prefix="/api/v1/replication")


def _principal():
    return current_staff() or authenticate(None)


@bp.get("/submissions")
def submissions_after():
    query = PageQuery().load(request.args)
    page = operations.submissions_after(_principal(), query["after"], query["limit"])
    commit()  # the audit record of this read
    return jsonify(PageOut().dump(page))


@bp.get("/submissions/<instance_id>")
def submission(instance_id: str):
    found = operations.submission(_principal(), instance_id)
    commit()
    return jsonify(RawSubmissionOut().dump(found))


@bp.get("/submissions/<instance_id>/attachments/<name>")
def attachment(instance_id: str, name: str):
    stream, content_type = operations.attachment_file(_principal(), instance_id, name, blob_store())
    commit()
    return send_file(stream, mimetype=content_type, as_attachment=True, download_name=name)


@bp.post("/submissions")
def receive():
    """A submission from a town server: its stored XML and attachments as an OpenRosa multipart body, with where,
    by whom and when it was collected in the query arguments."""
    principal = authenticate(None)
    origin = ReplicatedArgs().load(request.args)
    limits = UploadLimits.from_config(current_app.config)
    with read_submission_body(request.stream, request.mimetype, request.mimetype_params, request.content_length,
                              limits) as (xml, files):
        result = operations.receive_replicated(
            principal, xml, files, area=origin["area"], collector=origin["collector"],
            received_at=origin["received_at"], device_id=origin["device_id"], blobs=blob_store(),
            max_attachment_bytes=limits.attachment_bytes, now=clock.now())
        commit()
    return Response(IntakeOut().dumps(result), status=201, content_type="application/json")


@bp.get("/decisions")
def decisions_after():
    query = DecisionPageQuery().load(request.args)
    page = operations.decisions_after(_principal(), query["after"], query["limit"], query["undone_since"])
    commit()  # the audit record of this read
    return jsonify(DecisionPageOut().dump(page))


@bp.post("/decisions")
def receive_decision():
    """A register decision from a town server (JSON), recorded once; sent again with `undone_at`, it is undone."""
    principal = authenticate(None)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("a JSON object is expected")
    decision = DecisionIn().load(body)
    changed = operations.receive_decision(principal, decision)
    commit()
    return jsonify(DecisionIntakeOut().dump({"uuid": decision.uuid, "changed": changed}))
