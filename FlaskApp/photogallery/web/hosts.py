"""The Host header is the client's word: never echo it back in a redirect.

With BASE_URL set, only its host (and this machine's own names) is served; a load balancer's
health checks, which name the instance's address, are answered too. Without BASE_URL the site's
name is unknown, so any host is served. Either way a redirect back to this site goes out as a
path, which a forged Host cannot change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.sansio.utils import host_is_trusted

from ..settings import Settings
from .errors import answer

UNCHECKED_BLUEPRINTS = {"health", "metrics"}  # probes and scrapers address the instance by IP
# A link to these reaches only the visitor's own machine, never an attacker's site; trusting them
# keeps `make run`, curl on the instance and the tests working with BASE_URL set.
LOOPBACK = ["localhost", "127.0.0.1"]


def trusted_hosts(settings: Settings) -> list[str]:
    """The host names this site answers to: BASE_URL's, or none (then any host is served)."""
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return [host, *LOOPBACK] if host else []


def register(app: Flask, settings: Settings) -> None:
    trusted = trusted_hosts(settings)

    @app.before_request
    def only_trusted_hosts():
        # Runs before routing's own redirects (merged slashes) are raised, and before CSRF.
        if not trusted or request.blueprint in UNCHECKED_BLUEPRINTS:
            return None
        if host_is_trusted(request.host, trusted):
            return None
        return answer(400, "This site is not served under that host name.")

    @app.after_request
    def relative_self_redirects(response: Response) -> Response:
        location = response.headers.get("Location")
        if location:
            parts = urlsplit(location)
            if parts.netloc and parts.netloc == request.host:
                response.headers["Location"] = parts._replace(scheme="", netloc="").geturl()
        return response
