"""What a span may not carry: secrets and signed URLs are dropped before any span is exported.

Free of OpenTelemetry: plain functions over attribute mappings, used by ``tracing_setup``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Keys whose values are secret whatever they hold: captured headers (an operator may turn on
# OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*), credentials, request and message bodies.
SECRET_KEY = re.compile(
    r"authorization|cookie|token|password|passwd|secret|signature|credential|session"
    r"|x-amz-security|api[._-]?key|\.body|payload|message\.content",
    re.IGNORECASE,
)
# A query string after a URL or a path: signed /media URLs (e=, s=), S3 presigned URLs
# (X-Amz-Signature, X-Amz-Credential), the Cognito callback's code and state. A SQL statement's
# placeholders (``= ?``) follow no path and stay.
QUERY = re.compile(r"((?:[a-z][a-z0-9+.-]*://|/)[^\s?#\"'<>]*)\?[^\s#\"'<>]*", re.I)
# Keys that are nothing but a query string.
QUERY_KEYS = frozenset({"url.query", "http.query", "http.request.query"})
# Values that look like credentials wherever they appear (a bearer token in an error message).
SECRET_VALUE = re.compile(r"(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def scrub_text(value: str) -> str:
    """``value`` without query strings and credentials."""
    if "?" in value:
        value = QUERY.sub(r"\1", value)
    if " " in value:
        value = SECRET_VALUE.sub(r"\1 [removed]", value)
    return value


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes):
        return None  # photo bytes or a body: never exported
    if isinstance(value, tuple | list):
        kept = [scrub_value(v) for v in value]
        return tuple(v for v in kept if v is not None)
    return value


def scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes that may be exported, query strings removed from every text value."""
    kept: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if key in QUERY_KEYS or SECRET_KEY.search(key):
            continue
        value = scrub_value(value)
        if value is not None:
            kept[key] = value
    return kept
