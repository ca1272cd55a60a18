"""One boto3 client per process, for the adapters that talk to AWS (S3, SQS, Rekognition)."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config


class ProcessClient:
    """A boto3 client made on first use in each process, so after uWSGI forks, and shared by
    that process's threads (a made client is thread-safe; making one is not)."""

    def __init__(
        self,
        service: str,
        *,
        config: Config,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        self.service = service
        self._config = config
        self._endpoint_url = endpoint_url
        self._client = client
        self._injected = client is not None  # a test's (stubbed) client is used as it is
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def get(self) -> Any:
        client = self._client
        if client is not None and (self._injected or self._pid == os.getpid()):
            return client
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                # A private Session: boto3's default one is shared and not thread-safe.
                session = boto3.session.Session()
                self._client = session.client(
                    self.service, endpoint_url=self._endpoint_url, config=self._config
                )
                self._pid = os.getpid()
            return self._client
