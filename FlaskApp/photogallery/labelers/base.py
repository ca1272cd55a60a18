"""The labeler interface: what an image-recognition service answers for one photo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Label:
    """One label, Rekognition-style: ``Cat`` 97.1 with parents ``Pet``, ``Animal``."""

    name: str
    confidence: float  # percent, 0..100
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelResult:
    labels: list[Label] = field(default_factory=list)
    model_version: str = ""


class LabelerError(Exception):
    """Labeling failed. ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Labeler(Protocol):
    """Turns a stored image (the JPEG preview) into labels."""

    name: str
    # False when the labeler fetches the image itself by ``key`` (Rekognition reading S3), so
    # the caller need not download it.
    needs_bytes: bool

    def detect_labels(self, image: bytes | None, *, key: str | None = None) -> LabelResult:
        """Label the JPEG ``image``; ``key`` names it in the store."""
