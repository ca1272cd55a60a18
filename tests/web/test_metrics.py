"""/metrics: the app's figures in Prometheus's format, for METRICS_ALLOW's networks (seen after
PROXY_COUNT) or the METRICS_TOKEN bearer; a plain 404 for everyone else, API tokens included."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from photogallery.services.auth import accounts
from tests.conftest import photo_bytes

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
METRICS_TOKEN = "metrics-" + "m" * 32
BALANCER = {"REMOTE_ADDR": "10.0.0.2"}  # the proxy in front, with PROXY_COUNT=1


def figure(client, name: str, **labels: str) -> float:
    """One sample's value in /metrics (0 when it has not been recorded yet)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_metrics_counts_one_more_upload_after_an_upload(client, upload):
    before = figure(client, "photos_uploads_total")
    bytes_before = figure(client, "photos_upload_bytes_sum")
    photo = photo_bytes(seed=7)

    assert upload((photo, "cat.jpg")).status_code == 302

    assert figure(client, "photos_uploads_total") == before + 1
    assert figure(client, "photos_upload_bytes_sum") == bytes_before + len(photo)
    assert figure(client, "photos_upload_seconds_count") >= 1


def test_metrics_counts_wrong_passwords(client, auth):
    before = figure(client, "photos_sign_in_failures_total")
    auth.signup()
    auth.logout()

    assert auth.login(password="not the password at all").status_code == 401

    assert figure(client, "photos_sign_in_failures_total") == before + 1


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("203.0.113.9", {}, 404),  # a stranger, as the proxy saw it
        ("127.0.0.1", {}, 200),  # loopback, as the proxy saw it (METRICS_ALLOW's default)
        ("127.0.0.1", {"Authorization": "Bearer wrong-" + "w" * 32}, 404),  # a header judges
        ("203.0.113.9", {"Authorization": "Basic " + "x" * 20}, 404),
        ("203.0.113.9", {"Authorization": f"Bearer {METRICS_TOKEN}"}, 200),
    ],
)
def test_metrics_answers_only_allowed_addresses_or_the_metrics_token(
    make_app, address, headers, status
):
    app = make_app(PROXY_COUNT="1", METRICS_TOKEN=METRICS_TOKEN)
    forwarded = {"X-Forwarded-For": address, **headers}

    answer = app.test_client().get("/metrics", headers=forwarded, environ_base=BALANCER)

    assert answer.status_code == status
    if status == 404:
        assert "photos_" not in answer.get_data(as_text=True)


def test_an_api_token_does_not_open_metrics(make_app):
    app = make_app(METRICS_ALLOW="10.0.0.0/8", METRICS_TOKEN=METRICS_TOKEN)
    backends = app.extensions["photogallery"]
    user = accounts.create_local_user(backends, "scraper", "correct horse battery")
    api_token = accounts.create_api_token(backends, user.id)
    client = app.test_client()
    inside = {"REMOTE_ADDR": "10.1.2.3"}

    assert client.get("/metrics", environ_base=inside).status_code == 200
    refused = client.get(
        "/metrics", headers={"Authorization": f"Bearer {api_token}"}, environ_base=inside
    )
    assert refused.status_code == 404  # not a 401 from sign-in, and not the figures
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in 10.0.0.0/8


def test_metrics_is_not_served_when_prometheus_is_not_in_metrics(make_app):
    app = make_app(METRICS="emf")

    assert app.test_client().get("/metrics").status_code == 404
