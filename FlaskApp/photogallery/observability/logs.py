"""Log lines as JSON (one object a line, for CloudWatch Logs Insights) or as plain text.

Every record gets ``request_id`` and ``user_id`` when it is logged during a request, through a
record factory, so the app's own lines and the access line carry the same id whatever handler
formats them. The web layer says how to find them (``set_request_fields``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# werkzeug's own request line ('127.0.0.1 - - [date] "GET / HTTP/1.1" 200 -'): the app's access
# line replaces it in JSON logs.
SERVER_REQUEST_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')

RequestFields = Callable[[], "tuple[str | None, int | None]"]
_request_fields: RequestFields = lambda: (None, None)  # noqa: E731
_format = "text"


class AppHandler(logging.StreamHandler):
    """The handler the app installs on the root logger (stderr) when nothing else did."""


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, user_id; an access line's fields; traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "user_id"):
            if getattr(record, name, None) is not None:
                line[name] = getattr(record, name)
        line.update(getattr(record, "access", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class ServerRequestLines(logging.Filter):
    """Drops werkzeug's request lines while the logs are JSON (the access line says it all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _format != "json" or not SERVER_REQUEST_LINE.match(str(record.msg))


def configure(log_format: str) -> None:
    """JSON or text on the app's stderr handler (installed when the root has no handler yet:
    a host that set up logging itself keeps its handlers)."""
    global _format
    _format = log_format
    _install_record_factory()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, AppHandler)), None)
    if handler is None and not root.handlers:
        handler = AppHandler()
        root.addHandler(handler)
    if handler is not None:
        json_lines = log_format == "json"
        handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    server = logging.getLogger("werkzeug")
    if not any(isinstance(f, ServerRequestLines) for f in server.filters):
        server.addFilter(ServerRequestLines())


def set_request_fields(fields: RequestFields) -> None:
    """``fields()`` answers (request id, user id) of the request being served, or Nones."""
    global _request_fields
    _request_fields = fields


def _install_record_factory() -> None:
    base = logging.getLogRecordFactory()
    if getattr(base, "adds_request_fields", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            record.request_id, record.user_id = _request_fields()
        except Exception:  # logging must never fail a request
            record.request_id = record.user_id = None
        return record

    factory.adds_request_fields = True
    logging.setLogRecordFactory(factory)
