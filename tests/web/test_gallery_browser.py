"""The gallery as a person uses it, in headless Chromium at 1366x900 and 390x844, light and dark:
drop photos, watch them upload and get labelled, search as you type, browse in the lightbox,
edit, delete and undo, sign out; axe-core on every page; the keyboard alone reaches a photo.

Screenshots and the axe results go to tests/screenshots/ (git-ignored)."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing, sqlite_app
from tests.fixtures.browser import WAIT
from tests.fixtures.cognito import served

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "screenshots"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
AXE_RESULTS: dict[str, dict] = {}
CONTEXT = {"form": ""}  # "desktop" or "phone", light or dark: names the axe results


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app: local accounts, CSRF on, the ONNX labeler on the inline queue."""
    if not AXE.exists():
        missing("axe-core", "make tests/browser/node_modules (npm ci in tests/browser)")
    tmp = tmp_path_factory.mktemp("live-gallery")
    return sqlite_app(tmp, csrf=True, TESTING=False, LABELER="onnx")


@pytest.fixture(scope="module")
def live(live_app) -> Iterator[str]:
    """The app over real HTTP."""
    SHOTS.mkdir(exist_ok=True)
    with served(live_app) as url:
        try:
            yield url
        finally:
            (SHOTS / "axe.json").write_text(json.dumps(AXE_RESULTS, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def samples() -> list[tuple[str, str]]:
    """Three real photographs (scikit-image's samples) as (file name, base64 JPEG)."""
    from PIL import Image
    from skimage import data

    found = []
    for name in ("chelsea", "coffee", "rocket"):
        buf = io.BytesIO()
        Image.fromarray(getattr(data, name)()).convert("RGB").save(buf, "JPEG", quality=85)
        found.append((f"{name}.jpg", base64.b64encode(buf.getvalue()).decode()))
    return found


def until(chrome, condition, what: str, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, timeout).until(lambda d: condition(d), message=what)


def js(chrome, script: str, *args):
    return chrome.execute_script(script, *args)


def size(chrome, width: int, height: int, dark: bool = False) -> None:
    scheme = "dark" if dark else "light"
    chrome.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    CONTEXT["form"] = f"{width}x{height}, {scheme}"
    chrome.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def check_axe(chrome, page: str) -> None:
    """axe-core's full run on what is on screen: no critical and no serious violation."""
    if not js(chrome, "return !!window.axe"):
        js(chrome, AXE.read_text())
    found = chrome.execute_async_script(
        "const done = arguments[0];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations.map("
        "(v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' '))}))));"
    )
    AXE_RESULTS[f"{page} ({CONTEXT['form']})"] = {
        "violations": len(found),
        "by_impact": {i: sum(v["impact"] == i for v in found) for i in ("critical", "serious")},
        "details": found,
    }
    bad = [v for v in found if v["impact"] in ("critical", "serious")]
    assert not bad, f"{page}: {bad}"


def shot(chrome, name: str) -> None:
    chrome.save_screenshot(str(SHOTS / f"{name}.png"))


def drop(chrome, files: list[tuple[str, str]]) -> None:
    """A synthetic drag and drop of real files onto the page, as a person's drop arrives."""
    js(
        chrome,
        """
        const dt = new DataTransfer();
        for (const [name, b64] of arguments[0]) {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          dt.items.add(new File([bytes], name, {type: "image/jpeg"}));
        }
        const target = document.querySelector("main");
        for (const type of ["dragenter", "dragover", "drop"]) {
          const init = {dataTransfer: dt, bubbles: true, cancelable: true};
          target.dispatchEvent(new DragEvent(type, init));
        }
        """,
        files,
    )


def grid_ids(chrome) -> list[str]:
    return js(
        chrome,
        "return [...document.querySelectorAll('.grid li')]"
        ".filter((li) => !li.hidden).map((li) => li.dataset.id)",
    )


def sign_up(chrome, live: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    chrome.get(live + "/signup")
    check_axe(chrome, "sign-up")
    chrome.find_element(By.NAME, "username").send_keys(name)
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.NAME, "password2").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    until(chrome, lambda d: d.current_url.startswith(live + "/upload"), "the upload page")
    check_axe(chrome, "upload")


def upload_by_dropping(chrome, live: str, samples, label: str) -> None:
    chrome.get(live + "/")
    check_axe(chrome, "gallery, empty")
    shot(chrome, f"empty-{label}")
    # A slow connection, so the progress can be seen (and photographed) on the way.
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 200_000},
    )
    drop(chrome, samples)
    until(
        chrome,
        lambda d: (
            "of 3 added" in js(d, "return document.querySelector('#uploader .overall').textContent")
        ),
        "the overall count",
    )
    assert (
        js(
            chrome,
            "return document.querySelectorAll('#uploader .uploads li img[src^=blob]').length",
        )
        == 3
    )
    shot(chrome, f"upload-in-progress-{label}")
    until(chrome, lambda d: len(grid_ids(d)) == 3, "three photos in the grid", timeout=30)
    chrome.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    until(
        chrome,
        lambda d: "3 added" in js(d, "return document.querySelector('.toast')?.textContent || ''"),
        "the '3 added' message",
    )
    # The labels arrive by themselves: no reload (a marker on window would not survive one).
    js(chrome, "window.notReloaded = true")
    until(
        chrome,
        lambda d: (
            js(d, "return document.querySelectorAll('.grid li[data-status=pending]').length") == 0
        ),
        "labels",
        timeout=30,
    )
    assert js(chrome, "return window.notReloaded") is True
    # Three across, on a phone too, in square boxes that do not move while images load.
    boxes = js(
        chrome,
        "return [...document.querySelectorAll('.grid a.thumb')].map((a) => {"
        "  const r = a.getBoundingClientRect(); return [Math.round(r.top), r.width, r.height]; })",
    )
    assert len({top for top, _, _ in boxes}) == 1, boxes
    assert all(abs(w - h) < 1 and w > 90 for _, w, h in boxes), boxes
    assert "Cat" in js(
        chrome, "return document.querySelector('.grid').textContent"
    ) or label.startswith("phone")
    check_axe(chrome, "gallery")


