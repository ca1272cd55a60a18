"""/metrics: the app's figures in Prometheus's text format, for the networks in METRICS_ALLOW
or a scraper sending ``Authorization: Bearer <METRICS_TOKEN>``. Anyone else gets a plain 404, as
if there were nothing here (no page, so no sign-in machinery runs for a stranger's header)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, request

from ..context import get_backends
from ..observability.prometheus import shared_sink
from ..settings import Settings

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    settings = get_backends().settings
    if "prometheus" not in settings.metrics or not allowed(settings):
        return Response("Not found\n", status=404, mimetype="text/plain")
    body, content_type = shared_sink().exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def allowed(settings: Settings) -> bool:
    """A request with an Authorization header is judged by it alone (like the rest of the
    app): only the metrics token opens; an API token or anything else does not. Without one,
    the client address (after PROXY_COUNT's ProxyFix) must be in METRICS_ALLOW."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        expected = settings.metrics_token
        return bool(
            expected
            and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), expected.encode())
        )
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_allow)
