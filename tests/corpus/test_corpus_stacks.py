"""A few corpus cases on the other stacks: MariaDB, S3 (SeaweedFS), and S3's direct upload.

The whole corpus runs on SQLite (test_corpus.py); the refusals happen before the database or
the store is touched, so a handful of cases here show that holds on the real servers too.
"""

from __future__ import annotations

import io

import pytest
import requests
from sqlalchemy import func, select

from photogallery.data.schema import photos
from photogallery.services.uploads import clean_filename
from tests.conftest import Auth, stored_keys
from tests.corpus.cases import CASES, UPLOAD_MB

PASSWORD = "correct horse battery"
FEW = [
    c
    for c in CASES
    if c.id
    in (
        "png-3.6-gigapixels",
        "png-megabytes-of-text",
        "gif-1001-frames",
        "jpeg-zip",
        "png-truncated",
        "pdf",
    )
]


def bearer(client) -> dict[str, str]:
    assert Auth(client).signup("stacks", PASSWORD).status_code == 302
    token = client.post("/api/tokens", auth=("stacks", PASSWORD)).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def assert_nothing_stored(backends) -> None:
    with backends.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(photos)).scalar() == 0
    assert stored_keys(backends.store) == []  # incoming/ objects included


@pytest.mark.parametrize("stack", ["mysql", "s3"], indirect=True)
def test_a_few_cases_are_refused_alike_on_mariadb_and_s3(make_app):
    app = make_app(MAX_UPLOAD_MB=str(UPLOAD_MB))
    client = app.test_client()
    headers = bearer(client)
    for case in FEW:
        data = {"file": (io.BytesIO(case.build()), case.filename)}
        answer = client.post(
            "/api/photos", data=data, headers=headers, content_type="multipart/form-data"
        )
        message = answer.get_json()["error"]
        assert answer.status_code == case.status, (case.id, message)
        assert case.expected(clean_filename(case.filename)).search(message), (case.id, message)
        assert_nothing_stored(app.extensions["photogallery"])


@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_direct_upload_completion_refuses_the_same_files_and_removes_them(make_app):
    app = make_app(MAX_UPLOAD_MB=str(UPLOAD_MB), DIRECT_UPLOAD=True)
    client = app.test_client()
    headers = bearer(client)
    for case in FEW:
        body = case.build()
        start = {"filename": case.filename, "content_type": "image/jpeg", "size": len(body)}
        ticket = client.post("/api/uploads", json=start, headers=headers).get_json()
        files = {"file": (case.filename, body, ticket["fields"]["Content-Type"])}
        sent = requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=10)
        assert sent.status_code in (200, 201, 204), sent.text

        answer = client.post(ticket["complete_url"], json={}, headers=headers)

        message = answer.get_json()["error"]
        assert answer.status_code == case.status, (case.id, message)
        assert case.expected(clean_filename(case.filename)).search(message), (case.id, message)
        assert_nothing_stored(app.extensions["photogallery"])
