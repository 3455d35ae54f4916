"""Collectors for the town office: the list, a new collector with the QR code Collect scans, a new code, revoking."""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf
from server.users.operations import (NewCredentials, collectors_for, onboard_collector, reissue_collector_token,
                                     revoke_collector)
from server.users.schemas import NewCollectorForm
from sync.collect_settings import collector_settings, encode_settings

bp = Blueprint("users", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _server_url(token: str) -> str:
    base = current_app.config["TAIZHANG_PUBLIC_URL"] or request.host_url
    return f"{base.rstrip('/')}/key/{token}"


def _qr_page(created: NewCredentials, group: str):
    url = _server_url(created.token)
    payload = encode_settings(collector_settings(url, project_name=f"台账 {group}"))
    svg = segno.make(payload, micro=False, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return render_template("users/qr.html", created=created, group=group, url=url, qr_svg=svg, payload=payload)


@bp.get("/collectors")
def collectors():
    return render_template("users/collectors.html", collectors=collectors_for(require_staff()))


@bp.post("/collectors")
def new_collector():
    principal = require_staff()
    form = NewCollectorForm().load(request.form)
    created = onboard_collector(principal, form["username"], form["display_name"], form["group"],
                                realm=current_app.config["TAIZHANG_REALM"])
    commit()
    return _qr_page(created, form["group"])


@bp.post("/collectors/<username>/token")
def new_token(username: str):
    principal = require_staff()
    created = reissue_collector_token(principal, username)
    commit()
    group = next(name for user, name in collectors_for(principal) if user.username == username)
    return _qr_page(created, group)


@bp.post("/collectors/<username>/revoke")
def revoke(username: str):
    revoke_collector(require_staff(), username)
    commit()
    return redirect(url_for("users.collectors"))
