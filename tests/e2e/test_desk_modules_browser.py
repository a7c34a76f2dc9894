"""The desk as ES modules (static/desk/): a session through every panel throws nothing in the page.

The other desk tests check what the agent sees; this one catches what they would not: a module
that fails to load, or a call into another module that throws (a ReferenceError in a click handler
shows on no screen, only as an error in the page).
"""

from __future__ import annotations

from typing import Callable, List

import pytest
from playwright.sync_api import Browser, expect

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for
from tests.e2e.pages import shot

pytestmark = pytest.mark.e2e


def test_a_session_through_the_panels_raises_no_error_in_the_page(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    page = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    scripts: List[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)

    page.goto(f"{stack.connector_url}/desk")
    page.get_by_test_id("login-user").fill("sarah")
    page.get_by_test_id("login-password").fill("demo-sarah")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("ws-status")).to_have_text("Live", timeout=15_000)
    loaded = {url.rsplit("/static/", 1)[-1] for url in scripts}
    assert {"desk/main.js", "desk/live.js", "desk/composer.js", "common/dom.js"} <= loaded, loaded
    assert "desk.js" not in loaded

    # The team panel opens, lists the team, and closes with Escape.
    page.get_by_test_id("team-button").click()
    expect(page.get_by_test_id("team-row").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("team-panel")).to_be_hidden()

    # A conversation: claimed, the saved replies from their button and from "/", a note, closed.
    user.say("can I talk to a person")
    handoff_id = agent("dana").handoff_of(user)["id"]
    page.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]').click(timeout=10_000)
    page.get_by_test_id("claim-button").click()
    # Once the user has the introduction, the claim has settled (the view is not rebuilt under the menu).
    wait_for(lambda: any(t.startswith("Hi, this is Sarah") for t in user.received()), what="the introduction")
    composer = page.get_by_test_id("composer-input")
    page.get_by_test_id("saved-replies-button").click()
    expect(page.get_by_test_id("saved-reply").first).to_be_visible()
    page.keyboard.press("Escape")
    composer.fill("/")
    expect(page.get_by_test_id("saved-reply").first).to_be_visible()
    composer.fill("Checking your file now.")
    composer.press("Enter")
    expect(page.locator('[data-testid="msg"][data-role="agent"]').last).to_contain_text("Checking your file now.")
    page.get_by_test_id("note-toggle").check()
    composer.fill("Asked for a person at once.")
    composer.press("Enter")
    expect(page.locator('[data-testid="msg"][data-role="note"]').last).to_contain_text("Asked for a person")

    # A reload keeps the open tab (sessionStorage); the close dialog then ends the conversation.
    page.reload()
    expect(page.get_by_test_id("conversation")).to_have_attribute("data-handoff-id", handoff_id, timeout=15_000)
    page.get_by_test_id("close-button").click()
    page.get_by_test_id("close-resolution").select_option(index=0)
    page.get_by_test_id("close-submit").click()
    expect(page.get_by_test_id("conversation")).to_have_attribute("data-state", "closed", timeout=10_000)
    shot(page, "modules-closed")

    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-error")).to_have_text("You have signed out.")
    assert errors == [], errors
    page.context.close()