def search_as_you_type(
    chrome, live: str, label: str, typed="ca", expect="Cat · 1", shows="cat"
) -> None:
    from selenium.webdriver.common.by import By

    box = chrome.find_element(By.CSS_SELECTOR, "form.search input")
    box.send_keys(typed)
    until(
        chrome,
        lambda d: js(d, "return !document.getElementById('suggestions').hidden"),
        "suggestions",
    )
    options = js(
        chrome,
        "return [...document.querySelectorAll('#suggestions [role=option]')]"
        ".map((o) => o.textContent)",
    )
    assert expect in options, options
    # The grid follows while typing: the photos of the best suggestion ("ca" shows Cat's).
    until(chrome, lambda d: d.current_url.endswith(f"q={shows}"), "results while typing")
    until(chrome, lambda d: len(grid_ids(d)) == 1, "the one matching photo")
    shot(chrome, f"search-{label}")
    check_axe(chrome, "search suggestions")
    chrome.get(live + "/")


def lightbox(chrome, live: str, label: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    first, second, _ = grid_ids(chrome)
    chrome.find_element(By.CSS_SELECTOR, f".grid li[data-id='{first}'] a.thumb").click()
    until(chrome, lambda d: d.current_url.endswith(f"/photos/{first}"), "the lightbox's URL")
    until(
        chrome,
        lambda d: js(d, "return !!document.querySelector('.lightbox figure img')"),
        "the lightbox",
    )
    fits = js(
        chrome,
        "const r = document.querySelector('.lightbox figure img').getBoundingClientRect();"
        "return r.width <= innerWidth && r.height <= innerHeight",
    )
    assert fits
    chrome.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    until(chrome, lambda d: d.current_url.endswith(f"/photos/{second}"), "the next photo")
    until(
        chrome,
        lambda d: js(d, "return document.querySelector('.lightbox img').complete"),
        "its preview",
    )
    shot(chrome, f"lightbox-{label}")
    check_axe(chrome, "lightbox")
    chrome.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(chrome, lambda d: js(d, "return !document.querySelector('.lightbox')"), "closed")
    until(chrome, lambda d: d.current_url == live + "/", "the gallery's URL again")


def edit_in_place(chrome, label: str) -> str:
    from selenium.webdriver.common.by import By

    cat = (
        js(
            chrome,
            "return [...document.querySelectorAll('.grid li')]"
            ".find((li) => li.textContent.includes('Cat'))?.dataset.id",
        )
        or grid_ids(chrome)[-1]
    )
    chrome.find_element(By.CSS_SELECTOR, f".grid li[data-id='{cat}'] a.thumb").click()
    until(
        chrome,
        lambda d: js(d, "return !!document.querySelector('.lightbox .describe')"),
        "the lightbox",
    )
    area = chrome.find_element(By.CSS_SELECTOR, ".lightbox textarea")
    area.clear()
    area.send_keys("Chelsea on the sofa")
    chrome.find_element(By.CSS_SELECTOR, ".lightbox .describe button").click()
    until(
        chrome,
        lambda d: (
            "Description saved."
            in js(d, "return document.querySelector('.lightbox .edit-status')?.textContent || ''")
        ),
        "saved",
    )
    assert (
        js(chrome, f"return document.querySelector(\".grid li[data-id='{cat}'] img\").alt")
        == "Chelsea on the sofa"
    )

    def chips(d):
        return js(
            d,
            "return [...document.querySelectorAll('.lightbox .chip')].map((c) => c.dataset.label)",
        )

    before = chips(chrome)
    chrome.find_element(By.CSS_SELECTOR, ".lightbox .chip .remove").click()
    until(chrome, lambda d: chips(d) and before[0] not in chips(d), "the label removed")
    chrome.find_element(By.CSS_SELECTOR, ".lightbox .add-label input").send_keys("Grandma")
    chrome.find_element(By.CSS_SELECTOR, ".lightbox .add-label button").click()
    until(chrome, lambda d: "Grandma" in chips(d), "the label added")
    js(chrome, "document.querySelector('.lightbox .close').click()")
    return cat


def delete_and_undo(chrome, live: str) -> str:
    from selenium.webdriver.common.by import By

    victim = grid_ids(chrome)[0]
    chrome.find_element(By.CSS_SELECTOR, f".grid li[data-id='{victim}'] a.thumb").click()
    until(
        chrome,
        lambda d: js(d, "return !!document.querySelector('.lightbox .danger')"),
        "the lightbox",
    )
    js(chrome, "window.confirm = () => true")
    chrome.find_element(By.CSS_SELECTOR, ".lightbox .danger").click()
    until(chrome, lambda d: victim not in grid_ids(d), "the photo gone from the grid")
    chrome.find_element(By.CSS_SELECTOR, ".toast button").click()
    until(chrome, lambda d: victim in grid_ids(d), "the photo back")
    return victim, time.monotonic()


def keyboard_only(chrome, live: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chrome.get(live + "/")
    for _ in range(20):
        ActionChains(chrome).send_keys(Keys.TAB).perform()
        if js(chrome, "return document.activeElement.matches('.grid a.thumb')"):
            break
    else:
        raise AssertionError("Tab never reached the first photo")
    assert js(
        chrome, "return document.activeElement.closest('li') === document.querySelector('.grid li')"
    )
    ring = js(
        chrome,
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)]",
    )
    assert ring[0] != "none" and ring[1] >= 2, ring
    # Not clipped: no box around the thumbnail cuts off what overflows it (the ring).
    clipping = js(
        chrome,
        "const found = []; let n = document.activeElement.parentElement;"
        "for (; n && n !== document.body; n = n.parentElement)"
        "  if (getComputedStyle(n).overflow !== 'visible') found.push(n.className);"
        "return found",
    )
    assert clipping == []
    ActionChains(chrome).send_keys(Keys.ENTER).perform()
    until(
        chrome,
        lambda d: js(d, "return document.activeElement.matches('.lightbox .close')"),
        "Enter opens the photo, focus on Close",
    )
    # Focus stays in the lightbox: Shift+Tab past its first control lands on its last, Tab on
    # from the last comes back to the first.
    where = (
        "const all = [...document.querySelectorAll("
        "  '.lightbox :is(a[href], button, input, textarea)')];"
        "return [all.indexOf(document.activeElement), all.length]"
    )
    close_at, count = js(chrome, where)
    ActionChains(chrome).key_down(Keys.SHIFT).send_keys(Keys.TAB * (close_at + 1)).perform()
    ActionChains(chrome).key_up(Keys.SHIFT).perform()
    assert js(chrome, where) == [count - 1, count]
    ActionChains(chrome).send_keys(Keys.TAB).perform()
    assert js(chrome, where) == [0, count]
    ActionChains(chrome).send_keys(Keys.ESCAPE).perform()
    until(chrome, lambda d: js(d, "return !document.querySelector('.lightbox')"), "closed")
    # Focus is back on the thumbnail that opened it.
    assert js(chrome, "return document.activeElement === document.querySelector('.grid a.thumb')")


