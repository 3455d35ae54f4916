"""Accounts for the town office: collectors (a new one with the QR code Collect scans, a new code) and village
cadres; revoking and re-activating them."""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf
from server.users.operations import (
    NewCredentials,
    accounts_for,
    activate_account,
    collectors_for,
    onboard_collector,
    reissue_collector_token,
    revoke_account,
)
from server.users.schemas import NewCollectorForm
from sync.collect_settings import collector_settings, encode_settings
from sync.errors import Forbidden

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


def _refused(message: str | None = None):
    """An account change the officer may not make: a page in their language, nothing changed."""
    message = message or _("You may revoke or re-activate only collectors and village cadres of your own area; "
                           "never yourself or another officer.")
    return render_template("users/refused.html", message=message), 403


@bp.get("/collectors")
def collectors():
    principal = require_staff()
    return render_template("users/collectors.html", collectors=collectors_for(principal),
                           accounts=accounts_for(principal))


@bp.post("/collectors")
def new_collector():
    principal = require_staff()
    form = NewCollectorForm().load(request.form)
    try:
        created = onboard_collector(principal, form["username"], form["display_name"], form["group"],
                                    realm=current_app.config["TAIZHANG_REALM"])
    except Forbidden:
        return _refused(_("You may set up collectors only for groups of your own area."))
    commit()
    return _qr_page(created, form["group"])


@bp.post("/collectors/<username>/token")
def new_token(username: str):
    principal = require_staff()
    try:
        created = reissue_collector_token(principal, username)
    except Forbidden:
        return _refused()
    commit()
    group = next(row.area_full_name for row in collectors_for(principal) if row.user.username == username)
    return _qr_page(created, group)


@bp.post("/collectors/<username>/revoke")
def revoke(username: str):
    principal = require_staff()
    try:
        revoke_account(principal, username)
    except Forbidden:
        return _refused()
    commit()
    return redirect(url_for("users.collectors"))


@bp.post("/collectors/<username>/activate")
def activate(username: str):
    principal = require_staff()
    try:
        activate_account(principal, username)
    except Forbidden:
        return _refused()
    commit()
    return redirect(url_for("users.collectors"))
