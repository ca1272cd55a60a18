"""Small request-safety helpers shared by the blueprints."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def external_url(endpoint: str, **values: object) -> str:
    """An absolute URL of this site: on BASE_URL when set, else as the request came in.

    Without BASE_URL the scheme and host are the request's, which ProxyFix (PROXY_COUNT) corrects
    behind a TLS-terminating load balancer, so redirect URIs come out as https://.
    """
    base = current_app.config["PHOTOS_SETTINGS"].base_url
    if not base:
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{url_for(endpoint, **values)}"


def client_address() -> str:
    """The client's address: the peer's, or with PROXY_COUNT the one the trusted proxies saw
    (ProxyFix rewrote it), never a forwarded header nobody vouches for."""
    return request.remote_addr or ""
