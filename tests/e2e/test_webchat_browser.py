"""The user's side in a browser: the web chat, with an agent at the desk.

One browser context is the user on /chat (Rasa's webchat channel), two are
agents at /desk. Covers: escalation with place in line and estimated wait,
the agent joining with an introduction, messages both ways with the typing
indicator, a warm transfer with both messages, closing with a link, the
survey as buttons, and coming back through the link to the same agent.
Screenshots go to artifacts/.
"""

from __future__ import annotations

import uuid
from typing import Callable

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from stack import Stack
from tests.e2e.conftest import AGENTS, Agent
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def seed_wait_history(stack: Stack, agent: Agent, queue: str) -> None:
    """Quickly answered conversations, as many as the estimate reads (the queue's latest 20
    waits), so that earlier tests' longer waits do not change what the user is told."""
    for _ in range(20):
        created = requests.post(
            f"{stack.connector_url}/bot/v1/handoffs",
            headers={"Authorization": f"Bearer {stack.bot_secret}", "Idempotency-Key": uuid.uuid4().hex},
            json={"sender_id": f"history-{uuid.uuid4().hex[:6]}", "trigger": "explicit", "queue": queue},
            timeout=30).json()
        agent.call("POST", f"/handoffs/{created['id']}/claim")
        agent.call("POST", f"/handoffs/{created['id']}/close", {"resolution": "resolved"})


def chat(browser: Browser, stack: Stack) -> Page:
    page = browser.new_context(viewport={"width": 430, "height": 900}).new_page()
    page.goto(f"{stack.connector_url}/chat")
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "open", timeout=15_000)
    return page


def sender_of(page: Page) -> str:
    """The conversation the channel opened for this page (its session stays in the page's storage)."""
    sender = page.locator("#log").get_attribute("data-sender")
    assert sender and sender.startswith("web-"), sender
    return sender


def say(page: Page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def last(page: Page, role: str) -> object:
    return page.locator(f'[data-testid="chat-msg"][data-role="{role}"]').last


def test_the_users_whole_handoff_in_the_web_chat(
    browser: Browser, stack: Stack, agent: Callable[[str], Agent]
) -> None:
    assert set(AGENTS) >= {"sarah", "miguel"}
    seed_wait_history(stack, agent("dana"), "housing")
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    miguel = desk(browser, stack, "miguel", "demo-miguel")
    user = chat(browser, stack)
    sender = sender_of(user)
    assert "sender" not in user.url

    say(user, "I got an eviction notice")
    expect(last(user, "bot")).to_contain_text("housing")
    say(user, "can I talk to a person")
    expect(last(user, "bot")).to_contain_text("number 1 in line (about 1 minute)")
    expect(last(user, "bot")).to_contain_text("won't need to repeat yourself")
    shot(user, "user-waiting")

    handoff_id = next(h["id"] for h in agent("dana").call("GET", "/queue")["handoffs"] if h["sender_id"] == sender)
    sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]').click()
    sarah.get_by_test_id("claim-button").click()
    intro = last(user, "agent")
    expect(intro).to_contain_text("Hi, this is Sarah, a housing specialist")
    expect(intro.get_by_test_id("chat-who")).to_have_text("Sarah, housing specialist")

    # Typing shows on the user's side, and goes away when the message lands.
    composer = sarah.get_by_test_id("composer-input")
    composer.press_sequentially("When is the court date on your notice?", delay=30)
    expect(user.get_by_test_id("typing-indicator")).to_be_visible(timeout=10_000)
    expect(user.get_by_test_id("typing-indicator")).to_contain_text("Sarah")
    shot(user, "user-agent-typing")
    composer.press("Enter")
    expect(last(user, "agent")).to_contain_text("When is the court date on your notice?")
    expect(user.get_by_test_id("typing-indicator")).to_be_hidden()

    say(user, "It says the 14th")
    expect(sarah.locator('[data-testid="msg"][data-role="user"]').last).to_contain_text("It says the 14th")
    expect(last(user, "bot")).not_to_contain_text("14th")  # the bot stayed silent

    # Warm transfer: the user hears from both agents.
    sarah.get_by_test_id("transfer-button").click()
    sarah.get_by_test_id("transfer-target").select_option("agent:miguel")
    sarah.get_by_test_id("transfer-note").fill("Also needs help with the gas bill.")
    sarah.get_by_test_id("transfer-submit").click()
    expect(user.get_by_text("I'm handing you over to Miguel, a benefits navigator")).to_be_visible(timeout=10_000)
    expect(last(user, "agent")).to_contain_text("Hi, this is Miguel, a benefits navigator. Sarah filled me in")
    expect(last(user, "agent").get_by_test_id("chat-who")).to_have_text("Miguel, benefits navigator")
    shot(user, "user-transferred")

    # Miguel closes with a link to continue later; the user gets the survey.
    miguel.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"]').click()
    miguel.get_by_test_id("close-button").click()
    miguel.get_by_test_id("close-resolution").select_option("referred")
    miguel.get_by_test_id("close-resume-link").check()
    miguel.get_by_test_id("close-submit").click()
    link = user.locator('[data-testid="chat-msg"][data-role="agent"]', has_text="/resume/").last
    expect(link).to_be_visible(timeout=10_000)
    resume_url = link.inner_text().split("http", 1)[1].split()[0]
    expect(user.locator('[data-testid="chat-button"][data-payload="5"]')).to_be_visible(timeout=15_000)
    shot(user, "user-survey")
    user.locator('[data-testid="chat-button"][data-payload="5"]').click()
    expect(last(user, "bot")).to_contain_text("Anything you'd like to tell us", timeout=15_000)
    say(user, "Both of them were kind")
    expect(last(user, "bot")).to_contain_text("Thank you for your feedback", timeout=15_000)
    expect(miguel.get_by_test_id("survey")).to_contain_text("5", timeout=10_000)

    # Later, on another device (a browser with nothing stored): the link brings the user back to
    # their own conversation with Miguel, as "assigned to you"; no address ever names the conversation.
    later = browser.new_context(viewport={"width": 430, "height": 900}).new_page()
    later.goto("http" + resume_url)
    later.get_by_test_id("resume-continue").click()
    expect(later.get_by_test_id("chat-status")).to_have_attribute("data-state", "open", timeout=15_000)
    assert sender_of(later) == sender and "sender" not in later.url
    say(later, "Hi Miguel, it's me again")
    resumed = miguel.locator('[data-testid="mine-item"]', has_text="Hi Miguel, it's me again")
    expect(resumed).to_be_visible(timeout=15_000)
    shot(miguel, "resumed")
    for page in (sarah, miguel, user, later):
        page.context.close()
