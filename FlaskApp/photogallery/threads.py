"""Thread pools of this process, made on first use in each process: a pool's threads do not
survive a fork, so one made before uWSGI forks its workers would hang every task sent to it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_pools: dict[str, tuple[int, ThreadPoolExecutor]] = {}


def pool(name: str, workers: int) -> ThreadPoolExecutor:
    """This process's pool called ``name`` (its threads are named after it)."""
    with _lock:
        made = _pools.get(name)
        if made is None or made[0] != os.getpid():
            made = _pools[name] = (
                os.getpid(),
                ThreadPoolExecutor(workers, thread_name_prefix=name),
            )
        return made[1]


class Beside(Generic[T]):
    """``fn(*args)`` begun on the process's helper thread. result() runs it on the
    calling thread instead when the helper has not started it (busy with another upload), so a
    request never waits in the helper's queue."""

    def __init__(self, fn: Callable[..., T], *args) -> None:
        self._fn, self._args = fn, args
        self._future: Future[T] = pool("helper", 1).submit(fn, *args)

    def result(self) -> T:
        if self._future.cancel():
            return self._fn(*self._args)
        return self._future.result()
