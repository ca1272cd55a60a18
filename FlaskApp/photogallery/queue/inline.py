"""InlineQueue: label jobs run in a background thread of this process, after the response."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ..observability import metrics
from .base import LabelHandler

log = logging.getLogger(__name__)


class InlineQueue:
    """One worker thread, created lazily (so after uWSGI forks), so uploads never wait."""

    def __init__(self, handler: LabelHandler | None = None, *, workers: int = 1) -> None:
        self._handler = handler
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending: set[Future] = set()

    def bind(self, handler: LabelHandler) -> None:
        """Set the job handler (wired once the Backends that the handler needs exist)."""
        self._handler = handler

    def enqueue(self, photo_id: int) -> None:
        if self._handler is None:
            raise RuntimeError("InlineQueue has no handler: call bind() first")
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="labeler")
            future = self._executor.submit(self._run, photo_id, time.monotonic())
            self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _run(self, photo_id: int, queued_at: float) -> None:
        metrics.queue_lag(time.monotonic() - queued_at)
        try:
            self._handler(photo_id)
        except Exception:  # a job's failure must not kill the worker thread
            log.exception("labeling photo %s failed", photo_id)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job is done (tests and benchmarks). A job lost when the
        process stops leaves its photo pending, for `flask labels sweep` or `relabel`."""
        _done, not_done = wait(list(self._pending), timeout=timeout)
        return not not_done
