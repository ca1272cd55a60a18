"""A photo in headless Chromium: a swipe in the lightbox, labels arriving on the photo's page."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest

from photogallery.data import photos as photo_data
from photogallery.data.models import PhotoLabel
from photogallery.services import uploads
from photogallery.services.auth import accounts
from tests.conftest import photo_bytes, sqlite_app
from tests.fixtures.cognito import served
from tests.web.test_upload_browser import PASSWORD, js, sign_in, until, wait_for_url


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """The app over real HTTP (CSRF on, nothing labels photos) and its backends."""
    app = sqlite_app(tmp_path_factory.mktemp("live-photo"), csrf=True)
    with served(app) as url:
        yield url, app.extensions["photogallery"]


def person_with_photos(chrome, site, name: str, count: int) -> list[int]:
    """A new person signed in in the browser, with ``count`` photos (newest first)."""
    url, backends = site
    chrome.delete_all_cookies()
    sign_in(chrome, url, name, new_account=True)
    wait_for_url(chrome, url + "/upload")
    owner = accounts.authenticate(backends, name, PASSWORD).id
    added = [
        uploads.add_photo(backends, owner, io.BytesIO(photo_bytes(seed=n)), f"{n}.jpg").id
        for n in range(1, count + 1)
    ]
    return added[::-1]


def swipe(chrome, from_x: int, to_x: int, y: int = 300, to_y: int | None = None) -> None:
    """A finger drawn across the screen (touch events from the browser's own input layer)."""
    to_y = y if to_y is None else to_y
    for kind, points in (
        ("touchStart", [{"x": from_x, "y": y}]),
        ("touchMove", [{"x": (from_x + to_x) // 2, "y": (y + to_y) // 2}]),
        ("touchMove", [{"x": to_x, "y": to_y}]),
        ("touchEnd", []),
    ):
        chrome.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def pinch(chrome, y: int = 300) -> None:
    """Two fingers spread apart sideways (zooming in)."""
    for kind, points in (
        ("touchStart", [{"x": 350, "y": y, "id": 0}, {"x": 450, "y": y, "id": 1}]),
        ("touchMove", [{"x": 275, "y": y, "id": 0}, {"x": 525, "y": y, "id": 1}]),
        ("touchMove", [{"x": 200, "y": y, "id": 0}, {"x": 600, "y": y, "id": 1}]),
        ("touchEnd", []),
    ):
        chrome.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_swipe_in_the_lightbox_goes_to_the_next_and_previous_photo(chrome, site):
    from selenium.webdriver.common.by import By

    url, _ = site
    newest, middle, _ = person_with_photos(chrome, site, "sam", 3)
    chrome.get(url + "/")
    chrome.find_element(By.CSS_SELECTOR, f".grid li[data-id='{newest}'] a.thumb").click()
    until(chrome, lambda d: js(d, "return !!document.querySelector('.lightbox img')"), "lightbox")

    swipe(chrome, 300, 100)  # right to left: the next (older) photo
    until(chrome, lambda d: d.current_url.endswith(f"/photos/{middle}"), "the next photo")
    swipe(chrome, 100, 300)  # left to right: back to the previous one
    until(chrome, lambda d: d.current_url.endswith(f"/photos/{newest}"), "the previous photo")
    swipe(chrome, 200, 170)  # a short drag is not a swipe
    swipe(chrome, 300, 230, 400, 40)  # nor is scrolling up the details, a little sideways
    pinch(chrome)  # nor is zooming in with two fingers
    time.sleep(0.5)  # a step would have fetched the photo and changed the URL by now
    assert chrome.current_url.endswith(f"/photos/{newest}")
    chrome.delete_all_cookies()


def test_labels_appear_on_the_photo_page_without_a_reload(chrome, site):
    from selenium.webdriver.common.by import By

    url, backends = site
    (photo_id,) = person_with_photos(chrome, site, "tia", 1)
    chrome.get(f"{url}/photos/{photo_id}")
    assert "Not labelled yet." in js(
        chrome, "return document.querySelector('.details').textContent"
    )
    js(chrome, "window.notReloaded = true")
    # Meanwhile the person has started typing: what they typed stays when the labels come.
    chrome.find_element(By.NAME, "description").send_keys("Chelsea, asleep")
    chrome.find_element(By.CSS_SELECTOR, ".add-label input[name=name]").send_keys("Gra")
    js(chrome, "document.querySelector('.add-label input[name=name]').focus()")

    with backends.engine.begin() as conn:
        labels = [PhotoLabel("Cat", 92.0, ("Animal",)), PhotoLabel("Animal", 92.0)]
        photo_data.set_labels(conn, photo_id, labels, model="test")

    def chips(d):
        return js(
            d, "return [...document.querySelectorAll('.details .chip')].map((c) => c.dataset.label)"
        )

    until(chrome, lambda d: chips(d) == ["Cat"], "the labels, without a reload")
    assert js(chrome, "return window.notReloaded") is True
    assert "Not labelled yet" not in js(
        chrome, "return document.querySelector('.details').textContent"
    )
    assert js(chrome, "return document.querySelector('article.photo').dataset.status") == "done"
    assert chrome.find_element(By.NAME, "description").get_attribute("value") == "Chelsea, asleep"
    typed = chrome.find_element(By.CSS_SELECTOR, ".add-label input[name=name]")
    assert typed.get_attribute("value") == "Gra"
    assert js(chrome, "return document.activeElement") == typed
    assert (
        js(chrome, "return document.querySelector('article.photo figure img').alt") == "Cat, Animal"
    )
    chrome.delete_all_cookies()


def test_labels_arriving_in_the_lightbox_keep_what_is_being_typed(chrome, site):
    from selenium.webdriver.common.by import By

    url, backends = site
    (photo_id,) = person_with_photos(chrome, site, "uri", 1)
    chrome.get(url + "/")
    chrome.find_element(By.CSS_SELECTOR, f".grid li[data-id='{photo_id}'] a.thumb").click()
    until(chrome, lambda d: js(d, "return !!document.querySelector('.lightbox textarea')"), "it")
    chrome.find_element(By.CSS_SELECTOR, ".lightbox textarea").send_keys("Chelsea, asleep")

    with backends.engine.begin() as conn:
        photo_data.set_labels(conn, photo_id, [PhotoLabel("Cat", 92.0)], model="test")

    until(
        chrome,
        lambda d: js(d, "return !!document.querySelector('.lightbox .chip[data-label=Cat]')"),
        "the labels in the lightbox",
    )
    assert "Not labelled yet" not in js(
        chrome, "return document.querySelector('.lightbox').textContent"
    )
    area = chrome.find_element(By.CSS_SELECTOR, ".lightbox textarea")
    assert area.get_attribute("value") == "Chelsea, asleep"
    assert js(chrome, "return document.activeElement") == area
    chrome.delete_all_cookies()
