"""Urgent first, in the desk: a user's words during the handoff ("I want to end my life")
flag their conversation as a crisis, put it first in every agent's queue, alert the
supervisor, and bring the user the crisis line's numbers (connector.yml's `urgency:`)
through the real Rasa server; an agent marks another conversation urgent by hand."""

from __future__ import annotations

from typing import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from stack import Stack
from tests.e2e.conftest import Agent, Inbox, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def row(page: Page, handoff_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]')


def first_in_line(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("queue-item").first


def test_a_crisis_goes_first_flagged_the_supervisor_is_alerted_and_the_user_hears_the_numbers(
    browser: Browser, stack: Stack, inbox: Inbox, user: User, agent: Callable[[str], Agent]
) -> None:
    dana = desk(browser, stack, "dana", "demo-dana")
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    miguel = desk(browser, stack, "miguel", "demo-miguel")
    try:
        earlier = User(stack, inbox)
        earlier.say("can I talk to a person")
        earlier_id = agent("dana").handoff_of(earlier)["id"]
        user.say("can I talk to a person")
        handoff_id = agent("dana").handoff_of(user)["id"]
        expect(first_in_line(sarah)).to_have_attribute("data-handoff-id", earlier_id, timeout=10_000)
        expect(row(sarah, handoff_id)).to_be_visible()

        # While waiting, the user says it: a crisis, first in line everywhere, flagged.
        user.say("honestly I want to end my life")
        wait_for(lambda: any("988" in t for t in user.received()), what="the crisis message")
        for page in (sarah, miguel, dana):
            expect(first_in_line(page)).to_have_attribute("data-handoff-id", handoff_id, timeout=10_000)
            expect(row(page, handoff_id).get_by_test_id("urgency-badge")).to_have_text("Crisis: self-harm")
        expect(row(sarah, earlier_id).get_by_test_id("urgency-badge")).to_have_count(0)
        expect(dana.locator("#toasts")).to_contain_text("Crisis: self-harm")  # the supervisor is alerted
        expect(sarah.locator("#toasts")).not_to_contain_text("Crisis: self-harm")
        row(sarah, handoff_id).click()
        expect(sarah.get_by_test_id("conversation").get_by_test_id("urgency-badge")).to_have_text("Crisis: self-harm")
        shot(sarah, "urgent")
        assert sum("988" in t for t in user.received()) == 1  # told once

        # Sarah marks the other one urgent by hand, with a reason: second in line, for everyone.
        row(sarah, earlier_id).click()
        sarah.get_by_test_id("urgency-button").click()
        expect(sarah.get_by_test_id("urgency-dialog")).to_be_visible()
        sarah.get_by_test_id("urgency-level").select_option("urgent")
        sarah.get_by_test_id("urgency-submit").click()
        expect(sarah.get_by_test_id("urgency-error")).to_contain_text("Say why")
        sarah.get_by_test_id("urgency-reason").fill("Their power is cut off tonight")
        sarah.get_by_test_id("urgency-submit").click()
        expect(row(miguel, earlier_id).get_by_test_id("urgency-badge")).to_have_text("Urgent: marked by hand",
                                                                                   timeout=10_000)
        expect(first_in_line(miguel)).to_have_attribute("data-handoff-id", handoff_id)
        changes = agent("dana").call("GET", f"/handoffs/{earlier_id}")["urgency_changes"]
        assert [(c["level"], c["actor"], c["reason"]) for c in changes] == [
            ("urgent", "agent:sarah", "Their power is cut off tonight")]
    finally:
        for page in (dana, sarah, miguel):
            page.context.close()
