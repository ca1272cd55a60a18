"""A process's thread pools are its own: uWSGI forks workers after the app is loaded."""

from __future__ import annotations

import os

from photogallery import threads


def test_a_pool_used_before_a_fork_still_runs_tasks_in_the_forked_child():
    assert threads.pool("fork-test", 1).submit(lambda: 1).result(timeout=5) == 1

    pid = os.fork()
    if pid == 0:  # the child: the parent's pool thread did not come along
        try:
            ok = threads.pool("fork-test", 1).submit(lambda: 7).result(timeout=3) == 7
        except Exception:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0


def test_each_name_is_one_pool_in_a_process():
    assert threads.pool("one", 2) is threads.pool("one", 2)
    assert threads.pool("one", 2) is not threads.pool("two", 2)
