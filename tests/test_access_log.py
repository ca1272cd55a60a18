"""Request logs show paths, never query strings (signed /media URLs, a sign-in's code)."""

from __future__ import annotations

import logging
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_dev_server_logs_request_paths_without_query_strings(make_app, caplog):
    app = make_app(LOG_FORMAT="text")  # JSON logs drop these lines for the app's access line
    server = make_server("127.0.0.1", 0, app)  # what `flask run` (`make run`) serves with
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    signed = app.extensions["photogallery"].store.url("u1/abc/original.jpg")
    signature = parse_qs(urlsplit(signed).query)["s"][0]
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            requests.get(base + signed, timeout=10)
            requests.get(base + "/callback?code=SECRETCODE&state=SECRETSTATE", timeout=10)
            with socket.create_connection(("127.0.0.1", server.server_port)) as raw:
                raw.sendall(b"GET /media/x?s=SECRETRAW HTTP/1.1 junk\r\n\r\n")  # a bad request line
                raw.recv(1024)
    finally:
        server.shutdown()
        thread.join()

    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any('"GET /media/u1/abc/original.jpg HTTP/1.1" 404' in line for line in lines), lines
    assert any('"GET /callback HTTP/1.1" 404' in line for line in lines), lines
    for secret in (signature, "SECRETCODE", "SECRETSTATE", "SECRETRAW"):
        assert not [line for line in lines if secret in line]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_with_json_logs_the_apps_access_line_replaces_the_dev_servers(make_app, caplog):
    app = make_app(LOG_FORMAT="json")
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO):
            requests.get(f"http://127.0.0.1:{server.server_port}/health?x=SECRET", timeout=10)
    finally:
        server.shutdown()
        thread.join()

    assert [r.getMessage() for r in caplog.records if r.name == "werkzeug"] == []
    [access] = [r for r in caplog.records if r.name == "photogallery.access"]
    assert access.access["route"] == "/health" and "SECRET" not in access.getMessage()
