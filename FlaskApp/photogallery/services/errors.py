"""Errors the services raise for the web layer to turn into clear 4xx/503 answers."""

from __future__ import annotations


class UploadRejected(Exception):
    """An upload was refused; ``reason`` is for the person who sent it."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class DuplicateUpload(UploadRejected):
    """The owner already has this exact photo."""

    def __init__(self, reason: str, existing_id: int) -> None:
        super().__init__(reason, status=409)
        self.existing_id = existing_id


class NotFound(Exception):
    """No such thing for this owner (another person's photo is "not found" too)."""


class InvalidInput(Exception):
    """A value from the person is not acceptable; the message says why."""
