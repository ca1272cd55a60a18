"""Sign-in and sign-out with Cognito's hosted UI (the local provider) in headless Chromium."""

from __future__ import annotations

from tests.fixtures.browser import wait_for_url
from tests.fixtures.cognito import LiveCognito


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
