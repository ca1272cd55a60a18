"""LocalStore's verbs beyond the web tests: copy and listing with sizes."""

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from photogallery.storage.base import ObjectNotFound
from photogallery.storage.local import LocalStore


@pytest.fixture
def store(tmp_path):
    return LocalStore(str(tmp_path / "photos"), secret="s" * 32)


def test_copy_duplicates_the_bytes_under_a_new_key(store):
    store.save("incoming/x", io.BytesIO(b"photo"), content_type="image/jpeg")

    store.copy("incoming/x", "u1/a/original.jpg", content_type="image/jpeg")

    with store.open("u1/a/original.jpg") as f:
        assert f.read() == b"photo"
    assert store.exists("incoming/x")


@pytest.mark.parametrize("kind", ["file", "in memory"])
def test_a_save_stores_the_source_from_where_it_stands(store, tmp_path, kind):
    body = bytes(range(256)) * 1000  # 256 KB: more than one chunk of the in-memory copy
    if kind == "file":
        (tmp_path / "upload").write_bytes(b"head" + body)
        source = (tmp_path / "upload").open("rb")
    else:
        source = io.BytesIO(b"head" + body)
    source.read(4)

    with source:
        store.save("u1/a/original.jpg", source, content_type="image/jpeg")

    with store.open("u1/a/original.jpg") as f:
        assert f.read() == body


def test_copy_of_a_missing_object_raises_object_not_found(store):
    with pytest.raises(ObjectNotFound):
        store.copy("incoming/none", "u1/a.jpg", content_type="image/jpeg")


def test_list_objects_gives_sizes_and_times_and_skips_unfinished_saves(store):
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.save("u1/a.jpg", io.BytesIO(b"abc"), content_type="image/jpeg")
    (store.root / "u1" / ".upload-123").write_bytes(b"half")

    (listed,) = store.list_objects()

    assert (listed.key, listed.size) == ("u1/a.jpg", 3) and listed.modified >= before
    assert str(store) == str(store.root)


def test_a_url_lives_at_least_as_long_as_url_expires_and_at_most_one_window_more(store):
    from urllib.parse import parse_qs, urlsplit

    from photogallery.storage.local import URL_WINDOW

    now = time.time()
    expires = int(parse_qs(urlsplit(store.url("u/1/t.jpg")).query)["e"][0])
    assert now + store.url_expires <= expires <= now + store.url_expires + URL_WINDOW + 1


def test_a_url_is_good_through_its_expiry_second_and_not_after(store, monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from photogallery.storage import local

    query = parse_qs(urlsplit(store.url("u/1/t.jpg", download_name="cat.jpg")).query)
    expires, signature = query["e"][0], query["s"][0]

    def valid_at(now: float) -> bool:
        monkeypatch.setattr(local.time, "time", lambda: now)
        return store.verify("u/1/t.jpg", expires, signature, "cat.jpg")

    assert valid_at(int(expires)) and valid_at(int(expires) - 0.5)
    assert not valid_at(int(expires) + 0.001)


def test_a_save_killed_midway_leaves_a_temp_file_that_is_listed_and_discarded(store):
    import os
    import signal
    import subprocess
    import sys

    code = (
        "import sys; from photogallery.storage.local import LocalStore; "
        "LocalStore(sys.argv[1], secret='s' * 32).save("
        "'u1/a/original.jpg', sys.stdin.buffer, content_type='image/jpeg')"
    )
    env = {**os.environ, "PYTHONPATH": "FlaskApp"}
    saver = subprocess.Popen(
        [sys.executable, "-c", code, str(store.root)], stdin=subprocess.PIPE, env=env
    )
    saver.stdin.write(b"x" * 4096)
    saver.stdin.flush()
    folder = store.root / "u1" / "a"
    deadline = time.monotonic() + 20
    while not (folder.is_dir() and any(folder.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    saver.send_signal(signal.SIGKILL)  # a crash: no cleanup runs
    saver.wait()
    saver.stdin.close()

    (unfinished,) = store.list_unfinished()

    assert unfinished.key.startswith("u1/a/.upload-")
    assert abs(unfinished.started - datetime.now(UTC)) < timedelta(minutes=1)
    assert list(store.list_objects()) == []  # not an object
    store.discard_unfinished(unfinished)
    assert list(store.list_unfinished()) == [] and not (store.root / "u1").exists()
    store.discard_unfinished(unfinished)  # already gone: success


class FailingSource(io.RawIOBase):
    """A stream that gives some bytes, then fails (a client gone, a broken source)."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the source broke")
        buffer[:4] = b"half"
        return 4


def test_a_save_whose_source_fails_leaves_no_temp_file(store):
    with pytest.raises(RuntimeError):
        store.save("u1/a/original.jpg", FailingSource(), content_type="image/jpeg")

    assert list(store.list_unfinished()) == [] and list(store.list_objects()) == []


def test_a_url_signed_by_an_earlier_release_still_verifies(store):
    """During a rolling deploy old and new instances serve the same pages: a change to how URLs
    are signed would break every photo for one URL window, so the scheme is pinned here."""
    signed_earlier = "UTA8oLrPbNamAHIssaPD6tSU"  # key, expiry and download name, secret "s" * 32

    assert store.signature("u1/abc/original.jpg", 2000000000, "cat.jpg") == signed_earlier
    assert store.verify("u1/abc/original.jpg", "2000000000", signed_earlier, "cat.jpg")
