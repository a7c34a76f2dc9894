"""Saved replies in the desk, in headless Chromium against the real processes.

Sarah adds a reply of her own in the desk's Saved replies dialog, types "/" and
its shortcut in the composer, and the reply comes back filled in by the server
with the user's name from the slot the designer named (``user_name_slot: name``);
she sends it and the user gets it through Rasa. Dana, a supervisor, adds a team
reply for the housing team in her own browser: Sarah, of that team, finds it with
"/"; Miguel, of another team, does not. Screenshots: artifacts/desk-saved-replies.png (the
"/" menu) and desk-saved-replies-manage.png (the dialog).
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def escalate_with_name(stack: Stack, user: User, name: str) -> Dict[str, Any]:
    """The user's conversation handed over by a bot that learned their name (the demo bot asks
    for none): what the escalation action sends, with the slot ``name`` set."""
    assert user.say("hello")  # the conversation exists in Rasa, on the callback channel
    body = {"sender_id": user.id, "channel": "callback", "trigger": "explicit", "reasons": ["explicit_request"],
            "slots": {"name": name, "topic": "housing"},
            "transcript": [{"role": "user", "text": "hello", "timestamp": "2026-01-01T10:00:00.000+00:00"}]}
    response = requests.post(f"{stack.connector_url}/bot/v1/handoffs", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {stack.bot_secret}",
                                      "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def add_reply(page: Page, shortcut: str, title: str, text: str, team_queue: str | None = None) -> None:
    page.get_by_test_id("manage-replies").click()
    dialog = page.get_by_test_id("replies-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("reply-shortcut").fill(shortcut)
    dialog.get_by_test_id("reply-title").fill(title)
    dialog.get_by_test_id("reply-text").fill(text)
    if team_queue is not None:
        dialog.get_by_test_id("reply-scope").select_option("team")
        dialog.get_by_test_id("reply-queue").select_option(team_queue)
    dialog.get_by_test_id("reply-save").click()
    row = dialog.locator(f'[data-testid="reply-row"][data-shortcut="{shortcut}"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-scope", "team" if team_queue else "personal")
    expect(dialog.get_by_test_id("reply-error")).to_be_hidden()


def close_dialog(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("replies-dialog")).to_be_hidden()


def test_own_and_team_replies_filled_in_and_sent(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    handoff = escalate_with_name(stack, user, "Rosa")
    item = sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff["id"]}"]')
    item.click(timeout=10_000)
    sarah.get_by_test_id("claim-button").click()
    wait_for(lambda: any(t.startswith("Hi, this is Sarah") for t in user.received()), what="the introduction")

    # Sarah's own reply, added in the desk.
    add_reply(sarah, "docs-check", "Check the notice", "Thanks {user_name}, I'm {agent_name} from our {team}. "
                                   "Do you have the notice with you?")
    close_dialog(sarah)

    # "/" and its shortcut: the server fills it in for this conversation; she may edit, then sends.
    composer = sarah.get_by_test_id("composer-input")
    composer.fill("/docs-check")
    expect(sarah.locator('[data-testid="saved-reply"][data-shortcut="docs-check"]')).to_be_visible()
    composer.press("Enter")
    filled = "Thanks Rosa, I'm Sarah from our Housing Help team. Do you have the notice with you?"
    expect(composer).to_have_value(filled)
    sarah.get_by_test_id("send-button").click()
    wait_for(lambda: filled in user.received(), what="the saved reply, filled in, reaching the user")

    # Dana's team reply for the housing team, from her own browser.
    dana = desk(browser, stack, "dana", "demo-dana")
    add_reply(dana, "lease-copy", "Ask for the lease", "{user_name}, could you send a photo of your lease? Our {team} needs it.",
              team_queue="housing")
    shot(dana, "saved-replies-manage")
    close_dialog(dana)
    composer.fill("/lease")
    option = sarah.locator('[data-testid="saved-reply"][data-shortcut="lease-copy"]')
    expect(option).to_be_visible()
    shot(sarah, "saved-replies")
    option.click()
    expect(composer).to_have_value("Rosa, could you send a photo of your lease? Our Housing Help team needs it.")
    # Sarah may use it, not change it: in her list it has no edit button.
    composer.fill("")
    sarah.get_by_test_id("manage-replies").click()
    team_row = sarah.locator('[data-testid="reply-row"][data-shortcut="lease-copy"]')
    expect(team_row).to_be_visible()
    expect(team_row.get_by_test_id("reply-edit")).to_have_count(0)
    close_dialog(sarah)

    # Miguel serves general and food, not housing: the housing team's reply is not his.
    miguel = desk(browser, stack, "miguel", "demo-miguel")
    miguel.get_by_test_id("manage-replies").click()
    expect(miguel.locator('[data-testid="reply-row"][data-shortcut="hello"]')).to_be_visible()
    expect(miguel.locator('[data-testid="reply-row"][data-shortcut="lease-copy"]')).to_have_count(0)
    expect(miguel.locator('[data-testid="reply-row"][data-shortcut="docs-check"]')).to_have_count(0)

    # Tidy up: the replies the test added (the stack is shared by the browser tests).
    for name, shortcut in (("sarah", "docs-check"), ("dana", "lease-copy")):
        replies = agent(name).call("GET", "/saved-replies")["saved_replies"]
        for reply in replies:
            if reply["shortcut"] == shortcut:
                agent(name).call("DELETE", f"/saved-replies/{reply['id']}")
    for page in (sarah, dana, miguel):
        page.context.close()
