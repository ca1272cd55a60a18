"""The bad-input corpus against POST /api/photos and the upload form.

Every case gets a 4xx whose message names the problem; afterwards there is no row, no stored
object, no temporary file, and the request's Python allocations stayed bounded. Cases refused
from their structure never reserved any of the decode budget (no pixel was decoded).
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import tempfile
import tracemalloc
import unicodedata

import pytest
from sqlalchemy import func, select

from photogallery import create_app
from photogallery.data import migrate
from photogallery.data.schema import photo_labels, photo_terms, photos
from photogallery.services.uploads import clean_filename
from tests.conftest import Auth, stored_keys
from tests.corpus import files as f
from tests.corpus.cases import ACCEPTED_EXIF, CASES, UPLOAD_MB, Case

PASSWORD = "correct horse battery"
# What one refused request may allocate in Python (the test client builds the body too).
MAX_TRACED = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory):
    """One app for the whole corpus (SQLite, photos on disk): each case must leave it empty."""
    folder = tmp_path_factory.mktemp("corpus")
    app = create_app(
        {
            "TESTING": True,
            "FLASK_SECRET": "corpus-secret-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{folder / 'photos.db'}",
            "PHOTOS_DIR": str(folder / "photos"),
            "LABELER": "none",
            "MAX_UPLOAD_MB": str(UPLOAD_MB),
        }
    )
    app.config["WTF_CSRF_ENABLED"] = False
    migrate.upgrade(app.extensions["photogallery"].engine)
    yield app
    app.extensions["photogallery"].engine.dispose()


@pytest.fixture(scope="module")
def senders(corpus_app):
    """POST a case to the API (bearer token) or to the upload form (session): status, message."""
    page = corpus_app.test_client()
    assert Auth(page).signup("corpus", PASSWORD).status_code == 302
    token = page.post("/api/tokens", auth=("corpus", PASSWORD)).get_json()["token"]
    api = corpus_app.test_client()

    def send(endpoint: str, case: Case, body: bytes) -> tuple[int, str, dict]:
        if case.content_type:
            kwargs = {"data": body, "content_type": case.content_type}
        else:
            data = {"file": (io.BytesIO(body), case.filename), **case.fields}
            kwargs = {"data": data, "content_type": "multipart/form-data"}
        if endpoint == "api":
            answer = api.post("/api/photos", headers={"Authorization": f"Bearer {token}"}, **kwargs)
            return answer.status_code, answer.get_json()["error"], answer.headers
        answer = page.post("/upload", **kwargs)
        return answer.status_code, html.unescape(answer.get_data(as_text=True)), answer.headers

    return send


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch):
    """Uploads spool to this folder during the test, so leftovers can be seen."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def wiped_after(corpus_app):
    """A case that fails by storing something must not fail the cases after it."""
    yield
    backends = corpus_app.extensions["photogallery"]
    with backends.engine.begin() as conn:
        for table in (photo_labels, photo_terms, photos):
            conn.execute(table.delete())
    shutil.rmtree(backends.settings.photos_dir, ignore_errors=True)


@pytest.mark.parametrize("endpoint", ["api", "form"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_its_reason_and_leaves_nothing(
    corpus_app, senders, private_tempdir, wiped_after, case, endpoint
):
    backends = corpus_app.extensions["photogallery"]
    backends.decode_budget.peak = 0
    body = case.build()
    tracemalloc.start()
    try:
        status, message, _headers = senders(endpoint, case, body)
        traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert status == case.status, message[:500]
    assert case.expected(clean_filename(case.filename)).search(message), message[:2000]
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in _visible(message))
    with backends.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(photos)).scalar() == 0
    assert stored_keys(backends.store) == []
    assert [p for p in _files_under(backends.settings.photos_dir)] == []
    assert os.listdir(private_tempdir) == []
    assert traced_peak < MAX_TRACED
    if not case.decodes:
        assert backends.decode_budget.peak == 0  # refused before any pixel was decoded
    assert backends.decode_budget.in_use == 0


def test_the_corpus_has_every_kind_of_bad_input():
    groups = {c.id.split("-")[0] for c in CASES}
    assert len(CASES) >= 50
    assert {
        "pdf",
        "zip",
        "html",
        "svg",
        "png",
        "jpeg",
        "gif",
        "webp",
        "name",
        "multipart",
    } <= groups


def test_photos_with_broken_exif_are_accepted_as_stored(corpus_app, tmp_path):
    """Viewers ignore EXIF they cannot read; so do we (the photo is fine)."""
    client = corpus_app.test_client()
    assert Auth(client).signup("exif", PASSWORD).status_code == 302
    token = client.post("/api/tokens", auth=("exif", PASSWORD)).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    files = [(io.BytesIO(build()), f"{name}.jpg") for name, build in ACCEPTED_EXIF.items()]
    backends = corpus_app.extensions["photogallery"]
    try:
        answer = client.post(
            "/api/photos", data={"file": files}, content_type="multipart/form-data"
        )
        assert answer.status_code == 201, answer.get_json()
        stored = answer.get_json()["photos"]
        assert len(stored) == len(ACCEPTED_EXIF)
        assert {(p["width"], p["height"], p["taken_at"]) for p in stored} == {(16, 12, None)}
    finally:
        for photo in client.get("/api/photos").get_json()["photos"]:
            client.delete(f"/api/photos/{photo['id']}")
    assert stored_keys(backends.store) == []


def _visible(message: str) -> str:
    """The message a person reads: a page's flash or error text, or the API's error."""
    found = re.findall(
        r'<p class="flash[^"]*"[^>]*>(.*?)</p>|<h1>\d+</h1>\s*<p>(.*?)</p>', message, re.S
    )
    return " ".join(a or b for a, b in found) if found else message


def _files_under(folder: str):
    for root, _dirs, names in os.walk(folder):
        yield from (os.path.join(root, n) for n in names)


def test_file_builders_make_what_they_say():
    """The corpus is only as good as its files: spot-check a few against Pillow."""
    from PIL import Image

    assert Image.open(io.BytesIO(f.gif_frames(3))).n_frames == 3
    assert Image.open(io.BytesIO(f.apng(3))).n_frames == 3
    assert Image.open(io.BytesIO(f.png_with(f.png_text(10)))).text == {"Comment": "A" * 10}
    assert Image.open(io.BytesIO(f.jpeg_header(1000, 2000))).size == (1000, 2000)
