"""Security headers on every response, the pages' Content-Security-Policy included."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import Flask, Response

from ..backends import Backends
from ..services import direct_uploads

PRIVATE_TYPES = ("text/html", "application/json")


def page_csp(*, connect_src: Sequence[str] = (), form_action: Sequence[str] = ()) -> str:
    """Pages load only their own CSS and scripts; images come from this site or (S3) https."""
    directives = [
        ("default-src", ["'self'"]),
        # Without extra origins default-src already limits scripts' requests to this site.
        ("connect-src", ["'self'", *connect_src] if connect_src else []),
        ("img-src", ["'self'", "https:", "data:", "blob:"]),
        ("style-src", ["'self'"]),
        ("script-src", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
        # https: lets sign-out continue to Cognito's hosted UI.
        ("form-action", ["'self'", "https:", *form_action]),
        ("base-uri", ["'none'"]),
    ]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives if sources)


def extra_sources(backends: Backends) -> dict[str, list[str]]:
    """Origins the settings add: the bucket for direct upload, a plain-http hosted UI (tests)."""
    sources: dict[str, list[str]] = {}
    if direct_uploads.is_enabled(backends):
        sources["connect_src"] = [direct_uploads.upload_origin(backends)]
    cognito = backends.settings.cognito
    hosted_ui = urlsplit((cognito.domain or cognito.issuer) if cognito else "")
    if hosted_ui.scheme == "http":
        sources["form_action"] = [f"http://{hosted_ui.netloc}"]
    return sources


def register(app: Flask) -> None:
    policy: list[str] = []  # built on the first page, once the store can sign (after forking)

    @app.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            if not policy:
                policy.append(page_csp(**extra_sources(app.extensions["photogallery"])))
            response.headers.setdefault("Content-Security-Policy", policy[0])
        if response.mimetype in PRIVATE_TYPES:
            # Pages and answers may be private: after sign-out, Back must not show them again
            # from the browser's cache (no-store also keeps them out of the back/forward cache).
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
