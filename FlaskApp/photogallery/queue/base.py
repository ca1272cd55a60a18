"""The label-job queue interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

LabelHandler = Callable[[int], None]


class QueueError(Exception):
    """A label job could not be queued."""


class LabelQueue(Protocol):
    """Carries "label photo N" jobs from the upload to whoever labels."""

    def enqueue(self, photo_id: int) -> None:
        """Queue one job; called only after the photo row is committed."""
