"""Presigned S3 GET URLs in microseconds: AWS Signature Version 4, query-string form.

botocore's generate_presigned_url resolves endpoint rules, serializes and runs event hooks for
every URL: about 1 ms each, so 50 ms for a gallery page of 48 thumbnails (a photo's own page
signs three: thumbnail, preview, original). The URL's location is taken once from botocore (so
custom endpoints, FIPS and path- or virtual-host addressing are botocore's decision) and only
the signature is computed per URL, as AWS specifies
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). Its URLs carry
the same parameters and signature as botocore's (tests/storage/test_presign.py compares them).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

_ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"
_MARKER = "presign-probe"


class QueryPresigner:
    """Signs GET URLs for one bucket with the credentials a boto3 client would use."""

    def __init__(self, object_url: str, region: str, credentials: Callable[[], Any]) -> None:
        """``object_url``: any presigned URL from botocore for the key ``presign-probe``."""
        parts = urlsplit(object_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._host = _host(parts.scheme, parts.hostname or "", parts.port)
        self._path_prefix = parts.path[: -len(_MARKER)]  # "/bucket/" or "/"
        self._region = region
        self._credentials = credentials  # e.g. RefreshableCredentials.get_frozen_credentials

    def credentials_id(self) -> tuple[str, str | None]:
        """Which credentials sign now (they change when refreshed)."""
        creds = self._credentials()
        return creds.access_key, creds.token

    def url(self, key: str, params: Mapping[str, str], *, expires: int, now: datetime) -> str:
        """A GET URL for ``key`` (the full bucket key), valid ``expires`` seconds from ``now``."""
        creds = self._credentials()
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{amz_date[:8]}/{self._region}/s3/aws4_request"
        query = {
            **params,
            "X-Amz-Algorithm": _ALGORITHM,
            "X-Amz-Credential": f"{creds.access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }
        if creds.token:
            query["X-Amz-Security-Token"] = creds.token
        path = self._path_prefix + quote(key, safe="/~")
        canonical_query = "&".join(
            f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in query.items())
        )
        request = f"GET\n{path}\n{canonical_query}\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(request.encode()).hexdigest()
        to_sign = f"{_ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
        key_bytes = _signing_key(creds.secret_key, amz_date[:8], self._region)
        signature = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self._origin}{path}?{canonical_query}&X-Amz-Signature={signature}"


@lru_cache(maxsize=4096)
def _encode(text: str) -> str:
    """RFC 3986 encoding; cached, as most parameters repeat on every URL of a page."""
    return quote(text, safe=_UNRESERVED)


def _host(scheme: str, hostname: str, port: int | None) -> str:
    """The Host header a client sends: no port when it is the scheme's default."""
    default = {"http": 80, "https": 443}.get(scheme)
    return hostname if port is None or port == default else f"{hostname}:{port}"


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, date: str, region: str) -> bytes:
    """The day's derived key (four HMACs); the same all day, so computed once."""
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def probe_key() -> str:
    """The key whose botocore URL QueryPresigner takes its location from."""
    return _MARKER
