"""On an installed instance (nginx → uWSGI with a process per core): one JSON access line per
request in web.log, EMF lines beside them, and /metrics adding up every worker's figures."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.test_install import api_user, get, jpeg_bytes, post

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def uploads_counted(base: str) -> float:
    answer = get(f"{base}/metrics")  # from 127.0.0.1, as nginx saw it: METRICS_ALLOW's default
    assert answer.status_code == 200, answer.text
    families = text_string_to_metric_families(answer.text)
    return next(s.value for f in families for s in f.samples if s.name == "photos_uploads_total")


def test_uwsgi_workers_write_json_access_lines_and_add_up_their_figures(instance_a):
    base = instance_a.url
    headers = api_user(base, "olga")
    before = uploads_counted(base)

    def upload(n: int):
        photo = ("p.jpg", jpeg_bytes((40 * n, 90, 30)), "image/jpeg")
        return post(f"{base}/api/photos", headers=headers, files={"file": photo})

    with ThreadPoolExecutor(4) as pool:  # several at once: both workers take some
        answers = list(pool.map(upload, range(4)))

    assert [a.status_code for a in answers] == [201] * 4
    # Whichever worker answers /metrics, it counts every worker's uploads.
    assert [uploads_counted(base) for _ in range(6)] == [before + 4] * 6
    lines = (instance_a.prefix / "log" / "web.log").read_text().splitlines()
    documents = [json.loads(line) for line in lines if line.startswith("{")]
    for answer in answers:
        rid = answer.headers["X-Request-Id"]
        access = [d for d in documents if d.get("request_id") == rid and "route" in d]
        assert [(d["method"], d["route"], d["status"]) for d in access] == [
            ("POST", "/api/photos", 201)
        ]
    emf_uploads = [d for d in documents if "_aws" in d and "Uploads" in d]
    assert len(emf_uploads) >= 4
