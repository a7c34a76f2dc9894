"""The agent desk in headless Chromium, against the real processes.

Sarah and Miguel sign in in two browser contexts; a user escalates through
Rasa; Sarah claims, replies (typed and saved reply), adds a note, transfers to
Miguel, who closes; the user gets every message and then the survey.
Screenshots of the main screens go to artifacts/.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Callable

import pytest
import requests
from playwright.sync_api import Browser, expect

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def test_wrong_password_is_refused_on_the_page(browser: Browser, stack: Stack) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{stack.connector_url}/desk")
    page.get_by_test_id("login-user").fill("sarah")
    page.get_by_test_id("login-password").fill("not-her-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong login or password")
    shot(page, "login-error")
    page.context.close()


def test_claim_reply_saved_reply_note_transfer_close(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    miguel = desk(browser, stack, "miguel", "demo-miguel")
    shot(sarah, "empty-queue")

    # A real escalation through Rasa appears live in Sarah's queue.
    user.say("I got an eviction notice")
    user.say("can I talk to a person")
    handoff_id = agent("dana").handoff_of(user)["id"]
    item = sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]')
    expect(item).to_be_visible(timeout=10_000)
    expect(item.get_by_test_id("trigger-label")).to_contain_text("explicit", ignore_case=True)
    shot(sarah, "queue")

    item.click()
    conversation = sarah.get_by_test_id("conversation")
    expect(conversation).to_have_attribute("data-handoff-id", handoff_id)
    expect(sarah.get_by_test_id("brief")).to_contain_text("explicit", ignore_case=True)
    expect(sarah.get_by_test_id("transcript")).to_contain_text("I got an eviction notice")
    sarah.get_by_test_id("claim-button").click()
    wait_for(lambda: any(t.startswith("Hi, this is Sarah") for t in user.received()), what="the introduction")

    # A typed reply reaches the user through Rasa.
    composer = sarah.get_by_test_id("composer-input")
    composer.fill("How much rent is due, and by when?")
    composer.press("Enter")
    wait_for(lambda: "How much rent is due, and by when?" in user.received(), what="Sarah's reply")

    # The user's answer reaches the desk.
    assert user.say("about 800 dollars by Friday") == []
    expect(sarah.locator('[data-testid="msg"][data-role="user"]').last).to_contain_text("about 800 dollars by Friday")

    # A saved reply through the "/" menu.
    composer.fill("/era")
    expect(sarah.locator('[data-testid="saved-reply"][data-shortcut="era"]').first).to_be_visible()
    composer.press("Enter")
    expect(composer).to_have_value("You may qualify for emergency rental assistance. I can help you apply: "
                                   "do you have your lease and a recent pay stub?")
    sarah.get_by_test_id("send-button").click()
    wait_for(lambda: any("emergency rental assistance" in t for t in user.received()), what="the saved reply")

    # An internal note: shown to agents, never to the user.
    sarah.get_by_test_id("note-toggle").check()
    composer.fill("Has two kids; court date not set yet.")
    sarah.get_by_test_id("send-button").click()
    expect(sarah.locator('[data-testid="msg"][data-role="note"]').last).to_contain_text("Has two kids")
    sarah.get_by_test_id("note-toggle").uncheck()
    shot(sarah, "conversation")

    # Warm transfer to Miguel, who sees it arrive.
    sarah.get_by_test_id("transfer-button").click()
    dialog = sarah.get_by_test_id("transfer-dialog")
    expect(dialog).to_be_visible()
    sarah.get_by_test_id("transfer-target").select_option("agent:miguel")
    sarah.get_by_test_id("transfer-note").fill("Also behind on the gas bill.")
    shot(sarah, "transfer-dialog")
    sarah.get_by_test_id("transfer-submit").click()
    arrived = miguel.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"]')
    expect(arrived).to_be_visible(timeout=10_000)
    wait_for(lambda: any(t.startswith("I'm handing you over to Miguel") for t in user.received()),
             what="the outgoing agent's message")
    wait_for(lambda: any(t.startswith("Hi, this is Miguel") and "Sarah filled me in" in t
                         for t in user.received()), what="the incoming agent's introduction")
    expect(sarah.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"]')).to_have_count(0)

    arrived.click()
    expect(miguel.get_by_test_id("transcript")).to_contain_text("Also behind on the gas bill.")
    expect(miguel.get_by_test_id("transcript")).to_contain_text("Has two kids")
    shot(miguel, "transferred")
    miguel.get_by_test_id("close-button").click()
    miguel.get_by_test_id("close-resolution").select_option("referred")
    miguel.get_by_test_id("close-note").fill("Referred to rental assistance and LIHEAP.")
    miguel.get_by_test_id("close-submit").click()
    expect(miguel.get_by_test_id("conversation")).to_have_attribute("data-state", "closed", timeout=10_000)

    # The user gets the survey; the note never reached them.
    wait_for(lambda: any("How would you rate" in t for t in user.received()), what="the survey")
    assert not any("Has two kids" in t or "gas bill" in t for t in user.received())
    user.say("5")
    user.say("skip")
    expect(miguel.get_by_test_id("survey")).to_contain_text("5", timeout=10_000)
    shot(miguel, "closed-with-survey")
    sarah.context.close()
    miguel.context.close()



def test_the_desk_reconnects_after_the_connector_restarts(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    stack.stop(only=["connector"])
    expect(sarah.get_by_test_id("ws-status")).not_to_have_text("Live", timeout=15_000)
    stack.start(only=["connector"])
    stack.wait_healthy(only=["connector"])
    expect(sarah.get_by_test_id("ws-status")).to_have_text("Live", timeout=20_000)
    # Her desk said she is online again (the server sets an agent offline when
    # their last desk drops), and a new escalation shows up without a reload.
    wait_for(lambda: agent("sarah").call("GET", "/me")["presence"] == "online", what="presence re-sent")
    user.say("can I talk to a human")
    handoff_id = agent("dana").handoff_of(user)["id"]
    expect(sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]')).to_be_visible(timeout=10_000)
    sarah.context.close()


def test_the_desk_marks_late_and_undelivered_messages(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    user.say("can I talk to a person")
    sarah_api = agent("sarah")
    handoff_id = sarah_api.handoff_of(user)["id"]
    sarah_api.call("POST", f"/handoffs/{handoff_id}/claim")
    wait_for(lambda: any(t.startswith("Hi, this is Sarah") for t in user.received()), what="the introduction")
    # What the relay brings along after an outage: an earlier message that never arrived.
    sent = time.time() - 120
    response = requests.post(
        f"{stack.connector_url}/bot/v1/handoffs/{handoff_id}/messages",
        headers={"Authorization": f"Bearer {stack.bot_secret}"},
        json={"message_id": "now", "text": "hello again", "timestamp": sent + 60,
              "earlier": [{"message_id": "lost", "text": "is anyone there?", "timestamp": sent}]})
    assert response.status_code == 201, response.text
    # An agent message the outbox can never deliver (it breaks the worker): set aside.
    with sqlite3.connect(stack.workdir / "handoff.db", timeout=30) as db:
        message_id = db.execute("INSERT INTO messages (handoff_id, role, author, text, created_at) "
                                "VALUES (?, 'agent', 'sarah', 'a broken message', ?) RETURNING id",
                                (handoff_id, time.time())).fetchone()[0]
        db.execute("INSERT INTO outbox (handoff_id, sender_id, kind, payload, created_at, next_attempt_at) "
                   "VALUES (?, ?, 'message', ?, ?, ?)",
                   (handoff_id, user.id, json.dumps({"message_id": message_id}), time.time(), time.time()))
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    sarah.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"], '
                  f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]').first.click()
    late = sarah.locator('[data-testid="msg"][data-role="user"]', has_text="is anyone there?")
    expect(late.get_by_test_id("msg-late")).to_contain_text("reached you late")
    expect(sarah.locator('[data-testid="msg"][data-role="user"]', has_text="hello again")
           .get_by_test_id("msg-late")).to_have_count(0)
    broken = sarah.locator('[data-testid="msg"][data-role="agent"]', has_text="a broken message")
    expect(broken.get_by_test_id("msg-undelivered")).to_contain_text("Not delivered", timeout=20_000)
    shot(sarah, "late-and-undelivered")
    sarah.context.close()
