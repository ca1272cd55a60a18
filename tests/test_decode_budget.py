"""The decode budget: concurrent decodes share a bound, wait their turn in order, or time out."""

import threading
import time
from pathlib import Path

import pytest

from photogallery.decode_budget import BudgetTimeout, DecodeBudget


def hold(budget: DecodeBudget, pixels: int, release: threading.Event, started=None):
    """A thread that holds ``pixels`` of ``budget`` until ``release`` is set."""
    holding = threading.Event()

    def run():
        with budget.reserve(pixels):
            holding.set()
            release.wait(10)
        if started is not None:
            started.append(pixels)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert holding.wait(5)
    return thread


def test_reservations_that_fit_run_together_and_are_returned():
    budget = DecodeBudget(100)
    with budget.reserve(60), budget.reserve(40):
        assert budget.in_use == 100
    assert budget.in_use == 0 and budget.peak == 100


def test_a_reservation_that_does_not_fit_waits_until_the_pixels_are_returned():
    budget = DecodeBudget(100, wait_seconds=5)
    release = threading.Event()
    holder = hold(budget, 70, release)
    threading.Timer(0.2, release.set).start()

    started = time.monotonic()
    with budget.reserve(50):
        waited = time.monotonic() - started
        assert budget.in_use == 50
    holder.join(5)
    assert 0.15 < waited < 3 and budget.peak == 70


def test_a_full_budget_times_out_and_leaves_nothing_reserved():
    budget = DecodeBudget(100, wait_seconds=0.2)
    release = threading.Event()
    holder = hold(budget, 100, release)
    with pytest.raises(BudgetTimeout), budget.reserve(1):
        pass
    release.set()
    holder.join(5)
    assert budget.in_use == 0
    with budget.reserve(100):  # the timed-out waiter left the queue
        pass


def test_waiters_are_served_in_arrival_order_so_a_large_decode_is_not_starved():
    budget = DecodeBudget(100, wait_seconds=5)
    release = threading.Event()
    holder = hold(budget, 60, release)
    order: list[int] = []

    def wait_for(pixels):
        with budget.reserve(pixels):
            order.append(pixels)

    large = threading.Thread(target=wait_for, args=(90,))
    large.start()
    time.sleep(0.1)  # the large one queues first
    small = threading.Thread(target=wait_for, args=(30,))  # it would fit now, beside the 60
    small.start()
    time.sleep(0.1)
    assert order == []  # the small one waits behind the large one
    release.set()
    for thread in (holder, large, small):
        thread.join(5)
    assert order == [90, 30] and budget.peak <= 100


def test_more_than_the_whole_budget_cannot_be_reserved():
    budget = DecodeBudget(100)
    with pytest.raises(ValueError, match="cannot reserve 101 of 100"), budget.reserve(101):
        pass


def test_deployed_workers_give_freed_image_memory_back_to_the_system():
    """Without a fixed mmap threshold glibc keeps freed image buffers in each thread's arena:
    the budget would bound the pixels but not the memory (bench/bench_decode_memory.py)."""
    deploy = Path(__file__).resolve().parents[1] / "Deploy"
    web = (deploy / "bin" / "photos-web").read_text()
    beanstalk = (deploy / "elasticbeanstalk/bundle/.ebextensions/photos.config").read_text()
    assert 'export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"' in web
    assert 'MALLOC_MMAP_THRESHOLD_: "131072"' in beanstalk
