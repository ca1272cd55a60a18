"""RekognitionLabeler: Amazon Rekognition DetectLabels on the stored JPEG preview."""

from __future__ import annotations

import logging

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..aws import ProcessClient
from .base import Label, LabelerError, LabelResult

log = logging.getLogger(__name__)

# Rekognition's own refusals of an image: retrying cannot help.
PERMANENT = {
    "InvalidImageFormatException": "Rekognition cannot read this image format",
    "ImageTooLargeException": "the image is larger than Rekognition accepts",
    "InvalidS3ObjectException": "Rekognition could not read the photo from S3",
    "InvalidParameterException": "Rekognition refused the request parameters",
    "AccessDeniedException": "the instance role may not call rekognition:DetectLabels",
}
MAX_BYTES = 5 * 1024 * 1024  # Rekognition's limit for an image sent as bytes


class RekognitionLabeler:
    """Calls DetectLabels; by S3 object when the photos are in S3, else by bytes."""

    name = "rekognition"

    def __init__(
        self,
        *,
        region: str,
        min_confidence: float = 55.0,
        max_labels: int = 10,
        s3_bucket: str | None = None,
        s3_prefix: str = "",
        client=None,
    ) -> None:
        self.region = region
        self.min_confidence = min_confidence
        self.max_labels = max_labels
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix.strip("/")
        self.needs_bytes = s3_bucket is None
        config = Config(
            region_name=region,
            retries={"mode": "standard", "max_attempts": 5},  # throttling is retried here
            connect_timeout=5,
            read_timeout=30,
        )
        self._client = ProcessClient("rekognition", config=config, client=client)

    def detect_labels(self, image: bytes | None, *, key: str | None = None) -> LabelResult:
        request = {
            "Image": self._image(image, key),
            "MaxLabels": self.max_labels,
            "MinConfidence": self.min_confidence,
        }
        try:
            response = self._client.get().detect_labels(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in PERMANENT:
                raise LabelerError(f"{PERMANENT[code]} ({code})", retryable=False) from exc
            raise LabelerError(f"Rekognition failed ({code or 'error'})") from exc
        except BotoCoreError as exc:
            reason = type(exc).__name__
            raise LabelerError(f"Rekognition unreachable ({reason})") from exc
        return LabelResult(
            labels=[_label(item) for item in response.get("Labels", [])],
            model_version=f"rekognition-{response.get('LabelModelVersion', 'unknown')}",
        )

    def _image(self, image: bytes | None, key: str | None) -> dict:
        if self.s3_bucket and key:
            name = f"{self.s3_prefix}/{key}" if self.s3_prefix else key
            return {"S3Object": {"Bucket": self.s3_bucket, "Name": name}}
        if image is None:
            raise LabelerError("no image to label", retryable=False)
        if len(image) > MAX_BYTES:
            raise LabelerError("the preview is larger than Rekognition's 5 MB", retryable=False)
        return {"Bytes": image}


def _label(item: dict) -> Label:
    parents = tuple(p["Name"] for p in item.get("Parents", []) if p.get("Name"))
    return Label(name=item["Name"], confidence=float(item["Confidence"]), parents=parents)
