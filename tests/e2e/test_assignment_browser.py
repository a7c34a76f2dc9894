"""Assignment and help requests in the desk: a supervisor and two agents, each in their own browser.

Dana (supervisor) assigns a waiting conversation to Miguel: Miguel's queue says "Assigned to
you", Sarah's "Assigned to Miguel" and asks her to leave it. Miguel claims it and asks for
help; Dana sees the request arrive live, reads along and writes a note that Miguel sees and
the user never does.
"""

from __future__ import annotations

from typing import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def row(page: Page, handoff_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]')


def test_a_supervisor_assigns_and_answers_a_call_for_help(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    dana = desk(browser, stack, "dana", "demo-dana")
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    miguel = desk(browser, stack, "miguel", "demo-miguel")
    try:
        user.say("can I talk to a person")
        handoff_id = agent("dana").handoff_of(user)["id"]

        # Dana assigns it to Miguel from her queue.
        row(dana, handoff_id).get_by_test_id("assign-button").click(timeout=10_000)
        expect(dana.get_by_test_id("assign-dialog")).to_be_visible()
        dana.get_by_test_id("assign-target").select_option("miguel")
        dana.get_by_test_id("assign-submit").click()
        expect(row(dana, handoff_id).get_by_test_id("assignment-badge")).to_have_text("Assigned to Miguel")

        # The three people see it each their way, live.
        expect(row(miguel, handoff_id).get_by_test_id("assignment-badge")).to_have_text("Assigned to you")
        expect(miguel.get_by_test_id("queue-item").first).to_have_attribute("data-handoff-id", handoff_id)
        expect(row(sarah, handoff_id).get_by_test_id("assignment-badge")).to_have_text("Assigned to Miguel")
        shot(miguel, "assigned")
        row(sarah, handoff_id).click()
        expect(sarah.get_by_test_id("claim-assignment")).to_contain_text("Leave it to them")
        expect(sarah.get_by_test_id("claim-anyway")).to_have_text("Take it anyway")

        # Miguel claims it as usual and asks for help.
        row(miguel, handoff_id).click()
        miguel.get_by_test_id("claim-button").click()
        wait_for(lambda: any(t.startswith("Hi, this is Miguel") for t in user.received()), what="the introduction")
        miguel.get_by_test_id("help-button").click()
        miguel.get_by_test_id("help-message-input").fill("Caller mentions a shutoff today: which fund?")
        miguel.get_by_test_id("help-submit").click()
        expect(miguel.get_by_test_id("help-asked")).to_have_text("Help requested")

        # Dana sees the request arrive, reads along, and writes a note.
        request = dana.get_by_test_id("help-item")
        expect(request).to_have_count(1, timeout=10_000)
        expect(request.get_by_test_id("help-message")).to_contain_text("shutoff today")
        expect(dana.get_by_test_id("help-count")).to_have_text("1")
        request.get_by_test_id("help-read").click()
        expect(dana.get_by_test_id("conversation")).to_have_attribute("data-handoff-id", handoff_id)
        expect(dana.get_by_test_id("help-banner")).to_contain_text("Miguel asks for help")
        composer = dana.get_by_test_id("composer-input")
        composer.fill("The utility hardship fund covers a shutoff notice.")
        composer.press("Enter")
        note = '[data-testid="msg"][data-role="note"]'
        expect(dana.locator(note).last).to_contain_text("hardship fund")
        expect(miguel.locator(note).last).to_contain_text("hardship fund", timeout=10_000)
        shot(dana, "help-request")
        assert not any("hardship" in t for t in user.received())  # a note never reaches the user

        # Handled: it leaves her list, and Miguel is told.
        dana.get_by_test_id("help-banner").get_by_test_id("help-handled").click()
        expect(dana.get_by_test_id("help-item")).to_have_count(0)
        expect(miguel.get_by_test_id("help-button")).to_be_visible(timeout=10_000)
    finally:
        for page in (dana, sarah, miguel):
            page.context.close()
