"""People in a browser: the supervisors' admin page, an agent's photo, and the user seeing it.

Dana (supervisor) adds an agent on the admin page; the new agent signs in in a
context of their own, uploads a photo from their profile, claims a user's
conversation from the web chat and answers: the user sees the agent's name,
title and photo beside the message. Dana then deactivates the agent, whose
desk is signed out. Screenshots: artifacts/desk-admin.png,
artifacts/webchat-agent-photo.png.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from pathlib import Path
from typing import Callable

import pytest
from playwright.sync_api import Browser, expect

from stack import Stack
from tests.e2e.conftest import Agent, wait_for
from tests.e2e.pages import ARTIFACTS, desk, shot
from tests.e2e.test_webchat_browser import chat, last, say, sender_of

pytestmark = pytest.mark.e2e


def photo_file(folder: Path) -> Path:
    """A real PNG (a teal square), as a person would pick from their files."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    size = 48
    rows = b"".join(b"\x00" + b"\x1a\x8c\x86" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path = folder / "me.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))
    return path


def test_a_supervisor_adds_an_agent_whose_photo_the_user_sees(
    browser: Browser, stack: Stack, agent: Callable[[str], Agent], tmp_path: Path
) -> None:
    login, password = f"ana-{uuid.uuid4().hex[:6]}", "ana-first-password"
    dana = desk(browser, stack, "dana", "demo-dana")
    expect(dana.get_by_test_id("admin-link")).to_be_visible()
    dana.goto(f"{stack.connector_url}/desk/admin")  # in the desk's tab: it shares the session
    expect(dana.get_by_test_id("admin-agent-row").first).to_be_visible()
    dana.get_by_test_id("admin-add-agent").click()
    dana.get_by_test_id("agent-id").fill(login)
    dana.get_by_test_id("agent-name").fill("Ana Lima")
    dana.get_by_test_id("agent-job").fill("tenant advocate")
    dana.get_by_test_id("agent-capacity").fill("2")
    dana.locator('[data-testid="agent-queue"][value="housing"]').check()
    dana.get_by_test_id("agent-password").fill(password)
    dana.get_by_test_id("agent-submit").click()
    row = dana.locator(f'[data-testid="admin-agent-row"][data-agent-id="{login}"]')
    expect(row.get_by_test_id("admin-agent-name")).to_have_text("Ana Lima")
    expect(row.get_by_test_id("admin-agent-queues")).to_have_text("housing")
    expect(row.get_by_test_id("admin-agent-status")).to_have_text("Active")
    shot(dana, "admin")

    # The new agent signs in on their own, and puts a photo on their profile.
    ana = desk(browser, stack, login, password)
    expect(ana.get_by_test_id("me-name")).to_have_text("Ana Lima")
    ana.get_by_test_id("me-button").click()
    ana.get_by_test_id("profile-photo-input").set_input_files(str(photo_file(tmp_path)))
    expect(ana.locator("#profile-avatar").get_by_test_id("avatar-photo")).to_be_visible()
    ana.get_by_test_id("profile-submit").click()
    expect(ana.get_by_test_id("profile-dialog")).to_be_hidden()
    expect(ana.locator("#me-avatar").get_by_test_id("avatar-photo")).to_be_visible()

    # A user asks for a person in the web chat; Ana takes it and answers.
    for other in ("sarah", "miguel", "dana"):  # Ana is the one of the housing team at her desk
        agent(other).presence("away")
    user = chat(browser, stack)
    sender = sender_of(user)
    say(user, "I got an eviction notice")
    expect(last(user, "bot")).to_contain_text("housing")
    say(user, "can I talk to a person")
    handoff_id = wait_for(lambda: next((h["id"] for h in agent("dana").call("GET", "/queue")["handoffs"]
                                        if h["sender_id"] == sender), None), what="the user's handoff")
    ana.locator(f'[data-testid="queue-item"][data-handoff-id="{handoff_id}"]').click()
    ana.get_by_test_id("claim-button").click()
    ana.get_by_test_id("composer-input").fill("I can help with the notice. What date is on it?")
    ana.get_by_test_id("composer-input").press("Enter")
    said = last(user, "agent")
    expect(said).to_contain_text("What date is on it?", timeout=15_000)
    expect(said.get_by_test_id("chat-who")).to_have_text("Ana Lima, tenant advocate")
    photo = said.get_by_test_id("chat-agent-photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 48  # the image itself, loaded
    ARTIFACTS.mkdir(exist_ok=True)
    user.screenshot(path=str(ARTIFACTS / "webchat-agent-photo.png"), full_page=True)

    # Deactivated on the admin page: Ana's desk is signed out, and she cannot sign in again.
    row.get_by_test_id("admin-deactivate").click()
    expect(row.get_by_test_id("admin-agent-status")).to_have_text("Deactivated")
    expect(dana.get_by_test_id("admin-status")).to_contain_text("What they hold stays theirs")
    expect(ana.get_by_test_id("login-submit")).to_be_visible(timeout=20_000)
    ana.get_by_test_id("login-user").fill(login)
    ana.get_by_test_id("login-password").fill(password)
    ana.get_by_test_id("login-submit").click()
    expect(ana.get_by_test_id("login-error")).to_contain_text("deactivated")
    for page in (dana, ana, user):
        page.context.close()
