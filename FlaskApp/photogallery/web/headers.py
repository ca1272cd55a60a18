"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response

# Pages load only their own CSS; images come from this site or, with S3, presigned https URLs.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' https: data: blob:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self' https:; base-uri 'none'"
)


def register(app: Flask) -> None:
    @app.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
