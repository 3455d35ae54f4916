"""taizhang's Flask application: OpenRosa for ODK Collect, review UI, JSON API, auth and persistence."""

from __future__ import annotations

import functools
import time
from email.utils import formatdate
from pathlib import Path

from flask import Flask, request
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from server import (
    boundary,
    models,  # noqa: F401  (every table registered before Alembic looks)
)
from server.accounts.session import CookieSessions, current_staff
from server.accounts.views import bp as accounts_bp
from server.archive.views import bp as archive_bp
from server.audit.views import bp as audit_bp
from server.config import load_config
from server.copies.views import bp as copies_bp
from server.corrections.views import bp as corrections_bp
from server.database import configure_engine
from server.errors import channel, register_error_handlers
from server.exports.views import bp as exports_bp
from server.extensions import MIGRATIONS_DIR, babel, compress, csrf, db, init_limiter, migrate, select_locale
from server.home.views import bp as home_bp
from server.indicators.views import bp as indicators_bp
from server.lookup_cache import LookupCache
from server.meetings.views import bp as meetings_bp
from server.monitoring.views import bp as monitoring_bp
from server.months.views import bp as months_bp
from server.moves.views import bp as moves_bp
from server.notices.views import api as notice_replication_bp
from server.notices.views import bp as notices_bp
from server.openrosa.views import bp as openrosa_bp
from server.privacy.views import bp as privacy_bp
from server.rechecks.views import bp as rechecks_bp
from server.register.views import bp as register_bp
from server.registers.views import bp as registers_bp
from server.replication.views import bp as replication_bp
from server.schedules.views import bp as schedules_bp
from server.services.views import bp as services_bp
from server.storage import BlobStore
from server.templating import register_filters
from server.users.views import bp as users_bp

__all__ = ["create_app"]


@functools.lru_cache(maxsize=1)
def _http_date(second: int) -> str:
    """A response's Date header, written once a second (4 % of the CPU of Collect's HEAD + POST in the app, each
    written anew)."""
    return formatdate(second, usegmt=True)


def create_app(test_config: dict | None = None) -> Flask:
    config = load_config(test_config)
    app = Flask(__name__, instance_path=str(config["INSTANCE_DIR"]))
    app.config.from_mapping(config)
    app.session_interface = CookieSessions()
    boundary.init_app(app)  # the bounded <int:…> converter first: routes compile their converters when added
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    compress.init_app(app)
    csrf.init_app(app)
    init_limiter(app)
    babel.init_app(app, locale_selector=select_locale)
    with app.app_context():
        configure_engine(db.engine)
    app.extensions["taizhang_blobs"] = BlobStore(app.config["TAIZHANG_BLOB_DIR"])
    app.extensions["taizhang_lookup_cache"] = LookupCache(app.config["TAIZHANG_LOOKUP_CACHE_SECONDS"])

    app.register_blueprint(openrosa_bp)
    app.register_blueprint(openrosa_bp, url_prefix="/key/<token>", name="openrosa_token")
    app.register_blueprint(schedules_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(register_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(corrections_bp)
    app.register_blueprint(moves_bp)
    app.register_blueprint(copies_bp)
    app.register_blueprint(registers_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(rechecks_bp)
    app.register_blueprint(indicators_bp)
    app.register_blueprint(replication_bp)
    app.register_blueprint(months_bp)
    app.register_blueprint(archive_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(notice_replication_bp)
    app.register_blueprint(privacy_bp)
    register_error_handlers(app)
    register_filters(app)
    app.jinja_env.globals.update(current_staff=current_staff, get_locale=get_locale)

    @app.after_request
    def _protocol_headers(response):
        if channel() == "openrosa":
            response.headers["X-OpenRosa-Version"] = "1.0"
            if request.path.endswith("/submission"):
                response.headers["X-OpenRosa-Accept-Content-Length"] = str(app.config["TAIZHANG_MAX_SUBMISSION_BYTES"])
        response.headers.setdefault("Date", _http_date(int(time.time())))
        # Pages, exports, the API and the phones' lists show personal data: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"
        return response

    proxies = app.config["TAIZHANG_PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies,
                                x_prefix=proxies)
    return app

