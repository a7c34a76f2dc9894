"""Business hours, callbacks as follow-ups, conversation links, survey stats, typing."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.common.chat_session import session_key, session_sender
from handoff_connector.common.contact import normalise_contact
from handoff_connector.service import create_app
from handoff_connector.service.config import ConfigError, parse_config
from handoff_connector.service.hours import parse_hours
from handoff_connector.service.keys import STORE
from tests.service.conftest import BOT, DANA, SARAH, create, make_config, outbox_items


@pytest.mark.parametrize(
    "moment, is_open, next_open",
    [
        # Monday 10:00 in New York: open
        (datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc), True, None),
        # Sunday: closed, opens Monday 09:00 New York time (14:00 UTC in November)
        (datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc), False, datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)),
        # Friday 17:30: closed until Saturday 10:00
        (datetime(2026, 11, 27, 22, 30, tzinfo=timezone.utc), False, datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)),
        # summer time: Monday 09:30 New York is 13:30 UTC in July
        (datetime(2026, 7, 6, 13, 30, tzinfo=timezone.utc), True, None),
    ],
)
def test_business_hours_in_the_queues_time_zone(moment: datetime, is_open: bool, next_open: Any) -> None:
    hours = parse_hours({"timezone": "America/New_York", "mon-fri": "09:00-17:00", "sat": "10:00-13:00"}, "q")
    assert hours is not None and hours.is_open(moment) is is_open
    if next_open is not None:
        assert hours.next_open(moment) == next_open


@pytest.mark.parametrize(
    "hours, says",
    [
        ({"mon": "9-5"}, "needs a `timezone`"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "UTC", "funday": "09:00-17:00"}, "not a day"),
        ({"timezone": "UTC", "mon": "17:00-09:00"}, "must open before it closes"),
        ({"timezone": "UTC", "mon": "nine to five"}, "not like 09:00-17:00"),
    ],
)
def test_bad_hours_fail_at_start_up(hours: Any, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_config({"bot_secret": "s", "rasa_url": "http://x",
                      "queues": [{"name": "q", "team": "T", "hours": hours}]}, "connector.yml")


async def test_a_closed_queue_is_not_available_and_says_when_it_opens(tmp_path: Path, database: str,
                                                                     aiohttp_client: Any) -> None:
    closed_all_week = {"timezone": "UTC", "mon": "00:00-00:01"}  # practically never open
    config = make_config(tmp_path, database, queues=[
        {"name": "general", "team": "Community Help team", "hours": closed_all_week},
        {"name": "housing", "team": "Housing Help team"}, {"name": "food", "team": "Food team"}])
    client = await aiohttp_client(create_app(config))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    ticket = await create(client, slots={})
    assert ticket["agents_available"] is False and ticket["open_now"] is False
    assert ticket["opens_at"].startswith("20") and ticket["opens_in_minutes"] >= 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("555-010-0199", ("phone", "555-010-0199")),
        ("my number is +1 (555) 010 0199", ("phone", "+1 (555) 010 0199")),
        ("maria.lopez@example.org", ("email", "maria.lopez@example.org")),
        ("call me maybe", None),
        ("12345", None),  # too short to be a phone number
        ("maria@", None),
    ],
)
def test_contact_validation(text: str, expected: Any) -> None:
    assert normalise_contact(text) == expected


async def test_a_callback_becomes_a_follow_up_the_agents_see(client: TestClient) -> None:
    ticket = await create(client)
    bad = await client.post(f"/bot/v1/handoffs/{ticket['id']}/callback", json={"contact": "soon"}, headers=BOT)
    assert bad.status == 400 and "phone number" in (await bad.json())["error"]
    good = await client.post(f"/bot/v1/handoffs/{ticket['id']}/callback", json={"contact": "555-010-0199"}, headers=BOT)
    assert (await good.json())["state"] == "no_agent"
    tickets = (await (await client.get("/api/v1/tickets", headers=SARAH)).json())["handoffs"]
    assert [(t["id"], t["contact"]) for t in tickets] == [(ticket["id"], "555-010-0199")]
    assert (await (await client.get("/api/v1/queue", headers=SARAH)).json())["handoffs"] == []
    done = await client.post(f"/api/v1/handoffs/{ticket['id']}/close",
                             json={"resolution": "resolved", "note": "called back"}, headers=SARAH)
    assert done.status == 200 and (await done.json())["state"] == "closed"
    kinds = [item["kind"] for item in await outbox_items(client.app)]
    assert "close" not in kinds  # the user is not in the chat: nothing is sent to Rasa


async def test_cancel_endpoint(client: TestClient) -> None:
    ticket = await create(client)
    response = await client.post(f"/bot/v1/handoffs/{ticket['id']}/cancel", headers=BOT)
    assert (await response.json())["state"] == "cancelled"
    again = await client.post(f"/bot/v1/handoffs/{ticket['id']}/cancel", headers=BOT)
    assert again.status == 409


async def test_a_conversation_link_brings_the_user_back_to_the_same_agent(client: TestClient) -> None:
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages", json={"message_id": "m", "text": "thanks"}, headers=BOT)
    closed = await (await client.post(f"/api/v1/handoffs/{ticket['id']}/close",
                                      json={"resolution": "resolved", "resume_link": True}, headers=SARAH)).json()
    url = closed["resume_url"]
    token = url.rsplit("/", 1)[1]
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert detail["messages"][-1]["text"].endswith(url) and "Sarah" in detail["messages"][-1]["text"]

    preview = await client.get(f"/resume/{token}")  # what a link preview fetches
    assert preview.status == 200 and "Continue with Sarah" in await preview.text()
    assert (await client.get(f"/resume/{token}")).status == 200  # changed nothing
    opened = await client.post(f"/resume/{token}", allow_redirects=False)
    page = await opened.text()
    # A web chat session for the conversation, in the page (never in an address), signed with the key the
    # channel derives from the secret they share.
    assert opened.status == 200 and "user-1" not in page and opened.headers["Cache-Control"] == "no-store"
    session = html.unescape(re.search(r"data-session='([^']+)'", page)[1])  # type: ignore[index]
    assert session_sender(session_key("typing-secret"), session) == "user-1"
    assert session_sender(session_key("another-secret"), session) is None
    mine = (await (await client.get("/api/v1/handoffs/assigned", headers=SARAH)).json())["handoffs"]
    assert [(h["trigger"], h["agent_id"], h["sender_id"]) for h in mine] == [("resume", "sarah", "user-1")]
    back = await (await client.get(f"/api/v1/handoffs/{mine[0]['id']}", headers=SARAH)).json()
    assert back["context"]["resumed_from"] == ticket["id"]
    assert "thanks" in [t["text"] for t in back["transcript"]]  # the earlier conversation travels along
    slots = [item["payload"] for item in await outbox_items(client.app)
             if item["kind"] == "slots" and item["handoff_id"] == mine[0]["id"]]
    assert slots == [{"handoff_id": mine[0]["id"], "handoff_team": "Housing Help team"}]
    reused = await client.post(f"/resume/{token}", allow_redirects=False)
    assert reused.status == 404 and "unknown or has expired" in await reused.text()
    assert (await client.get(f"/resume/{token}")).status == 404


async def test_without_the_web_chat_secret_a_link_still_brings_the_agent_back(
        tmp_path: Path, database: str, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, webchat_typing_secret=None)))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    closed = await (await client.post(f"/api/v1/handoffs/{ticket['id']}/close",
                                      json={"resolution": "resolved", "resume_link": True}, headers=SARAH)).json()
    opened = await client.post(f"/resume/{closed['resume_url'].rsplit('/', 1)[1]}")
    assert opened.status == 200 and "data-session" not in await opened.text()
    mine = (await (await client.get("/api/v1/handoffs/assigned", headers=SARAH)).json())["handoffs"]
    assert [h["trigger"] for h in mine] == ["resume"]


async def test_survey_results_per_agent(client: TestClient) -> None:
    for n, rating in enumerate((5, 3)):
        ticket = await create(client, f"k{n}", sender=f"u{n}")
        await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
        await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
        await client.post(f"/bot/v1/handoffs/{ticket['id']}/survey", json={"rating": rating}, headers=BOT)
    agents = {a["id"]: a for a in (await (await client.get("/api/v1/agents", headers=DANA)).json())["agents"]}
    assert agents["sarah"]["survey"] == {"count": 2, "average": 4.0}
    assert agents["miguel"]["survey"] == {"count": 0, "average": None}


async def test_typing_is_only_for_the_assigned_agent_on_the_web_chat(client: TestClient) -> None:
    ticket = await create(client)
    url = f"/api/v1/handoffs/{ticket['id']}/typing"
    assert (await client.post(url, json={"active": True}, headers=SARAH)).status == 409  # not claimed
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    bad = await client.post(url, json={"active": "yes"}, headers=SARAH)
    assert bad.status == 400
    answer = await (await client.post(url, json={"active": True}, headers=SARAH)).json()
    assert answer == {"delivered": False, "reason": "the callback channel shows no typing indicator"}


async def test_a_conversation_links_token_is_stored_only_hashed(client: TestClient) -> None:
    ticket = await create(client)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    closed = await (await client.post(f"/api/v1/handoffs/{ticket['id']}/close",
                                      json={"resolution": "resolved", "resume_link": True}, headers=SARAH)).json()
    token = closed["resume_url"].rsplit("/", 1)[1]
    stored = (await client.app[STORE].handoffs.get(ticket["id"]))["resume_token"]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert (await client.get(f"/resume/{token}")).status == 200  # the link works
    assert (await client.get(f"/resume/{stored}")).status == 404  # the stored value is no link
