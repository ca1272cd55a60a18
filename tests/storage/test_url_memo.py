"""Signed URLs remembered for their window: the same URLs signing anew would give, never one
that expires sooner than URL_EXPIRES from now, and signed again once credentials change."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from photogallery.storage import local, s3
from photogallery.storage.local import LocalStore
from photogallery.storage.s3 import S3Store

START = 1_800_000_000 // 600 * 600
# Every 37 s for three windows, and each window's boundary with a second either side of it.
BOUNDARIES = [START + window + d for window in (0, 600, 1200) for d in (-1, 0, 1)]
MOMENTS = sorted({*range(START, START + 1800, 37), *BOUNDARIES})


def offline_client():
    """Signing is local: no server is asked (the endpoint is never contacted)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="offline-secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


CLIENT = offline_client()


def local_expiry(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["e"][0])


def s3_expiry(url: str) -> int:
    query = parse_qs(urlsplit(url).query)
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%S%z").timestamp()
    return int(signed) + int(query["X-Amz-Expires"][0])


@pytest.mark.parametrize(
    ("make", "module", "expiry"),
    [
        (lambda tmp: LocalStore(str(tmp), secret="s" * 32, url_expires=3600), local, local_expiry),
        (lambda _tmp: S3Store("photos", region="us-east-1", client=CLIENT), s3, s3_expiry),
    ],
    ids=["local", "s3"],
)
def test_a_remembered_url_is_the_one_signing_anew_gives_and_lives_url_expires_from_now(
    tmp_path, monkeypatch, make, module, expiry
):
    remembering = make(tmp_path)
    for now in MOMENTS:
        monkeypatch.setattr(module.time, "time", lambda now=now: now + 0.5)
        for key, name in (("u1/a/thumbnail.jpg", None), ("u1/a/original.jpg", "cat.jpg")):
            url = remembering.url(key, download_name=name)
            assert url == make(tmp_path).url(key, download_name=name)  # a fresh store's
            assert expiry(url) >= now + 0.5 + remembering.url_expires


def test_a_url_is_signed_once_a_window(tmp_path, monkeypatch):
    store = LocalStore(str(tmp_path), secret="s" * 32)
    signed = []
    real = store.signature
    monkeypatch.setattr(store, "signature", lambda *args: signed.append(args) or real(*args))
    monkeypatch.setattr(local.time, "time", lambda: START + 10)

    urls = {store.url("u1/a/thumbnail.jpg") for _ in range(3)}
    monkeypatch.setattr(local.time, "time", lambda: START + 610)
    urls.add(store.url("u1/a/thumbnail.jpg"))

    assert len(urls) == 2 and len(signed) == 2


def test_an_s3_url_is_signed_again_once_the_credentials_are_refreshed(monkeypatch):
    client = offline_client()
    store = S3Store("photos", region="us-east-1", client=client)
    monkeypatch.setattr(s3.time, "time", lambda: START + 10)
    before = store.url("u1/a/thumbnail.jpg")

    credentials = client._request_signer._credentials  # as an instance role refreshes them
    credentials.access_key, credentials.secret_key = "AKIDREFRESHED", "new-secret"
    after = store.url("u1/a/thumbnail.jpg")

    assert "AKIDEXAMPLE" in before and "AKIDREFRESHED" in after


def test_the_memo_forgets_everything_when_full():
    from photogallery.storage.url_memo import UrlMemo

    memo = UrlMemo(limit=2)
    for key in "abc":
        memo.get(key, 1, lambda key=key: f"url-{key}")

    assert memo.get("a", 1, lambda: "signed again") == "signed again"
    assert memo.get("c", 1, lambda: "signed again") == "url-c"
