"""A photo gallery that labels what is in each picture."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, context
from .observability import logs, tracing
from .observability import metrics as recorded_metrics
from .services.auth import sessions
from .settings import ConfigError, Settings, load_settings
from .web import (
    access_log,
    api,
    auth,
    cognito,
    direct_upload,
    errors,
    gallery,
    headers,
    health,
    hosts,
    ids,
    links,
    media,
    metrics,
    sessions_api,
    upload,
)
from .web.csrf import csrf
from .web.icons import bp as icons_bp

__all__ = ["ConfigError", "create_app"]


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: settings → logging → adapters → extensions → blueprints → errors → CLI."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(os.environ, test_config, app.instance_path)
    configure(app, settings)
    configure_logging(settings)
    recorded_metrics.configure_sinks(settings.metrics, settings.metrics_namespace)
    access_log.register(app)  # first of the request hooks: times and logs every request
    context.init_app(app, settings)
    tracing.init_app(app, settings)  # after the engine exists; a no-op unless TRACING=otlp
    hosts.register(app, settings)  # first: a forged Host is refused before anything else runs
    ids.register(app)
    register_extensions(app)
    register_blueprints(app)
    errors.register(app)
    headers.register(app)
    links.register(app)
    cli.register(app)
    return app


def configure(app: Flask, settings: Settings) -> None:
    https = bool(settings.base_url and settings.base_url.startswith("https://"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        # Multipart framing adds a little; the per-photo limit is what a person reads about.
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024 + 64 * 1024,
        MAX_UPLOAD_MB=settings.max_upload_mb,
        ALLOW_SIGNUP=settings.allow_signup and "local" in settings.auth,
        COGNITO_ENABLED="cognito" in settings.auth,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_SECURE=https,
        PREFERRED_URL_SCHEME="https" if https else "http",
        PERMANENT_SESSION_LIFETIME=sessions.LIFETIME,  # the server-side session's too
        # Not re-signed on every page (~0.14 ms): when the server-side session is renewed
        # (hourly at most, services/auth/sessions.py), web/auth.py re-issues the cookie.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session: a form left open for hours still works
        PHOTOS_SETTINGS=settings,
    )
    if not https and ("cognito" in settings.auth or settings.proxy_count):
        logging.getLogger(__name__).warning(
            "BASE_URL is not an https:// address, so session cookies are not marked Secure; "
            "set BASE_URL=https://<your site> in production"
        )
    if settings.proxy_count:
        # Behind an ALB (and nginx): trust that many hops for scheme, host and client address.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)


def configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_format)  # JSON or text; request ids on every record
    logging.getLogger("photogallery").setLevel(settings.log_level)
    werkzeug_log = logging.getLogger("werkzeug")
    if not sys.stderr.isatty() and not any(isinstance(f, PlainText) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(PlainText())
    if not any(isinstance(f, PathOnly) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(PathOnly())


class PlainText(logging.Filter):
    """werkzeug colours its lines with ANSI codes: keep colour for terminals, not log files."""

    ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.ANSI.sub("", record.getMessage()), None
        return True


class PathOnly(logging.Filter):
    """The dev server logs request lines: keep their paths, drop query strings, which can hold
    a signed /media URL (``e=``, ``s=``) or a sign-in's ``code`` and ``state`` (uWSGI and
    nginx log paths only too: Deploy/uwsgi.ini, Deploy/nginx/photos.conf)."""

    QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = self.QUERY.sub("", message), None
        return True


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    csrf.exempt(api.bp)  # the API checks CSRF itself, only for cookie-authenticated calls
    csrf.exempt(direct_upload.bp)  # likewise (it shares the API's check)
    csrf.exempt(sessions_api.bp)
    auth.init_app(app)


def register_blueprints(app: Flask) -> None:
    blueprints = (
        auth.bp,
        gallery.bp,
        upload.bp,
        api.bp,
        direct_upload.bp,
        sessions_api.bp,
        health.bp,
        media.bp,
        metrics.bp,
    )
    for blueprint in (*blueprints, icons_bp):
        app.register_blueprint(blueprint)
    if app.config["COGNITO_ENABLED"]:
        app.register_blueprint(cognito.bp)
