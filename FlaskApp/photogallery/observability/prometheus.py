"""The same figures for Prometheus, served at /metrics (web/metrics.py).

Under uWSGI each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (by
Deploy/bin/photos-web, before the app is imported; prometheus-client reads it at import) every
process writes its figures to files there and /metrics adds them up across workers.
"""

from __future__ import annotations

import os
import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LAG = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)
BYTES = tuple(2**n for n in range(14, 31, 2))  # 16 KiB .. 1 GiB


class PrometheusSink:
    """Counters and histograms of one process, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.uploads = Counter("photos_uploads", "Photos uploaded", registry=r)
        self.upload_bytes = Histogram(
            "photos_upload_bytes", "Size of each uploaded photo", buckets=BYTES, registry=r
        )
        self.upload_seconds = Histogram(
            "photos_upload_seconds", "Upload pipeline time", buckets=SECONDS, registry=r
        )
        self.renditions_seconds = Histogram(
            "photos_renditions_seconds", "Decode and renditions time", buckets=SECONDS, registry=r
        )
        self.labeling_seconds = Histogram(
            "photos_labeling_seconds", "Labeler call latency", buckets=SECONDS, registry=r
        )
        self.label_failures = Counter(
            "photos_label_failures", "Failed labeling attempts", ["reason"], registry=r
        )
        self.queue_lag_seconds = Histogram(
            "photos_queue_lag_seconds", "Age of a label job when it starts", buckets=LAG, registry=r
        )
        self.sign_in_failures = Counter(
            "photos_sign_in_failures", "Wrong passwords for local accounts", registry=r
        )

    def upload(self, size: int, seconds: float, renditions_seconds: float) -> None:
        self.uploads.inc()
        self.upload_bytes.observe(size)
        self.upload_seconds.observe(seconds)
        self.renditions_seconds.observe(renditions_seconds)

    def labeling(self, seconds: float) -> None:
        self.labeling_seconds.observe(seconds)

    def label_failure(self, reason: str) -> None:
        self.label_failures.labels(reason=reason).inc()

    def queue_lag(self, seconds: float) -> None:
        self.queue_lag_seconds.observe(seconds)

    def sign_in_failure(self) -> None:
        self.sign_in_failures.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format: this process's figures, or every worker's in multiprocess mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


_shared: list[PrometheusSink] = []
_lock = threading.Lock()


def shared_sink() -> PrometheusSink:
    """The process's one sink: metrics of the same name must not be made twice in a process
    (in multiprocess mode they would write over each other's figures in the same file)."""
    with _lock:
        if not _shared:
            _shared.append(PrometheusSink())
        return _shared[0]
