"""Accounts for the town office: collectors (a new one with the QR code Collect scans; a new code after a
confirmation) and village cadres; revoking them (with an undo) and re-activating them."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from server.accounts.session import require_staff
from server.areas.operations import drill_down
from server.database import commit
from server.extensions import csrf, db
from server.submissions.queries import last_received
from server.users.operations import (
    CollectorCode,
    accounts_for,
    activate_account,
    collector_groups,
    collectors_by_town,
    collectors_for,
    managed_collector,
    onboard_collector,
    reissue_collector_token,
    revoke_account,
)
from server.users.schemas import NewCollectorForm
from sync.collect_settings import collector_settings, encode_settings
from sync.errors import BadRequest, Conflict, Forbidden

bp = Blueprint("users", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _server_url(token: str) -> str:
    base = current_app.config["TAIZHANG_PUBLIC_URL"] or request.host_url
    return f"{base.rstrip('/')}/key/{token}"


def _qr_page(code: CollectorCode):
    url = _server_url(code.token)
    payload = encode_settings(collector_settings(url, project_name=f"台账 {code.group_full_name}"))
    svg = segno.make(payload, micro=False, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return render_template("users/qr.html", code=code, url=url, qr_svg=svg, payload=payload)


def _refused(message: str | None = None):
    """An account change the officer may not make: a page in their language, nothing changed."""
    db.session.rollback()
    message = message or _("You may revoke or re-activate only collectors and village cadres of your own area; "
                           "never yourself or another officer.")
    return render_template("users/refused.html", message=message), 403


def _collectors_page(principal, *, area: str | None = None, messages: tuple[str, ...] = (), form=None,
                     status: int = 200):
    """The collectors and accounts of an area of the officer's (by default their own; the whole county: its towns
    counted, each to be chosen, and its town officers)."""
    collector_groups(principal)   # the town office's page only (Forbidden for anyone else)
    view = drill_down(principal, area, refusal="collectors are set up by the town office of their group")
    if view.path is None:
        collectors, towns, groups = [], collectors_by_town(principal), []
    else:
        collectors, towns, groups = collectors_for(principal, view.path), {}, collector_groups(principal, view.path)
    synced = last_received([row.user.id for row in collectors])
    return render_template("users/collectors.html", collectors=collectors, towns=towns, view=view,
                           accounts=accounts_for(principal, view.path), groups=groups, last_sync=synced,
                           messages=messages, form=form or {}), status


@bp.get("/collectors")
def collectors():
    return _collectors_page(require_staff(), area=request.args.get("area"))


_FORM_PROBLEMS = {
    "username": lambda: _("The user name is 2–64 letters, digits, dots, dashes or underscores, e.g. dongcun2b."),
    "display_name": lambda: _("The name is at most 100 characters."),
    "group": lambda: _("Choose the collector's group from the list."),
}


@bp.post("/collectors")
def new_collector():
    principal = require_staff()
    collector_groups(principal)   # the town office's page only (Forbidden for anyone else)
    problems = NewCollectorForm().validate(request.form)
    if problems:
        return _collectors_page(principal, messages=tuple(message() for name, message in _FORM_PROBLEMS.items()
                                                          if name in problems), form=request.form, status=400)
    form = NewCollectorForm().load(request.form)
    try:
        created = onboard_collector(principal, form["username"], form["display_name"], form["group"],
                                    realm=current_app.config["TAIZHANG_REALM"])
    except Forbidden:
        return _refused(_("You may set up collectors only for groups of your own area."))
    except BadRequest:    # not a group
        db.session.rollback()
        return _collectors_page(principal, messages=(_FORM_PROBLEMS["group"](),), form=request.form, status=400)
    except Conflict:      # the user name is taken
        db.session.rollback()
        return _collectors_page(principal, messages=(_("The user name %(name)s is taken; choose another.",
                                                       name=form["username"]),), form=request.form, status=409)
    commit()
    return _qr_page(created)


def _collector_to_change(principal, username: str):
    """The collector named in the address, or why not: a refusal (another area's) or the page with a message."""
    try:
        return managed_collector(principal, username), None
    except Forbidden:
        return None, _refused()
    except (BadRequest, Conflict):   # not a collector, or revoked
        flash(_("Only an active collector gets a new QR code: re-activate the account first."), "error")
        return None, redirect(url_for("users.collectors"))


@bp.get("/collectors/<username>/token")
def confirm_new_token(username: str):
    """A new QR code cannot be undone (the old one stops working): it is asked for on this page first."""
    collector, refusal = _collector_to_change(require_staff(), username)
    if refusal is not None:
        return refusal
    return render_template("users/confirm_token.html", collector=collector)


@bp.post("/collectors/<username>/token")
def new_token(username: str):
    principal = require_staff()
    collector, refusal = _collector_to_change(principal, username)
    if refusal is not None:
        return refusal
    created = reissue_collector_token(principal, username)
    commit()
    flash(_("A new QR code for %(name)s: the old one no longer works.", name=collector.user.display_name), "notice")
    return _qr_page(created)


@bp.post("/collectors/<username>/revoke")
def revoke(username: str):
    principal = require_staff()
    try:
        user = revoke_account(principal, username)
    except Forbidden:
        return _refused()
    commit()
    # What happened, with the undo (re-activating) at hand.
    flash(get_template_attribute("users/_flashes.html", "revoked")(user), "notice")
    return redirect(url_for("users.collectors"))


@bp.post("/collectors/<username>/activate")
def activate(username: str):
    principal = require_staff()
    try:
        user = activate_account(principal, username)
    except Forbidden:
        return _refused()
    commit()
    flash(get_template_attribute("users/_flashes.html", "activated")(user), "notice")
    return redirect(url_for("users.collectors"))
