"""The upload page in headless Chromium: progress, a sign-in that expires mid-way, leaving
mid-upload, and direct upload to S3 (SeaweedFS) with the same look."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest

from tests.conftest import photo_bytes, sqlite_app, stored_keys
from tests.fixtures.browser import WAIT, wait_for_url
from tests.fixtures.cognito import served

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app with local accounts and CSRF on; nothing labels its photos (they stay pending)."""
    return sqlite_app(tmp_path_factory.mktemp("live-upload"), csrf=True, TESTING=False)


@pytest.fixture(scope="module")
def live(live_app) -> Iterator[str]:
    """The app over real HTTP."""
    with served(live_app) as url:
        yield url


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


def js(chrome, script: str, *args):
    return chrome.execute_script(script, *args)


def until(chrome, condition, what: str, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, timeout).until(lambda d: condition(d), message=what)


def throttle(chrome, upload_bytes_per_second: int = -1) -> None:
    """A slow upload link (-1: full speed again), so an upload can be seen under way."""
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": upload_bytes_per_second,
        },
    )


def leaving_is_stopped(chrome) -> bool:
    """What the browser asks before leaving: a cancelable beforeunload, cancelled by the page."""
    return js(
        chrome,
        "const e = new Event('beforeunload', {cancelable: true});"
        "window.dispatchEvent(e); return e.defaultPrevented",
    )


def drop(chrome, name: str, data: bytes) -> None:
    """A synthetic drag and drop of one real photo onto the page."""
    js(
        chrome,
        """
        const dt = new DataTransfer();
        const bytes = Uint8Array.from(atob(arguments[1]), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], arguments[0], {type: "image/jpeg"}));
        for (const type of ["dragenter", "dragover", "drop"]) {
          const init = {dataTransfer: dt, bubbles: true, cancelable: true};
          document.querySelector("main").dispatchEvent(new DragEvent(type, init));
        }
        """,
        name,
        base64.b64encode(data).decode(),
    )


def overall(chrome) -> str:
    return js(chrome, "return document.querySelector('.overall')?.textContent || ''")


def test_leaving_mid_upload_asks_first_and_not_once_it_is_done(chrome, live):
    chrome.delete_all_cookies()
    sign_in(chrome, live, "xia", new_account=True)
    wait_for_url(chrome, live + "/upload")
    chrome.get(live + "/")
    assert not leaving_is_stopped(chrome)
    throttle(chrome, 20_000)  # the ~60 KB photo takes seconds
    try:
        drop(chrome, "slow.jpg", photo_bytes(seed=21))
        until(chrome, lambda d: "0 of 1 added" in overall(d), "the upload under way")
        assert leaving_is_stopped(chrome)
    finally:
        throttle(chrome)
    until(chrome, lambda d: overall(d) == "1 added", "the upload done")
    assert not leaving_is_stopped(chrome)
    chrome.delete_all_cookies()


@pytest.fixture
def direct(storage_settings, tmp_path) -> Iterator[tuple[str, object, list[str]]]:
    """The app with direct upload to SeaweedFS over real HTTP, its backends, and the requests
    it answered ("POST /path")."""
    app = sqlite_app(tmp_path, csrf=True, TESTING=False, DIRECT_UPLOAD=True, **storage_settings)
    answered = []
    inner = app.wsgi_app

    def recording(environ, start_response):
        answered.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return inner(environ, start_response)

    app.wsgi_app = recording
    with served(app) as url:
        yield url, app.extensions["photogallery"], answered


@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_direct_upload_to_s3_looks_the_same_and_the_photo_lands(chrome, direct, photo_files):
    from selenium.webdriver.common.by import By

    url, backends, answered = direct
    chrome.delete_all_cookies()
    sign_in(chrome, url, "yan", new_account=True)
    wait_for_url(chrome, url + "/upload")
    assert js(chrome, "return document.querySelector('form[data-upload-api]').dataset.directUpload")
    chrome.find_element(By.NAME, "file").send_keys("\n".join(photo_files))
    wait_for_text(chrome, "2 photos ready to upload")
    previews = "return document.querySelectorAll('.uploads li img[src^=blob]').length"
    assert js(chrome, previews) == 2
    throttle(chrome, 40_000)  # two ~60 KB photos at once: seconds to see them under way
    try:
        chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        until(chrome, lambda d: "0 of 2 added" in overall(d), "the overall count")
        bars = "return [...document.querySelectorAll('.uploads li progress')].map((p) => p.value)"
        until(chrome, lambda d: any(0 < v < 1 for v in js(d, bars)), "a bar moving")
    finally:
        throttle(chrome)
    until(chrome, lambda d: d.current_url == url + "/", "the gallery")
    until(
        chrome,
        lambda d: js(d, "return document.querySelector('.toast')?.textContent") == "2 added",
        "the '2 added' message",
    )
    assert gallery_count(chrome) == 2
    # Sent to S3 and recorded by the app, not posted through it by the form's fallback.
    assert sum(a.startswith("POST /api/uploads/") for a in answered) == 2
    assert "POST /upload" not in answered and "POST /api/photos" not in answered
    stored = stored_keys(backends.store)
    assert sum("/original." in k for k in stored) == 2
    assert not any(k.startswith("incoming/") for k in stored)
    chrome.delete_all_cookies()
