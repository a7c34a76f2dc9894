"""Waiting: estimated wait, place-in-line updates, cancelling, abandonment."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage import Storage
from handoff_connector.service.waiting import estimate_minutes, housekeeping_once, update_positions
from tests.service.conftest import BOT, SARAH, create, make_config, outbox_items


class Clock:
    def __init__(self) -> None:
        self.now = time.time() - 3600

    def __call__(self) -> float:
        return self.now


async def test_estimate_is_the_median_of_real_waits_times_the_position(tmp_path: Path, database: str) -> None:
    clock = Clock()
    store = Storage(database, clock=clock)
    await store.open()
    await store.accounts.seed(make_config(tmp_path))
    app: Dict[Any, Any] = {STORE: store}
    assert await estimate_minutes(app, "general", 1) is None  # no history: no invented number
    start = clock.now
    for n, wait in enumerate((120, 240, 600)):
        handoff, _ = await store.handoffs.create(f"k{n}", f"u{n}", None, "general", "explicit", [], {})
        clock.now = start + wait
        await store.handoffs.claim(handoff["id"], "dana")
        clock.now = start
    assert sorted(await store.line.recent_waits("general", since=0)) == [120.0, 240.0, 600.0]
    assert await estimate_minutes(app, "general", 1) == 4  # median 240 s
    assert await estimate_minutes(app, "general", 3) == 12
    assert await estimate_minutes(app, "housing", 1) is None  # another queue's history doesn't count
    await store.shutdown()


async def messages_of(client: TestClient, handoff_id: str) -> List[Dict[str, Any]]:
    detail = await (await client.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    return detail["messages"]


async def test_users_are_told_when_they_move_up_but_not_flooded(tmp_path: Path, database: str,
                                                                aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, position_update_seconds=0.3)))
    tickets = [await create(client, f"k{n}", sender=f"u{n}", slots={}) for n in range(4)]
    assert [t["position"] for t in tickets] == [1, 2, 3, 4]
    await client.post(f"/api/v1/handoffs/{tickets[0]['id']}/claim", headers=SARAH)
    # Now first in line: told at once (just after the claim's answer). Moving from 3 to 2 so soon: not yet.
    for _ in range(100):
        if await messages_of(client, tickets[1]["id"]):
            break
        await asyncio.sleep(0.02)
    assert [m["text"] for m in await messages_of(client, tickets[1]["id"])] == [
        "You're now number 1 in line. Thanks for waiting."]
    assert await messages_of(client, tickets[2]["id"]) == []
    await asyncio.sleep(0.35)
    assert await update_positions(client.app) == 2
    assert [m["text"] for m in await messages_of(client, tickets[2]["id"])] == [
        "You're now number 2 in line. Thanks for waiting."]
    assert [m["role"] for m in await messages_of(client, tickets[3]["id"])] == ["system"]
    assert await update_positions(client.app) == 0  # nothing changed: nothing said


async def test_never_mind_while_waiting_cancels(client: TestClient) -> None:
    ticket = await create(client, slots={})
    response = await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages",
                                 json={"message_id": "m1", "text": "never mind", "intent": "cancel_handoff"},
                                 headers=BOT)
    assert (await response.json())["cancelled"] is True
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert detail["state"] == "cancelled"
    assert detail["transitions"][-1] == {**detail["transitions"][-1], "from_state": "queued",
                                         "to_state": "cancelled", "actor": "user"}
    again = await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages",
                              json={"message_id": "m1", "text": "never mind", "intent": "cancel_handoff"},
                              headers=BOT)
    assert (await again.json()) == {**(await again.json()), "duplicate": True, "cancelled": True}


async def test_never_mind_with_a_person_on_is_for_the_person(client: TestClient) -> None:
    ticket = await create(client, slots={})
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    response = await client.post(f"/bot/v1/handoffs/{ticket['id']}/messages",
                                 json={"message_id": "m1", "text": "never mind", "intent": "cancel_handoff"},
                                 headers=BOT)
    assert (await response.json())["cancelled"] is False
    assert (await messages_of(client, ticket["id"]))[-1]["text"] == "never mind"


@pytest.mark.parametrize("claimed", [False, True])
async def test_a_silent_user_is_abandoned_and_the_agent_told(tmp_path: Path, database: str, aiohttp_client: Any,
                                                             claimed: bool) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, database, abandon_after_seconds=0.2,
                                                         abandon_assigned_after_seconds=0.2,
                                                         housekeeping_seconds=60)))
    await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)
    ticket = await create(client, slots={})
    if claimed:
        await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    after = (await (await client.get("/api/v1/events?after=0", headers=SARAH)).json())["last_id"]
    await asyncio.sleep(0.3)
    await housekeeping_once(client.app)
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert (detail["state"], detail["resolution"]) == ("abandoned", "abandoned")
    events = (await (await client.get(f"/api/v1/events?after={after}", headers=SARAH)).json())["events"]
    assert [e["type"] for e in events] == ["handoff.abandoned"]
    kinds = [(item["kind"], item["payload"]) for item in await outbox_items(client.app)]
    # The bot is told last, after anything the agent had already sent.
    assert kinds[-1] == ("intent", {"intent": "EXTERNAL_handoff_abandoned"})
