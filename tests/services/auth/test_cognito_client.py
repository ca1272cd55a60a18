"""CognitoClient: endpoints from the issuer's discovery document; no hanging on a bad network."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from photogallery.services.auth import cognito_client as cognito
from photogallery.services.auth.cognito_client import (
    CognitoClient,
    CognitoRefused,
    CognitoUnavailable,
)


def test_endpoints_come_from_discovery_and_logout_from_the_hosted_ui_domain(oidc_provider):
    client = CognitoClient(issuer=oidc_provider.issuer, client_id="photos-app")

    endpoints = client.endpoints

    assert endpoints.authorization == oidc_provider.authorization_endpoint
    assert endpoints.token == oidc_provider.token_endpoint
    assert endpoints.jwks_uri == oidc_provider.jwks_uri
    assert endpoints.revocation == oidc_provider.revocation_endpoint
    assert endpoints.logout == oidc_provider.logout_endpoint


def test_a_custom_domain_without_scheme_serves_logout(oidc_provider):
    client = CognitoClient(
        issuer=oidc_provider.issuer, client_id="photos-app", domain="login.photos.example.com/"
    )

    assert client.logout_url("https://photos.example.com/") == (
        "https://login.photos.example.com/logout?client_id=photos-app"
        "&logout_uri=https%3A%2F%2Fphotos.example.com%2F"
    )


def test_a_discovery_document_of_another_issuer_is_refused(oidc_provider):
    # A document copied from the real provider, served from another address: a mix-up.
    document = json.dumps(requests.get(oidc_provider.discovery_url, timeout=5).json()).encode()

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = CognitoClient(
            issuer=f"http://127.0.0.1:{server.server_port}", client_id="photos-app"
        )
        with pytest.raises(CognitoUnavailable, match="names issuer"):
            _ = client.endpoints
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_grant_names_the_oauth_error(oidc_provider):
    client = oidc_provider.clients["photos-app"]
    app_client = CognitoClient(
        issuer=oidc_provider.issuer, client_id=client.client_id, client_secret=client.client_secret
    )

    with pytest.raises(CognitoRefused) as refused:
        app_client.refresh("not-a-refresh-token")

    assert refused.value.error == "invalid_grant"


def test_a_provider_that_never_answers_times_out_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(cognito, "TIMEOUT", (0.5, 0.5))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
        client = CognitoClient(
            issuer=f"http://127.0.0.1:{silent.getsockname()[1]}", client_id="photos-app"
        )
        started = time.monotonic()

        with pytest.raises(CognitoUnavailable, match="ReadTimeout"):
            _ = client.endpoints

        assert time.monotonic() - started < 3
        for conn in accepted:
            conn.close()
