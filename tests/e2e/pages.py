"""Helpers for the browser tests: sign in at the desk, take screenshots."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from stack import ROOT, Stack

ARTIFACTS = ROOT / "artifacts"


def desk(browser: Browser, stack: Stack, login: str, password: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.goto(f"{stack.connector_url}/desk")
    page.get_by_test_id("login-user").fill(login)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    # Many tests sign the same demo agents in from one address in a few minutes: the login
    # throttle may ask to wait a few seconds. Then do as a person would: wait, sign in again.
    for _ in range(5):
        throttled = page.get_by_text("Too many failed sign-ins")
        live = page.get_by_test_id("ws-status").filter(has_text="Live")
        expect(live.or_(throttled)).to_be_visible(timeout=15_000)
        if live.is_visible() or not throttled.is_visible():
            break
        page.wait_for_timeout(4_000)
        page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("ws-status")).to_have_text("Live", timeout=15_000)
    expect(page.get_by_test_id("presence-select")).to_have_value("online")
    return page


def shot(page: Page, name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"desk-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return str(path)


def insights(page: Page, stack: Stack, view: str) -> Page:
    """The insights pages in the desk's tab (they share its session), at one view."""
    page.goto(f"{stack.connector_url}/desk/insights#{view}")
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", view)
    return page