def sign_out_and_back(chrome, live: str) -> None:
    from selenium.webdriver.common.by import By

    chrome.get(live + "/")
    assert grid_ids(chrome)
    chrome.find_element(By.CSS_SELECTOR, "form.inline button").click()
    until(chrome, lambda d: "/login" in d.current_url, "the sign-in page")
    chrome.back()
    time.sleep(0.5)
    assert js(chrome, "return document.querySelectorAll('.grid img').length") == 0
    assert "Sign in" in chrome.page_source


@pytest.mark.parametrize("form", ["desktop", "phone"])
def test_a_new_person_drops_photos_browses_edits_and_signs_out(chrome, live, samples, form):
    width, height = SIZES[form]
    size(chrome, width, height)
    sign_up(chrome, live, f"e2e-{form}")
    upload_by_dropping(chrome, live, samples, form)
    search_as_you_type(chrome, live, form)
    lightbox(chrome, live, form)
    described = edit_in_place(chrome, form)
    kept, undone_at = delete_and_undo(chrome, live)
    size(chrome, width, height, dark=True)
    chrome.get(live + "/")
    check_axe(chrome, "gallery, dark")
    shot(chrome, f"grid-{form}-dark")
    lightbox(chrome, live, f"{form}-dark")
    search_as_you_type(chrome, live, f"{form}-dark", "co", "Coffee · 1", "coffee")  # no Cat now
    size(chrome, width, height)
    shot(chrome, f"grid-{form}")
    for path, page in (("/settings", "settings"), ("/no-such-page", "not found")):
        chrome.get(live + path)
        check_axe(chrome, page)
    chrome.get(f"{live}/photos/{described}")
    check_axe(chrome, "photo page")
    assert "Chelsea on the sofa" in chrome.page_source and "Grandma" in chrome.page_source
    # A shared link opens the photo's own page: Esc goes to the grid.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(chrome).send_keys(Keys.ESCAPE).perform()
    until(chrome, lambda d: d.current_url == live + "/", "Esc from the photo's page")
    # The undone delete was never sent: the photo is still there after the undo time.
    time.sleep(max(0.0, undone_at + 5.5 - time.monotonic()))
    assert (
        chrome.execute_async_script(
            "fetch('/api/photos/' + arguments[0]).then((r) => arguments[1](r.status))", kept
        )
        == 200
    )
    keyboard_only(chrome, live)
    sign_out_and_back(chrome, live)
    check_axe(chrome, "sign-in")
    chrome.delete_all_cookies()


