"""Read-only database work: one pooled connection per web request, and a dead one replaced.

A page reads twice (the signed-in session's user, then the page's photos); on MySQL each
checkout costs round trips (and each connection a rollback when it goes back to the pool),
so a request's reads share one connection, checked out at its first read and returned when
the request ends. The pool does not ping a connection on checkout (data/db.py): a connection
that turns out dead at its first use (the server restarted) is replaced once, here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")


class SharedReads:
    """The connection a scope's reads share, checked out at the first read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        if self.conn is not None:
            return work(self.conn)
        for attempt in (1, 2):
            self.conn = self.engine.connect()
            try:
                return work(self.conn)
            except DBAPIError as exc:
                self.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


_current: contextvars.ContextVar[SharedReads | None] = contextvars.ContextVar(
    "photogallery_shared_reads", default=None
)


def read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run read-only ``work(conn)``: on the scope's shared connection when one is open."""
    scope = _current.get()
    if scope is None or scope.engine is not engine:
        scope = SharedReads(engine)
        try:
            return scope.run(work)
        finally:
            scope.close()
    return scope.run(work)


def open_shared_reads(engine: Engine) -> None:
    """From now on, this thread's (context's) reads share one connection until closed."""
    _current.set(SharedReads(engine))


def close_shared_reads() -> None:
    """Return the shared connection (ending its read transaction) and stop sharing."""
    scope = _current.get()
    _current.set(None)
    if scope is not None:
        scope.close()
