"""Reminders in the desk: a user waiting for Sarah's answer past the (here shortened)
threshold is highlighted in her "My conversations" and she is reminded; past the longer
one the user is told someone is still on it; her answer ends the wait.

A connector of its own (connector.yml with seconds instead of minutes), no Rasa: the
user's messages come over the bot API as the relay sends them."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from stack import ROOT, Ports, Stack
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e

BOT = {"Authorization": "Bearer demo-bot-secret"}
STILL_HERE = "I'm still here and looking into it."


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("reminders")
    config = (ROOT / "connector.yml").read_text()
    config = (config.replace("remind_agent_after_seconds: 120", "remind_agent_after_seconds: 3")
              .replace("still_here_after_seconds: 240", "still_here_after_seconds: 6"))
    assert "remind_agent_after_seconds: 3" in config and "still_here_after_seconds: 6" in config
    path = workdir / "connector.yml"
    path.write_text(config + "\nhousekeeping_seconds: 1\n")  # rounds every second, not five
    system = Stack(workdir=workdir, ports=Ports.free(), connector_config=path)
    system.start(only=["connector"])
    try:
        system.wait_healthy(timeout=120, only=["connector"])
        yield system
    finally:
        system.stop()


def bot(stack: Stack, path: str, body: Dict[str, Any], key: str = "") -> Dict[str, Any]:
    headers = {**BOT, **({"Idempotency-Key": key} if key else {})}
    response = requests.post(f"{stack.connector_url}/bot/v1{path}", json=body, headers=headers, timeout=30)
    assert response.status_code in (200, 201), response.text
    answer: Dict[str, Any] = response.json()
    return answer


def mine(page: Page, handoff_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"]')


def test_a_user_waiting_for_an_answer_is_highlighted_and_reminded(browser: Browser, quick: Stack) -> None:
    sarah = desk(browser, quick, "sarah", "demo-sarah")
    try:
        ticket = bot(quick, "/handoffs", {"sender_id": "user-waiting", "channel": "webchat", "trigger": "explicit",
                                          "reasons": [], "transcript": []}, key="r1")
        queue_row = sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{ticket["id"]}"]')
        queue_row.click(timeout=10_000)
        sarah.get_by_test_id("claim-button").click()
        expect(mine(sarah, ticket["id"])).to_be_visible()
        bot(quick, f"/handoffs/{ticket['id']}/messages", {"message_id": "m1", "text": "are you still there?"})
        expect(mine(sarah, ticket["id"])).not_to_have_class("is-unanswered")
        # Past 3 s: highlighted, with how long, and Sarah is told.
        expect(mine(sarah, ticket["id"]).get_by_test_id("unanswered-badge")).to_be_visible(timeout=15_000)
        expect(sarah.locator("#toasts")).to_contain_text("is waiting for your answer")
        # Past 6 s: the user hears someone is still on it, once.
        messages = '[data-testid="msg"][data-role="system"]'
        expect(sarah.locator(messages).filter(has_text=STILL_HERE)).to_have_count(1, timeout=15_000)
        shot(sarah, "reminder")
        # Her answer ends the wait.
        composer = sarah.get_by_test_id("composer-input")
        composer.fill("Yes, sorry: I found the form you need.")
        composer.press("Enter")
        expect(mine(sarah, ticket["id"]).get_by_test_id("unanswered-badge")).to_have_count(0, timeout=10_000)
        detail = requests.get(f"{quick.connector_url}/api/v1/handoffs/{ticket['id']}",
                              headers={"Authorization": "Bearer demo-token-sarah"}, timeout=30).json()
        assert detail["waiting_since"] is None
        assert sum(STILL_HERE in m["text"] for m in detail["messages"]) == 1
    finally:
        sarah.context.close()
