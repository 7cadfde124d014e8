"""Business ID: the application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import ui
from idp.config import ConfigError, load_config, validate_config
from idp.extensions import babel, csrf, db, limiter, mail, migrate, talisman
from idp.logs import configure_logging, log_format

HERE = Path(__file__).resolve().parent
# The core's Alembic history: in the package when installed from a wheel (setup.py puts it there),
# migrations/ at the root of the tree in a checkout and an editable install.
MIGRATIONS = HERE / "migrations" if (HERE / "migrations" / "env.py").is_file() else HERE.parent / "migrations"
TRANSLATIONS = HERE / "translations"

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app from ``IDP_*`` environment variables, overridden by ``test_config``."""
    app = Flask(
        "idp",
        template_folder=str(ui.TEMPLATES),
        static_folder=str(ui.STATIC),
        instance_path=os.path.abspath("instance"),
    )
    settings = load_config()
    if test_config:
        settings.update(test_config)
        problems = validate_config(settings)
        if problems:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    app.config.update(settings)
    app.config.update(_flask_settings(app, settings))
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if not k.startswith("IDP_")})
    app.config["RATELIMIT_STORAGE_OPTIONS"] = _storage_options(app.config)

    # Text or JSON lines, and no token of a URL in any line (idp.logs).
    configure_logging(app.config["IDP_LOG_LEVEL"], log_format(app.config))

    from idp import metrics, registrar, requestlog
    from idp.connectors import claims as service_claims
    from idp.connectors import links as service_links
    from idp.connectors import registry as connectors
    from idp.oauth import machine
    from idp.orgs import services as organisations

    connectors.load(app)  # before Babel: connectors bring their own catalogues
    _init_extensions(app)
    _register_blueprints(app)
    connectors.init_app(app)
    service_claims.init_app(app)
    service_links.init_app(app)
    organisations.init_app(app)
    registrar.init_app(app)
    if app.config["IDP_WORKER_IN_PROCESS"]:
        from idp.delivery.worker import start_background_worker

        app.extensions["idp_worker_stop"] = start_background_worker(app)
    # The WSGI layers, inside out: the machine endpoints' fast path in front of Flask's dispatch,
    # the proxy's headers read before either, then the metrics and the request line of each.
    machine.init_app(app)
    if app.config["IDP_TRUSTED_PROXIES"]:
        n = app.config["IDP_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    metrics.init_app(app)  # its middleware counts every request, a fast path's too
    requestlog.init_app(app)  # last: its middleware wraps every other one (request ids, request lines)
    return app


def _flask_settings(app: Flask, settings: dict[str, Any]) -> dict[str, Any]:
    """Derive the settings Flask and its extensions read from the ``IDP_*`` ones."""
    production = settings["IDP_ENV"] == "production"
    secure = settings["IDP_ISSUER"].startswith("https://")
    database_url = settings["IDP_DATABASE_URL"]
    if not database_url:
        data_dir = Path(settings["IDP_DATA_DIR"] or app.instance_path)
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{data_dir / 'idp.sqlite3'}"
    return {
        "SECRET_KEY": settings["IDP_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No ping before every use (a round trip per request on PostgreSQL): a connection idle for a
        # while is pinged as it is taken from the pool (idp.dbpool), and a dropped one replaced.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # "__Host-" binds the cookie to this exact origin; browsers accept it only over HTTPS.
        "SESSION_COOKIE_NAME": "__Host-idp_session" if secure else "idp_session",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "RATELIMIT_STORAGE_URI": settings["IDP_REDIS_URL"] or "memory://",
        "RATELIMIT_KEY_PREFIX": "idp",
        # While Redis is away each instance limits in its own memory, and shared limits resume
        # when it is back; SMS budgets fail closed instead (idp.otp.budgets).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": settings["IDP_DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": settings["IDP_TIMEZONE"],
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS),
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": production,
        "WTF_I18N_ENABLED": True,
        "TEMPLATES_AUTO_RELOAD": not production,
        "MAIL_SERVER": settings["IDP_MAIL_SERVER"],
        "MAIL_PORT": settings["IDP_MAIL_PORT"],
        "MAIL_USE_TLS": settings["IDP_MAIL_USE_TLS"],
        "MAIL_USE_SSL": settings["IDP_MAIL_USE_SSL"],
        "MAIL_USERNAME": settings["IDP_MAIL_USERNAME"] or None,
        "MAIL_PASSWORD": settings["IDP_MAIL_PASSWORD"] or None,
        "MAIL_DEFAULT_SENDER": settings["IDP_MAIL_SENDER"],
        "MAIL_SUPPRESS_SEND": False,
    }


def _storage_options(config) -> dict[str, Any]:
    """Options of the rate-limit storage: an unreachable Redis must fail fast, not hang requests."""
    options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
    return options


def _init_extensions(app: Flask) -> None:
    from idp import dbpool, generations, models  # noqa: F401  (models: register every table with the metadata)
    from idp.delivery.channels import register_channels
    from idp.i18n import select_locale
    from idp.otp import budgets
    from idp.sessions.interface import DatabaseSessionInterface, tell_ended_sessions

    db.init_app(app)
    with app.app_context():
        dbpool.tune(db.engine)
    generations.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    if _with_connector_migrations not in migrate.configure_callbacks:
        migrate.configure(_with_connector_migrations)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    budgets.init_app(app)
    mail.init_app(app)
    production = app.config["IDP_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=production,
        strict_transport_security=production,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
    )
    app.session_interface = DatabaseSessionInterface()
    tell_ended_sessions(app)
    register_channels()
    from idp.oauth import backchannel, server

    server.init_app(app)
    backchannel.connect(app)


def _with_connector_migrations(config):
    """Add each connector's revisions (one branch per connector) to the one Alembic history."""
    from flask import current_app

    from idp.connectors.registry import migration_directories

    locations = [str(MIGRATIONS / "versions"), *migration_directories(current_app)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


def _register_blueprints(app: Flask) -> None:
    from idp import i18n
    from idp.api import views as api
    from idp.auth import views as auth_views
    from idp.cli import register_commands
    from idp.connectors import cabinet
    from idp.connectors import views as service_views
    from idp.dev import views as dev_views
    from idp.errors import register_error_handlers
    from idp.oauth import authorize, logout
    from idp.oauth import views as oauth_views
    from idp.orgs import staff
    from idp.orgs import views as org_views
    from idp.otp import sms
    from idp.profiles import registration, security
    from idp.profiles import views as profile_views
    from idp.scim import views as scim_views
    from idp.security import headers
    from idp.templating import register_template_helpers

    for blueprint in (
        i18n.bp,
        auth_views.bp,
        profile_views.bp,
        registration.bp,
        security.bp,
        sms.bp,
        oauth_views.bp,
        authorize.bp,
        logout.bp,
        service_views.bp,
        org_views.bp,
        staff.bp,
        api.bp,
        scim_views.bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["IDP_ENV"] == "development":
        app.register_blueprint(dev_views.bp)
    register_error_handlers(app)
    api.init_app(app)
    headers.register(app)
    register_template_helpers(app)
    cabinet.register_template_helpers(app)
    register_commands(app)
