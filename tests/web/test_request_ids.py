"""Request ids: the ALB's X-Amzn-Trace-Id Root continues (or the current trace's id), in the
answer's X-Request-Id, the access line and the app's own log lines of that request."""

from __future__ import annotations

import json
import logging
import re

import pytest
from opentelemetry import trace

from photogallery.observability.logs import JsonFormatter

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
XRAY_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
ROOT = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.fixture
def app(make_app):
    app = make_app()

    @app.get("/test/log-something")
    def log_something():
        logging.getLogger("photogallery.test").warning("something happened")
        return "ok"

    return app


def lines_of(caplog, logger: str) -> list[dict]:
    """The JSON lines LOG_FORMAT=json writes for ``logger``'s records."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


def test_the_albs_trace_header_root_is_the_request_id_everywhere(client, caplog):
    header = (
        f"Self=1-67891234-12456789abcdef012345678;Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
    )
    with caplog.at_level(logging.INFO):
        answer = client.get("/test/log-something?token=SECRET", headers={"X-Amzn-Trace-Id": header})

    assert answer.headers["X-Request-Id"] == ROOT
    [access] = lines_of(caplog, "photogallery.access")
    [own] = lines_of(caplog, "photogallery.test")
    assert access["request_id"] == own["request_id"] == ROOT
    assert (access["method"], access["route"], access["status"]) == (
        "GET",
        "/test/log-something",
        200,
    )
    assert access["bytes"] == 2 and access["duration_ms"] >= 0
    assert "SECRET" not in json.dumps(access)  # never the query string


@pytest.mark.parametrize(
    "header",
    [None, "Root=1-5759e988-BD862E3FE1BE46A994272793", "Root=not-a-trace-id", "Root=" + ROOT + "0"],
)
def test_without_a_well_formed_header_a_new_xray_form_id_is_made(client, header):
    headers = {"X-Amzn-Trace-Id": header} if header else {}

    first = client.get("/health", headers=headers).headers["X-Request-Id"]
    second = client.get("/health", headers=headers).headers["X-Request-Id"]

    assert XRAY_ID.fullmatch(first) and XRAY_ID.fullmatch(second)
    assert first != second and ROOT not in (first, second)


def test_the_current_traces_id_wins_over_the_header(client):
    trace_id = 0x5F84C7A0_0123456789ABCDEF01234567
    span = trace.NonRecordingSpan(
        trace.SpanContext(trace_id, 0x1234, is_remote=True, trace_flags=trace.TraceFlags(1))
    )
    with trace.use_span(span):
        answer = client.get("/health", headers={"X-Amzn-Trace-Id": f"Root={ROOT}"})

    assert answer.headers["X-Request-Id"] == "1-5f84c7a0-0123456789abcdef01234567"


def test_the_access_line_names_the_rule_and_the_signed_in_person(user_client, backends, caplog):
    with caplog.at_level(logging.INFO):
        user_client.get("/photos/12345?next=/elsewhere")
        user_client.get("/no/such/page?s=SIGNATURE")

    routes = lines_of(caplog, "photogallery.access")
    assert [(line["route"], line["status"]) for line in routes] == [
        ("/photos/<int:photo_id>", 404),
        ("/no/such/page", 404),
    ]
    assert {line["user_id"] for line in routes} == {1}
