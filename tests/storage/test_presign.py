"""QueryPresigner: botocore's presigned URLs (same parameters and signature), much faster."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config

from photogallery.storage.presign import QueryPresigner, probe_key
from photogallery.storage.s3 import URL_WINDOW, S3Store

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def client(endpoint_url=None, token=None):
    config = Config(
        signature_version="s3v4", s3={"addressing_style": "path"} if endpoint_url else {}
    )
    return boto3.session.Session().client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token=token,
        config=config,
    )


@pytest.mark.parametrize(
    ("endpoint_url", "token"),
    [
        (None, None),  # AWS, virtual-hosted bucket
        (None, "FwoGZXIvYXdzE//token+with/odd=chars"),  # instance-role credentials
        ("http://127.0.0.1:8333", None),  # an S3-compatible server, path style
        ("https://s3.example.com:443", None),  # default port left out of Host
    ],
)
@pytest.mark.parametrize("key", ["u1/ab/thumbnail.jpg", "p/u1/Été 2024 + (1)~!*'.jpg"])
def test_urls_equal_botocores_for_the_same_moment(monkeypatch, endpoint_url, token, key):
    s3 = client(endpoint_url, token)
    params = {
        "response-content-disposition": "inline; filename*=UTF-8''%C3%89t%C3%A9.jpg",
        "response-content-type": "image/jpeg",
    }
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN.replace(tzinfo=None))
    expected = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "photos",
            "Key": key,
            "ResponseContentDisposition": params["response-content-disposition"],
            "ResponseContentType": params["response-content-type"],
        },
        ExpiresIn=4200,
    )
    probe = s3.generate_presigned_url("get_object", Params={"Bucket": "photos", "Key": probe_key()})
    credentials = s3._request_signer._credentials.get_frozen_credentials
    presigner = QueryPresigner(probe, "eu-west-1", credentials)

    ours = urlsplit(presigner.url(key, params, expires=4200, now=WHEN))
    theirs = urlsplit(expected)
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert parse_qs(ours.query, strict_parsing=True) == parse_qs(theirs.query)


def test_urls_are_stable_within_a_window_so_browsers_can_cache(monkeypatch):
    store = S3Store("photos", region="eu-west-1", client=client())
    start = (1_800_000_000 // URL_WINDOW) * URL_WINDOW
    monkeypatch.setattr("time.time", lambda: start + 5)
    first = store.url("u1/a.jpg")
    monkeypatch.setattr("time.time", lambda: start + URL_WINDOW - 1)
    again = store.url("u1/a.jpg")
    monkeypatch.setattr("time.time", lambda: start + URL_WINDOW)
    later = store.url("u1/a.jpg")

    query = parse_qs(urlsplit(first).query)
    assert first == again != later
    assert query["X-Amz-Expires"] == [str(3600 + URL_WINDOW)]  # never less than URL_EXPIRES left
    assert query["response-cache-control"] == ["private, max-age=3600"]


@pytest.mark.parametrize(
    ("scheme", "port", "host"),
    [("http", None, "s3.test"), ("http", 80, "s3.test"), ("http", 443, "s3.test:443"),
     ("https", 443, "s3.test"), ("https", 80, "s3.test:80"), ("http", 8333, "s3.test:8333")],
)  # fmt: skip
def test_the_signed_host_leaves_out_only_the_schemes_default_port(scheme, port, host):
    from photogallery.storage.presign import _host

    assert _host(scheme, "s3.test", port) == host
