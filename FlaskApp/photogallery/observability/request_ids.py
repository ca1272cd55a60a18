"""Request ids in X-Ray form (``1-5f84c7a0-<24 hex>``), so one id finds a request's log lines
and its trace: the current OpenTelemetry trace's id, else the ALB's ``X-Amzn-Trace-Id`` Root,
else a new one."""

from __future__ import annotations

import re
import secrets
import sys
import time

ROOT = re.compile(r"(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})\s*(?:;|$)")
MAX_HEADER = 512  # a longer header is not the ALB's: not parsed


def request_id(amzn_trace_id: str | None) -> str:
    """The id of the request carrying this ``X-Amzn-Trace-Id`` header (or None)."""
    return from_current_span() or root_of(amzn_trace_id) or new_request_id()


def from_current_span() -> str | None:
    """The current span's trace id. Only tracing (TRACING=otlp) makes spans, and it imports
    OpenTelemetry first: without it, no import here (it costs ~90 ms) and no span to find."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    return xray_form(context.trace_id) if context.is_valid else None


def root_of(header: str | None) -> str | None:
    """The ``Root=`` of a well-formed ``X-Amzn-Trace-Id`` header."""
    if not header or len(header) > MAX_HEADER:
        return None
    match = ROOT.search(header)
    return match.group(1) if match else None


def xray_form(trace_id: int) -> str:
    """An OpenTelemetry trace id (128 bits) as X-Ray writes it: the first 32 bits are the
    epoch seconds when the X-Ray id generator made it."""
    digits = f"{trace_id:032x}"
    return f"1-{digits[:8]}-{digits[8:]}"


def new_request_id() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
