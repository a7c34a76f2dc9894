"""The history and the record (insights #history) in headless Chromium, over the real processes.

Three conversations are made through Rasa, with words known by construction:

* A: a user asks about repairs and for a person; Sarah (housing) answers, writes a note
  with "diary", closes as referred with a close note; the user rates 4 and comments.
* C: another user asks about food and for a person; Miguel (food) takes it; the user
  says "foreclosure" to him (a word the bot never says) and an email address; he closes
  it as resolved.
* B: the first user comes back and asks for a person again; Sarah takes it.

Dana (supervisor) sees the three, newest first, finds C alone by "foreclosure", opens A's
record (transcript, the note marked internal, the timeline), follows its previous-
conversation link to B, exports the CSV, whose rows are the API's, and redacts C's email. Sarah sees A and
B only, and reaches A's record from B's details in the desk.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from playwright.sync_api import Browser, Page, expect

from stack import Stack
from tests.e2e.conftest import Agent, Inbox, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e


def escalate(user: User, opener: str, dana: Agent) -> Dict[str, Any]:
    if opener:
        assert user.say(opener)
    assert "connecting you" in user.say("can I talk to a real person")[0]
    return dana.handoff_of(user)


def close_with_survey(user: User, handoff_id: str, agent: Agent, body: Dict[str, Any]) -> None:
    agent.call("POST", f"/handoffs/{handoff_id}/close", body)
    wait_for(lambda: any("How would you rate" in t for t in user.received()), what="the survey")


def history(page: Page, stack: Stack, query: str) -> None:
    """The history view in the desk's tab, with filters in its address."""
    page.goto(f"{stack.connector_url}/desk/insights#history?{query}")
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "history")


def rows(page: Page) -> List[str]:
    return page.get_by_test_id("history-row").evaluate_all("rows => rows.map(r => r.dataset.handoffId)")


