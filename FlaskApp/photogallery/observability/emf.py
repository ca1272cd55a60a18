"""CloudWatch Embedded Metric Format: one JSON object a line on stdout, which CloudWatch Logs
turns into metrics with no API call from the app (the agent ships the log; see userdata.txt).

Structure (the "Specification: Embedded metric format" page of the CloudWatch guide)::

    {"_aws": {"Timestamp": <ms>, "CloudWatchMetrics": [{"Namespace": "PhotoGallery",
      "Dimensions": [["Reason"]], "Metrics": [{"Name": "LabelFailures", "Unit": "Count"}]}]},
     "Reason": "LabelerError", "LabelFailures": 1}
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()  # a line per event, not a buffer lost when a worker is recycled


class EmfSink:
    """Writes one EMF line per event through ``write`` (stdout by default)."""

    def __init__(self, namespace: str, write: Callable[[str], None] = _stdout) -> None:
        self.namespace = namespace
        self._write = write
        self._lock = threading.Lock()  # whole lines, even from several threads

    def upload(self, size: int, seconds: float, renditions_seconds: float) -> None:
        self.emit(
            {
                "Uploads": (1, "Count"),
                "UploadBytes": (size, "Bytes"),
                "UploadLatency": (round(seconds * 1000, 3), "Milliseconds"),
                "RenditionsTime": (round(renditions_seconds * 1000, 3), "Milliseconds"),
            }
        )

    def labeling(self, seconds: float) -> None:
        self.emit({"LabelingLatency": (round(seconds * 1000, 3), "Milliseconds")})

    def label_failure(self, reason: str) -> None:
        self.emit({"LabelFailures": (1, "Count")}, Reason=reason)

    def queue_lag(self, seconds: float) -> None:
        self.emit({"QueueLag": (round(seconds, 3), "Seconds")})

    def sign_in_failure(self) -> None:
        self.emit({"SignInFailures": (1, "Count")})

    def emit(self, values: dict[str, tuple[float, str]], **dimensions: str) -> None:
        """One document: the directive naming the metrics, then their values at the top."""
        directive = {
            "Namespace": self.namespace,
            "Dimensions": [sorted(dimensions)],
            "Metrics": [{"Name": name, "Unit": unit} for name, (_v, unit) in values.items()],
        }
        document = {
            "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
            **dimensions,
            **{name: value for name, (value, _unit) in values.items()},
        }
        line = json.dumps(document, separators=(",", ":"))
        with self._lock:
            self._write(line)
