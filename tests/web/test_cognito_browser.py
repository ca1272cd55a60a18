"""Sign-in and sign-out with Cognito's hosted UI (the local provider) in headless Chromium."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.conftest import missing
from tests.fixtures.cognito import LiveCognito

APT_HINT = "apt-get install chromium chromium-driver, and pip install selenium"
WAIT = 15  # seconds for a page to settle


@pytest.fixture(scope="module")
def chrome() -> Iterator:
    """Headless Chromium driven by Selenium through the distribution's chromedriver."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
    if not (chromium and driver_path and webdriver):
        missing("headless Chromium with Selenium", APT_HINT)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_url(driver, prefix: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(lambda d: d.current_url.startswith(prefix))


def test_sign_in_and_out_through_the_hosted_ui_in_chromium(chrome, live_cognito: LiveCognito):
    from selenium.webdriver.common.by import By

    alice = live_cognito.provider.users["alice"]
    chrome.get(live_cognito.url + "/upload")
    wait_for_url(chrome, live_cognito.provider.issuer + "/interaction/")

    chrome.find_element(By.ID, "username").send_keys(alice.username)
    chrome.find_element(By.ID, "password").send_keys(alice.password)
    chrome.find_element(By.NAME, "signInSubmitButton").click()
    wait_for_url(chrome, live_cognito.url + "/upload")

    assert "Upload photos" in chrome.page_source
    assert "Alice Example" in chrome.find_element(By.CSS_SELECTOR, "header nav").text
    cookie = chrome.get_cookie("session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert chrome.execute_script("return document.cookie") == ""  # invisible to scripts

    chrome.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    # The provider's sign-out page submits itself and returns to the app; both sessions are
    # gone, so the app sends the browser to the hosted UI, which shows its form again.
    wait_for_url(chrome, live_cognito.provider.issuer + "/interaction/")
    assert chrome.find_element(By.ID, "password").get_attribute("value") == ""
    chrome.get(live_cognito.url + "/settings")
    wait_for_url(chrome, live_cognito.provider.issuer + "/interaction/")
