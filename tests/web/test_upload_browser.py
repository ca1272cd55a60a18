"""The upload page in headless Chromium: progress, and a sign-in that expires mid-way."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from photogallery import create_app
from photogallery.data import migrate
from tests.conftest import photo_bytes
from tests.fixtures.browser import WAIT, wait_for_url
from tests.fixtures.cognito import LiveServer

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[str]:
    """The app over real HTTP with local accounts and CSRF on."""
    tmp = tmp_path_factory.mktemp("live-upload")
    app = create_app(
        {
            "FLASK_SECRET": "live-upload-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{tmp / 'photos.db'}",
            "PHOTOS_DIR": str(tmp / "photos"),
            "LABELER": "none",
        }
    )
    migrate.upgrade(app.extensions["photogallery"].engine)
    server = LiveServer()
    server.serve(app)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def photo_files(tmp_path) -> list[str]:
    paths = []
    for n in (1, 2):
        path = tmp_path / f"cat-{n}.jpg"
        path.write_bytes(photo_bytes(seed=n))
        paths.append(str(path))
    return paths


def sign_in(chrome, url: str | None, username: str, *, new_account: bool = False) -> None:
    """Fill in the sign-in (or sign-up) form; with ``url``, open it there first."""
    from selenium.webdriver.common.by import By

    if url:
        chrome.get(url + ("/signup" if new_account else "/login"))
    chrome.find_element(By.NAME, "username").send_keys(username)
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    if new_account:
        chrome.find_element(By.NAME, "password2").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def wait_for_text(chrome, text: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, WAIT).until(lambda d: text in d.page_source)


def gallery_count(chrome) -> int:
    return chrome.execute_script("return document.querySelectorAll('.grid li').length")


def test_photos_upload_with_progress_and_land_in_the_gallery(chrome, live, photo_files):
    from selenium.webdriver.common.by import By

    sign_in(chrome, live, "uma", new_account=True)
    wait_for_url(chrome, live + "/upload")
    chrome.find_element(By.NAME, "file").send_keys("\n".join(photo_files))
    # Every chosen file is listed at once, with a preview, before anything is sent.
    wait_for_text(chrome, "2 photos ready to upload")
    previews = "return document.querySelectorAll('.uploads li img[src^=blob]').length"
    assert chrome.execute_script(previews) == 2
    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_url(chrome, live + "/")
    wait_for_text(chrome, "Not labelled yet")
    assert gallery_count(chrome) == 2
    wait_for_text(chrome, "2 added")
    chrome.delete_all_cookies()


def test_an_expired_sign_in_keeps_the_selected_photos(chrome, live, photo_files):
    from selenium.webdriver.common.by import By

    sign_in(chrome, live, "vic", new_account=True)
    wait_for_url(chrome, live + "/upload")
    chrome.find_element(By.NAME, "file").send_keys("\n".join(photo_files))
    chrome.delete_cookie("session")  # the session dies while the page is open

    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(chrome, "Your sign-in has expired")
    selected = "return document.querySelector('input[name=file]').files.length"
    assert chrome.execute_script(selected) == 2

    upload_tab = chrome.current_window_handle
    chrome.find_element(By.LINK_TEXT, "Sign in again").click()
    chrome.switch_to.window(next(h for h in chrome.window_handles if h != upload_tab))
    sign_in(chrome, None, "vic")  # the form the link opened, which returns to /upload
    wait_for_url(chrome, live + "/upload")
    chrome.close()
    chrome.switch_to.window(upload_tab)

    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_url(chrome, live + "/")
    wait_for_text(chrome, "Not labelled yet")
    assert gallery_count(chrome) == 2


def test_the_photos_are_not_sent_twice_after_a_partial_failure(chrome, live, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(chrome, live, "wes", new_account=True)
    wait_for_url(chrome, live + "/upload")
    good, bad = tmp_path / "good.jpg", tmp_path / "notes.jpg"
    good.write_bytes(photo_bytes(seed=9))
    bad.write_bytes(io.BytesIO(b"just some notes").getvalue())
    chrome.find_element(By.NAME, "file").send_keys(f"{good}\n{bad}")
    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(chrome, "notes.jpg: notes.jpg is not a photo we can read")
    wait_for_text(chrome, "good.jpg: added")  # sent alongside, so it may finish later
    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(chrome, "notes.jpg: notes.jpg is not a photo")
    assert "already in your gallery" not in chrome.page_source  # good.jpg was not re-sent
    requests = "return performance.getEntriesByType('resource').length"
    sent = chrome.execute_script(requests)
    chrome.find_element(By.XPATH, "//button[text()='Retry']").click()  # the failed file alone
    WebDriverWait(chrome, WAIT).until(lambda d: d.execute_script(requests) == sent + 1)
    wait_for_text(chrome, "notes.jpg: notes.jpg is not a photo")
    assert "1 added, 1 not added" in chrome.page_source