def test_the_history_and_the_record(browser: Browser, stack: Stack, inbox: Inbox,
                                    agent: Callable[[str], Agent], tmp_path: Path) -> None:
    since = time.time()  # this test's conversations only: the stack is shared
    dana, sarah_api, miguel_api = agent("dana"), agent("sarah"), agent("miguel")
    first, other = User(stack, inbox), User(stack, inbox)

    a = escalate(first, "my landlord won't fix the heat", dana)
    assert a["queue"] == "housing"
    sarah_api.call("POST", f"/handoffs/{a['id']}/claim")
    sarah_api.call("POST", f"/handoffs/{a['id']}/messages", {"text": "Hi, I can help with the repairs."}, expect=201)
    assert first.say("my landlord still has not called back") == []
    sarah_api.call("POST", f"/handoffs/{a['id']}/notes", {"text": "Tenant keeps a repair diary with photos."}, expect=201)
    close_with_survey(first, a["id"], sarah_api, {"resolution": "referred", "note": "Referred to code enforcement"})
    assert "Anything you'd like to tell us" in first.say("4")[0]
    first.say("very helpful")

    c = escalate(other, "where is the nearest food pantry", dana)
    assert c["queue"] == "food"
    miguel_api.call("POST", f"/handoffs/{c['id']}/claim")
    assert other.say("we also got a foreclosure letter") == []
    assert other.say("write to me at lena.ortiz@example.org") == []
    miguel_api.call("POST", f"/handoffs/{c['id']}/messages", {"text": "I'll look at both."}, expect=201)
    close_with_survey(other, c["id"], miguel_api, {"resolution": "resolved"})

    b = escalate(first, "", dana)
    assert b["sender_id"] == a["sender_id"] and b["queue"] == "housing"
    sarah_api.call("POST", f"/handoffs/{b['id']}/claim")
    newest_first = [b["id"], c["id"], a["id"]]
    api_rows = dana.call("GET", f"/history?from={since:.6f}")
    assert [h["id"] for h in api_rows["handoffs"]] == newest_first and api_rows["total"] == 3

    # Dana: the three, newest first, with what the construction says.
    page = desk(browser, stack, "dana", "demo-dana")
    history(page, stack, f"from={since:.6f}")
    expect(page.get_by_test_id("history-total")).to_have_attribute("data-total", "3", timeout=15_000)
    expect(page.get_by_test_id("history-total")).to_contain_text("3 conversations")
    assert rows(page) == newest_first
    row_a = page.locator(f'[data-testid="history-row"][data-handoff-id="{a["id"]}"]')
    expect(row_a).to_contain_text("Housing Help team")
    expect(row_a).to_contain_text("Sarah")
    expect(row_a).to_contain_text("Referred")
    expect(row_a.locator("[data-rating]")).to_have_attribute("data-rating", "4")
    expect(page.locator(f'[data-testid="history-row"][data-handoff-id="{c["id"]}"]')).to_contain_text("Miguel")

    # The CSV of these filters is the API's rows.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-handoffs").click()
    saved = tmp_path / "handoffs.csv"
    download_info.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [r["id"] for r in exported] == newest_first
    for row, h in zip(exported, dana.call("GET", f"/history?from={since:.6f}")["handoffs"], strict=True):
        assert (row["state"], row["queue"], row["trigger"], row["channel"], row["agent_id"], row["resolution"],
                row["rating"], row["sender_id"]) == (h["state"], h["queue"], h["trigger"], h["channel"],
                                                     h["agent_id"] or "", h["resolution"] or "",
                                                     str(h["rating"] or ""), h["sender_id"])
        assert abs(datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")).timestamp() - h["created_at"]) < 1
    with page.expect_download() as messages_info:
        page.get_by_test_id("export-messages").click()
    messages_csv = tmp_path / "messages.csv"
    messages_info.value.save_as(messages_csv)
    said = list(csv.DictReader(io.StringIO(messages_csv.read_text(encoding="utf-8"))))
    assert {r["handoff_id"] for r in said} == set(newest_first)
    assert [r["text"] for r in said if r["role"] == "note"] == ["Tenant keeps a repair diary with photos."]

    # The word the other user said finds their conversation alone, the word marked.
    page.get_by_test_id("history-search").fill("foreclosure")
    page.get_by_test_id("history-apply").click()
    expect(page.get_by_test_id("history-total")).to_have_attribute("data-total", "1")
    assert rows(page) == [c["id"]]
    snippet = page.get_by_test_id("history-snippet")
    expect(snippet).to_contain_text("we also got a foreclosure letter")
    expect(snippet.locator("mark")).to_have_text(["foreclosure"])
    shot(page, "insights-history")

    # A's record: the whole transcript, the note marked internal, the timeline, the survey.
    page.get_by_test_id("history-clear").click()
    history(page, stack, f"from={since:.6f}")
    page.locator(f'[data-testid="history-row"][data-handoff-id="{a["id"]}"] [data-testid="history-open"]').click()
    record = page.get_by_test_id("record")
    expect(record).to_have_attribute("data-handoff-id", a["id"])
    expect(page.get_by_test_id("record-bot-part")).to_contain_text("my landlord won't fix the heat")
    people = page.get_by_test_id("record-people-part")
    expect(people).to_contain_text("Hi, I can help with the repairs.")
    expect(people).to_contain_text("my landlord still has not called back")
    note = people.locator('[data-testid="record-entry"][data-internal="true"]')
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Tenant keeps a repair diary with photos.")
    expect(note.get_by_test_id("internal-mark")).to_be_visible()
    transitions = page.get_by_test_id("record-transition").evaluate_all("items => items.map(i => i.dataset.to)")
    assert transitions == [t["to_state"] for t in dana.call("GET", f"/handoffs/{a['id']}/record")["transitions"]]
    assert transitions[:4] == ["requested", "queued", "assigned", "closed"]
    expect(page.get_by_test_id("record-close-note")).to_have_text("Referred to code enforcement")
    expect(page.get_by_test_id("record-survey")).to_contain_text("very helpful")
    expect(page.get_by_test_id("record-redact")).to_be_visible()  # a supervisor may redact
    with page.expect_download() as transcript_info:
        page.get_by_test_id("record-download").click()
    text_file = tmp_path / "transcript.txt"
    transcript_info.value.save_as(text_file)
    assert "repair diary" in text_file.read_text(encoding="utf-8")
    shot(page, "insights-record")

    # The user came twice: A's previous conversation is B, and B's is A.
    links = page.get_by_test_id("previous-link")
    expect(links).to_have_count(1)
    links.first.click()
    expect(page.get_by_test_id("record")).to_have_attribute("data-handoff-id", b["id"])
    expect(page.locator(f'[data-testid="previous-link"][data-handoff-id="{a["id"]}"]')).to_have_count(1)

    # Redaction asks first, then shows the conversation as stored after it.
    history(page, stack, f"from={since:.6f}")
    page.locator(f'[data-testid="history-row"][data-handoff-id="{c["id"]}"] [data-testid="history-open"]').click()
    expect(page.get_by_test_id("record-people-part")).to_contain_text("lena.ortiz@example.org")
    page.get_by_test_id("record-redact").click()
    expect(page.get_by_test_id("redact-confirm")).to_contain_text("cannot be undone")
    page.get_by_test_id("redact-confirm-no").click()
    expect(page.get_by_test_id("record-people-part")).to_contain_text("lena.ortiz@example.org")  # nothing done
    page.get_by_test_id("record-redact").click()
    page.get_by_test_id("redact-confirm-yes").click()
    expect(page.get_by_test_id("redact-done")).to_contain_text("(1 message, 0 notes)")  # and the bot part's, which varies
    expect(page.get_by_test_id("record-people-part")).to_contain_text("write to me at [email]")
    expect(page.get_by_test_id("record-people-part")).not_to_contain_text("lena.ortiz")
    expect(page.get_by_test_id("record-redaction")).to_contain_text("by dana")
    stored = dana.call("GET", f"/handoffs/{c['id']}/record")["messages"]
    assert "write to me at [email]" in [m["text"] for m in stored]
    page.context.close()

    # Sarah: her queues' conversations only; the food one is not found by its word either.
    sarah = desk(browser, stack, "sarah", "demo-sarah")
    # In the desk, B's details list the user's previous conversation; its link opens A's record.
    sarah.locator(f'[data-testid="mine-item"][data-handoff-id="{b["id"]}"]').click()
    previous = sarah.get_by_test_id("previous-conversation")
    expect(previous).to_have_count(1)
    expect(previous).to_have_attribute("data-handoff-id", a["id"])
    shot(sarah, "previous-conversations")
    # It opens in the insights tab, with her session; the desk stays live and her presence on.
    with sarah.context.expect_page() as opened:
        previous.click()
    record = opened.value
    expect(record.get_by_test_id("record")).to_have_attribute("data-handoff-id", a["id"], timeout=15_000)
    expect(record.get_by_test_id("record-redact")).to_have_count(0)  # agents do not redact
    expect(sarah.get_by_test_id("ws-status")).to_have_text("Live")
    expect(sarah.get_by_test_id("presence-select")).to_have_value("online")
    assert {a_["id"]: a_["presence"] for a_ in dana.call("GET", "/agents")["agents"]}["sarah"] == "online"
    # The desk's "Insights" link reuses that tab rather than leaving the desk.
    sarah.get_by_test_id("insights-link").click()
    expect(record.get_by_test_id("insights-view")).to_have_attribute("data-view", "people", timeout=15_000)
    assert len(sarah.context.pages) == 2
    expect(sarah.get_by_test_id("ws-status")).to_have_text("Live")
    sarah = record
    history(sarah, stack, f"from={since:.6f}")
    expect(sarah.get_by_test_id("history-total")).to_have_attribute("data-total", "2", timeout=15_000)
    assert rows(sarah) == [b["id"], a["id"]]
    sarah.get_by_test_id("history-search").fill("foreclosure")
    sarah.get_by_test_id("history-apply").click()
    expect(sarah.get_by_test_id("history-total")).to_have_attribute("data-total", "0")
    expect(sarah.get_by_test_id("history-results")).to_contain_text("No conversation matches these filters")
    sarah.context.close()
