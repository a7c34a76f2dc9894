"""Reminders: a user waiting for the agent's answer past `remind_agent_after_seconds` makes
a `handoff.reminder` for the agent; past `still_here_after_seconds` the user hears the
`still_here` text, once per wait. A note does not end the wait; the agent's answer does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.config import DEFAULT_TEMPLATES
from handoff_connector.service.reminders import remind
from tests.service.conftest import BOT, SARAH, create, make_config, outbox_items

REMIND, STILL_HERE = 0.4, 0.8
TEXT = DEFAULT_TEMPLATES["still_here"]


@pytest.fixture
async def quick(tmp_path: Path, database: str, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    config = make_config(tmp_path, database, remind_agent_after_seconds=REMIND, still_here_after_seconds=STILL_HERE)
    client = await aiohttp_client(create_app(config))
    assert (await client.put("/api/v1/me/presence", json={"status": "online"}, headers=SARAH)).status == 200
    return client


async def _claimed(client: TestClient) -> str:
    handoff_id = str((await create(client))["id"])
    assert (await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=SARAH)).status == 200
    return handoff_id


async def _user_says(client: TestClient, handoff_id: str, message_id: str) -> None:
    response = await client.post(f"/bot/v1/handoffs/{handoff_id}/messages",
                                 json={"message_id": message_id, "text": "hello?"}, headers=BOT)
    assert response.status == 201, await response.text()


async def _reminders(client: TestClient) -> List[Dict[str, Any]]:
    events = (await (await client.get("/api/v1/events?after=0", headers=SARAH)).json())["events"]
    return [e for e in events if e["type"] == "handoff.reminder"]


async def _told(client: TestClient) -> int:
    return sum(1 for item in await outbox_items(client.app)
               if item["kind"] == "message" and item["payload"].get("text") == TEXT)


async def test_a_wait_past_the_thresholds_reminds_the_agent_and_tells_the_user_once(quick: TestClient) -> None:
    handoff_id = await _claimed(quick)
    await remind(quick.app)
    await _user_says(quick, handoff_id, "m1")
    await remind(quick.app)
    assert (await _reminders(quick), await _told(quick)) == ([], 0)  # not yet
    detail = await (await quick.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    assert detail["waiting_since"] is not None
    await asyncio.sleep(REMIND + 0.1)
    await asyncio.gather(remind(quick.app), remind(quick.app))  # two rounds at once: one reminder
    reminders = await _reminders(quick)
    assert [(e["handoff"]["id"], e["handoff"]["agent_id"]) for e in reminders] == [(handoff_id, "sarah")]
    assert await _told(quick) == 0
    await asyncio.sleep(STILL_HERE - REMIND)
    await asyncio.gather(remind(quick.app), remind(quick.app))
    await remind(quick.app)
    assert (len(await _reminders(quick)), await _told(quick)) == (1, 1)


async def test_the_agents_answer_ends_the_wait_a_note_does_not(quick: TestClient) -> None:
    handoff_id = await _claimed(quick)
    await _user_says(quick, handoff_id, "m1")
    response = await quick.post(f"/api/v1/handoffs/{handoff_id}/notes", json={"text": "checking"}, headers=SARAH)
    assert response.status == 201
    await asyncio.sleep(REMIND + 0.1)
    await remind(quick.app)
    assert len(await _reminders(quick)) == 1  # a note is not an answer
    response = await quick.post(f"/api/v1/handoffs/{handoff_id}/messages",
                                json={"text": "Here is what I found", "client_id": "c1"}, headers=SARAH)
    assert response.status == 201
    detail = await (await quick.get(f"/api/v1/handoffs/{handoff_id}", headers=SARAH)).json()
    assert detail["waiting_since"] is None
    await asyncio.sleep(STILL_HERE)
    await remind(quick.app)
    assert (len(await _reminders(quick)), await _told(quick)) == (1, 0)  # answered: nothing more
    await _user_says(quick, handoff_id, "m2")  # a new wait: reminded again
    await asyncio.sleep(REMIND + 0.1)
    await remind(quick.app)
    assert len(await _reminders(quick)) == 2


@pytest.mark.parametrize("key, value", [("remind_agent_after_seconds", 0), ("still_here_after_seconds", "soon")])
def test_a_wrong_threshold_fails_at_start(tmp_path: Path, key: str, value: Any) -> None:
    with pytest.raises(ValueError, match=key):
        make_config(tmp_path, **{key: value})
