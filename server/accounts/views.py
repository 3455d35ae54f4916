"""Sign in, sign out, change one's password; choose the page language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from server.accounts.operations import change_password, log_in
from server.accounts.schemas import LoginForm, PasswordForm
from server.accounts.session import close_session, open_session, require_staff, session_key
from server.database import commit
from server.extensions import LANGUAGES, csrf, limiter
from sync.errors import Forbidden, LoginFailed, PasswordRejected, SignInLocked

bp = Blueprint("accounts", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _login_limit() -> str:
    return current_app.config["TAIZHANG_LOGIN_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no other host, no scheme) is followed after signing in."""
    parts = urlsplit(target or "")
    return target if target and not parts.scheme and not parts.netloc and target.startswith("/") else url_for(
        "home.home_page")


@bp.get("/")
def home():
    """The site's root: a signed-in staff member's home page; anyone else is asked to sign in (and comes back)."""
    require_staff()
    return redirect(url_for("home.home_page"))


@bp.get("/login")
def login_form():
    return render_template("accounts/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=lambda: "user:" + (request.form.get("username") or ""), methods=["POST"])
def login():
    try:
        form = LoginForm().load(request.form)
        principal = log_in(form["username"], form["password"], request.remote_addr)
    except SignInLocked as exc:
        minutes = -(-exc.context["retry_after"] // 60)
        page = render_template("accounts/login.html", next=request.form.get("next", ""), error=_(
            "Too many failed sign-ins: this user name or address is locked for %(minutes)s minutes.",
            minutes=minutes))
        return page, 429, {"Retry-After": str(exc.context["retry_after"])}
    except (ValidationError, LoginFailed, Forbidden) as exc:
        message = exc.message() if isinstance(exc, Forbidden) else _("Wrong user name or password.")
        return render_template("accounts/login.html", error=message, next=request.form.get("next", "")), 401
    open_session(principal)
    commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    close_session()
    commit()
    return redirect(url_for("accounts.login_form"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    principal = require_staff()
    if request.method == "GET":
        return render_template("accounts/password.html")
    try:
        form = PasswordForm().load(request.form)
        change_password(principal, form["current"], form["new"], session_key())
    except (ValidationError, LoginFailed, PasswordRejected) as exc:
        error = _("The current password is wrong.") if isinstance(exc, LoginFailed) else _(
            "The new password must have at least 10 characters and differ from the user name.")
        return render_template("accounts/password.html", error=error), 400
    commit()
    return render_template("accounts/password.html", done=True)


@bp.get("/language/<code>")
def language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
