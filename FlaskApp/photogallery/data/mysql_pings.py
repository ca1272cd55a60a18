"""mysql-connector without its ping before every statement.

mysql-connector-python pings the server each time a cursor is made (``cursor()`` asks
``is_connected()``, a COM_PING round trip): SQLAlchemy makes a cursor per statement, so every
statement cost two round trips. A dead connection is found just as surely by the statement
itself (SQLAlchemy sees the disconnect, invalidates the pool, and data/reads.py retries a
request's first read), so the cursor is made without asking.
"""

from __future__ import annotations

from typing import Any

_classes: dict[type, type] = {}


def skip_cursor_pings(dbapi_conn: Any, _record: Any) -> None:
    """A pool "connect" listener: the new connection makes cursors without a ping."""
    cls = type(dbapi_conn)
    if hasattr(cls, "is_connected") and not getattr(cls, "skips_cursor_ping", False):
        if cls not in _classes:
            _classes[cls] = _without_cursor_ping(cls)
        dbapi_conn.__class__ = _classes[cls]


def _without_cursor_ping(base: type) -> type:
    """``base`` whose ``cursor()`` does not ask ``is_connected()`` (a subclass of it alone:
    a connection's class can only be swapped for one of the same layout)."""

    def cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._making_cursor = True
        try:
            return base.cursor(self, *args, **kwargs)
        finally:
            self._making_cursor = False

    def is_connected(self: Any) -> bool:
        return self._making_cursor or base.is_connected(self)

    methods = {"cursor": cursor, "is_connected": is_connected}
    return type(
        base.__name__, (base,), {**methods, "_making_cursor": False, "skips_cursor_ping": True}
    )
