"""Errors the services raise; each knows its HTTP meaning, and web/errors.py answers them all."""

from __future__ import annotations

import math


class ServiceError(Exception):
    """A refusal the person can act on: ``str(exc)`` is for them, ``status`` its HTTP meaning."""

    status = 400

    def details(self) -> dict[str, object]:
        """Extra fields for the JSON answer (scripts act on them)."""
        return {}

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers of the answer."""
        return {}


class NotFound(ServiceError):
    """No such thing for this owner (another person's photo is "not found" too)."""

    status = 404

    def __init__(self, message: str = "no such photo") -> None:
        super().__init__(message)


class InvalidInput(ServiceError):
    """A value from the person is not acceptable; the message says why."""


class UsernameTaken(InvalidInput):
    """Someone already has this username."""

    status = 409


class TooManyAttempts(ServiceError):
    """Sign-in is throttled after repeated failures; ``retry_after`` is in seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        count, unit = (
            (self.retry_after, "second")
            if self.retry_after < 60
            else (math.ceil(self.retry_after / 60), "minute")
        )
        wait = f"{count} {unit}{'' if count == 1 else 's'}"
        super().__init__(f"too many failed sign-ins; please wait {wait} and try again")

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class SignupClosed(ServiceError):
    """Sign-up is turned off (ALLOW_SIGNUP=false)."""

    status = 403

    def __init__(self, message: str = "sign-up is closed on this site") -> None:
        super().__init__(message)


class UploadRejected(ServiceError):
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

    def details(self) -> dict[str, object]:
        return {"existing_id": self.existing_id}


class UploadBusy(UploadRejected):
    """Too many large photos are being decoded in this process right now: try again shortly."""

    retry_after = 15  # seconds; a few large decodes finish in that time

    def __init__(self, reason: str) -> None:
        super().__init__(reason, status=503)

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
