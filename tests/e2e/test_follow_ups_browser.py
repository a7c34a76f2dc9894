"""Follow-ups that leave the chat, in the desk, over the real Rasa server and a real local
SMTP server (the stack's): Sarah makes a follow-up during a conversation; the user gets it
in the chat and by email, with a link back to her; the desk shows the email sent and the
follow-up in "My follow-ups". After the close, the user comes back through the link: a new
conversation with Sarah, who is told; she marks the follow-up done and emails the
transcript, with her notes, to the help desk."""

from __future__ import annotations

import re
import time
from email.message import Message
from typing import Callable

import pytest
from playwright.sync_api import Browser, expect

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e
NOTE = "I'll ask the housing office about your repair request and write back by Friday."


def _text(message: Message) -> str:
    """The message's own text (not an attachment)."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    return str(part.get_payload(decode=True).decode())


def test_a_follow_up_by_chat_and_email_brings_the_user_back_to_its_owner(
    browser: Browser, stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    before = len(stack.mails())
    try:
        user.say("can I talk to a person")
        handoff_id = agent("sarah").handoff_of(user)["id"]
        sarah.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]').click(timeout=10_000)
        sarah.get_by_test_id("claim-button").click()
        expect(sarah.locator(f'[data-testid="mine-item"][data-handoff-id="{handoff_id}"]')).to_be_visible()
        composer = sarah.get_by_test_id("composer-input")

        # The follow-up: in the chat and by email.
        sarah.get_by_test_id("follow-up-button").click()
        expect(sarah.get_by_test_id("follow-up-dialog")).to_be_visible()
        sarah.get_by_test_id("follow-up-send-email").check()
        sarah.get_by_test_id("follow-up-submit").click()
        expect(sarah.get_by_test_id("follow-up-error")).to_contain_text("Write what you will follow up on")
        sarah.get_by_test_id("follow-up-note").fill(NOTE)
        sarah.get_by_test_id("follow-up-submit").click()
        expect(sarah.get_by_test_id("follow-up-error")).to_contain_text("email address")
        sarah.get_by_test_id("follow-up-email").fill("ana@example.org")
        sarah.get_by_test_id("follow-up-submit").click()
        expect(sarah.locator("#toasts")).to_contain_text("Follow-up sent in the chat and by email to ana@example.org")
        told = wait_for(lambda: next((t for t in user.received() if "housing office" in t), None),
                        what="the follow-up in the chat")
        link = re.search(r"https?://\S+/follow-up/[\w-]+", told)
        assert link and "Sarah" in told, told
        strip = sarah.get_by_test_id("conversation-follow-up")
        expect(strip).to_contain_text(NOTE)
        expect(strip.get_by_test_id("follow-up-email")).to_have_attribute("data-state", "sent", timeout=20_000)
        expect(strip.get_by_test_id("follow-up-email")).to_have_text("Emailed to ana@example.org")
        expect(sarah.get_by_test_id("my-follow-up")).to_contain_text(NOTE)
        composer.fill("Thanks for waiting, I'll be in touch.")
        composer.press("Enter")
        shot(sarah, "follow-up-sent")
        mail = wait_for(lambda: next((m for m in stack.mails()[before:] if m["To"] == "ana@example.org"), None),
                        what="the follow-up email")
        assert mail["Subject"] == "Your follow-up with our Community Help team"
        assert NOTE in _text(mail) and link.group(0) in _text(mail)

        # Closed; the user comes back through the link (the page a link preview cannot trigger).
        sarah.get_by_test_id("close-button").click()
        sarah.get_by_test_id("close-resolution").select_option(index=0)
        sarah.get_by_test_id("close-submit").click()
        page = browser.new_context().new_page()
        page.goto(link.group(0))
        expect(page.get_by_test_id("follow-up-continue")).to_have_text("Continue with Sarah")
        page.get_by_test_id("follow-up-continue").click()
        page.wait_for_url("**/chat")  # the page hands the chat a session and opens it
        expect(sarah.locator("#toasts")).to_contain_text("came back about your follow-up", timeout=15_000)
        answered = sarah.get_by_test_id("my-follow-up").get_by_test_id("follow-up-answered")
        expect(answered).to_be_visible()
        back = [h for h in agent("sarah").call("GET", "/handoffs/assigned")["handoffs"] if h["sender_id"] == user.id]
        assert [(h["agent_id"], h["trigger"]) for h in back] == [("sarah", "follow_up")]
        page.context.close()

        # Done; and the transcript, with the notes, to the help desk.
        sarah.get_by_test_id("my-follow-up").get_by_test_id("follow-up-done").click()
        expect(sarah.get_by_test_id("my-follow-up")).to_have_count(0)
        sarah.locator(f'[data-testid="mine-item"][data-handoff-id="{back[0]["id"]}"]').click()
        sarah.get_by_test_id("transcript-email-button").click()
        sarah.get_by_test_id("transcript-to-helpdesk").check()
        sarah.get_by_test_id("transcript-submit").click()
        expect(sarah.locator("#toasts")).to_contain_text("on its way to tickets@community-line.example")
        desk_mail = wait_for(lambda: next((m for m in stack.mails()[before:]
                                           if m["To"] == "tickets@community-line.example"), None),
                             what="the transcript email")
        (attachment,) = [part for part in desk_mail.walk() if part.get_filename()]
        assert "Thanks for waiting, I'll be in touch." in attachment.get_payload(decode=True).decode()

        # One that comes due while the desk is open: Sarah is told.
        soon = str(time.time() + 3)
        agent("sarah").call("POST", f"/handoffs/{back[0]['id']}/follow-ups",
                            {"note": "Call the landlord back", "due_at": soon, "send_chat": False}, expect=201)
        expect(sarah.locator("#toasts")).to_contain_text("Follow-up due now", timeout=30_000)
    finally:
        sarah.context.close()
