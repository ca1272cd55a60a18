"""Thread pools of this process, made on first use in each process: a pool's threads do not
survive a fork, so one made before uWSGI forks its workers would hang every task sent to it."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

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