def test_the_gallery_with_48_photos_is_light_paints_fast_and_scrolls_on(
    chrome, live, live_app, samples
):
    from photogallery.services import uploads
    from photogallery.services.auth import accounts
    from tests.conftest import insert_photo_row

    size(chrome, *SIZES["desktop"])
    sign_up(chrome, live, "e2e-many")
    backends = live_app.extensions["photogallery"]
    owner = accounts.authenticate(backends, "e2e-many", PASSWORD).id
    photo = uploads.add_photo(
        backends, owner, io.BytesIO(base64.b64decode(samples[0][1])), "chelsea.jpg", ""
    )
    same_files = {k: getattr(photo, k) for k in ("original_key", "thumbnail_key", "preview_key")}
    with backends.engine.begin() as conn:
        for n in range(59):  # 60 photos: a first page of 48, then 12 more while scrolling
            insert_photo_row(conn, owner, 1000 + n, **same_files, label_status="done")
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    chrome.get(live + "/")
    until(
        chrome,
        lambda d: js(d, "return performance.getEntriesByName('first-contentful-paint').length"),
        "a paint",
    )
    assert len(grid_ids(chrome)) == 48
    fcp = js(chrome, "return performance.getEntriesByName('first-contentful-paint')[0].startTime")
    shipped = js(
        chrome,
        "const nav = performance.getEntriesByType('navigation')[0];"
        "const files = performance.getEntriesByType('resource')"
        "  .filter((r) => /\\.(js|css)$/.test(new URL(r.name).pathname));"
        "return {html: nav.decodedBodySize, files: Object.fromEntries("
        "  files.map((r) => [new URL(r.name).pathname, r.decodedBodySize]))}",
    )
    chrome.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    js(chrome, "window.scrollTo(0, document.body.scrollHeight)")
    until(chrome, lambda d: len(grid_ids(d)) == 60, "the older photos while scrolling")
    assert len(set(grid_ids(chrome))) == 60
    assert js(chrome, "return document.querySelector('.more')") is None  # nothing older
    total = shipped["html"] + sum(shipped["files"].values())
    (SHOTS / "gallery-48.json").write_text(
        json.dumps({"fcp_ms": fcp, "bytes_total": total, **shipped}, indent=2)
    )
    assert total < 60_000, shipped
    assert fcp < 2000, fcp
    chrome.delete_all_cookies()
