"""The OpenTelemetry SDK set up for AWS X-Ray: imported only when TRACING=otlp.

X-Ray ids and header, a batch exporter over OTLP/HTTP to the collector on the instance, the
scrubber in front of it, and instrumentation of Flask, SQLAlchemy, botocore and requests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.aws.aws_xray_propagator import TRACE_HEADER_KEY
from opentelemetry.propagators.textmap import Getter, default_getter
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status

from .tracing_scrub import scrub_attributes, scrub_text

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

    from ..settings import Settings

_ALB_ROOT = otel_context.create_key("xray-root-without-parent")
# Load balancer health checks every few seconds are not worth a trace each.
EXCLUDED_URLS = r"/health$,/ready$"


class Tracing:
    """One process's tracer provider and instrumentation."""

    def __init__(self, settings: Settings) -> None:
        resource = Resource.create({"service.name": settings.otel_service_name or "photogallery"})
        self.provider = TracerProvider(id_generator=XRayIdGenerator(), resource=resource)
        exporter = OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint))
        self.provider.add_span_processor(ScrubbingProcessor(BatchSpanProcessor(exporter)))
        self.tracer = self.provider.get_tracer("photogallery")
        self._previous_propagator = get_global_textmap()
        self.propagator = XRayPropagator()
        set_global_textmap(self.propagator)  # Flask's and botocore's instrumentation read it
        BotocoreInstrumentor().instrument(tracer_provider=self.provider)
        RequestsInstrumentor().instrument(tracer_provider=self.provider)
        # boto3's S3 transfers (and the inline label queue) work in threads of their own.
        ThreadingInstrumentor().instrument()
        self._engines: list[Any] = []

    def instrument_app(self, app: Flask) -> None:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        excluded = None if os.environ.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS") else EXCLUDED_URLS
        FlaskInstrumentor.instrument_app(
            app, tracer_provider=self.provider, excluded_urls=excluded, enable_commenter=False
        )

    def instrument_engine(self, engine: Engine) -> None:
        """Trace this engine's statements (never their parameters)."""
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeterProvider

        tracer = self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        meter = NoOpMeterProvider().get_meter("photogallery")
        usage = meter.create_up_down_counter("db.client.connections.usage")
        self._engines.append(EngineTracer(tracer, engine, usage, enable_commenter=False))

    def message_attributes(self) -> dict[str, dict[str, str]]:
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier)
        return {k: {"DataType": "String", "StringValue": v} for k, v in carrier.items()}

    def context_from(self, attributes: Mapping[str, Any]) -> Context | None:
        carrier = {k: _string_value(v) for k, v in attributes.items()}
        found = self.propagator.extract(carrier)
        return found if trace.get_current_span(found).get_span_context().is_valid else None

    @contextmanager
    def job_span(self, name: str, parent: Context | None, tags: Mapping[str, Any]) -> Iterator:
        kind = trace.SpanKind.CONSUMER
        tags = {k: v for k, v in tags.items() if v is not None}
        with self.tracer.start_as_current_span(name, parent, kind, attributes=tags) as span:
            yield span

    @contextmanager
    def suppressed(self) -> Iterator[None]:
        with suppress_instrumentation():
            yield

    def shutdown(self) -> None:
        BotocoreInstrumentor().uninstrument()
        RequestsInstrumentor().uninstrument()
        ThreadingInstrumentor().uninstrument()
        if self._engines:
            self._engines[0].remove_all_event_listeners()  # every engine's (a class method)
        set_global_textmap(self._previous_propagator)
        self.provider.shutdown()


def traces_url(endpoint: str) -> str:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to /v1/traces."""
    return endpoint if endpoint.endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"


def _string_value(value: Any) -> str:
    """A message attribute's text: SQS API shape, Lambda event shape, or a plain string."""
    if isinstance(value, Mapping):
        return str(value.get("StringValue", value.get("stringValue", "")))
    return str(value)


class XRayPropagator(AwsXRayPropagator):
    """The X-Ray header; a ``Root`` with no ``Parent`` (what the ALB adds to a request that
    had no header) still names the trace, which this process's first span then starts."""

    def extract(
        self, carrier: Any, context: Context | None = None, getter: Getter = default_getter
    ) -> Context:
        found = super().extract(carrier, context, getter)
        if trace.get_current_span(found).get_span_context().is_valid:
            return found
        root = _root_of((getter.get(carrier, TRACE_HEADER_KEY) or [""])[0])
        return found if root is None else otel_context.set_value(_ALB_ROOT, root, found)


def _root_of(header: str) -> int | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root" and len(value) == 35 and value.startswith("1-") and value[10] == "-":
            try:
                return int(value[2:10] + value[11:], 16) or None
            except ValueError:
                return None
    return None


class XRayIdGenerator(AwsXRayIdGenerator):
    """X-Ray trace ids (epoch seconds first); the ALB's Root when the request brought one."""

    def generate_trace_id(self) -> int:
        root = otel_context.get_value(_ALB_ROOT)
        return root if isinstance(root, int) else super().generate_trace_id()


class ScrubbingProcessor(SpanProcessor):
    """Hands the exporter a copy of each span without secrets or query strings."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.inner.on_end(scrubbed(span))

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    events = [
        Event(scrub_text(e.name), scrub_attributes(e.attributes), e.timestamp) for e in span.events
    ]
    status = span.status
    if status.description:
        status = Status(status.status_code, scrub_text(status.description))
    return ReadableSpan(
        name=scrub_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=scrub_attributes(span.attributes),
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
