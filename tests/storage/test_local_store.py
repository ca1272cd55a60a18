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
