"""The round robin with two connector instances on one PostgreSQL database, as real processes.

Handoffs arrive through both instances at once; each runs the round robin of
the queue after every arrival (and in housekeeping). Every waiting conversation
must be assigned once, and nobody past their capacity.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Tuple

import aiohttp
import asyncpg
import pytest
import yaml
from postgres import reset_tables

from stack import free_port
from tests.service.test_instances import BOT, Instance, wait_healthy

AGENTS, CAPACITY, ARRIVALS = 4, 2, 16


def config(database: str) -> Dict[str, Any]:
    return {
        "bot_secret": "test-secret",
        "rasa_url": f"http://127.0.0.1:{free_port()}",  # nothing listens: deliveries wait
        "database": database,
        "housekeeping_seconds": 0.5,
        "queues": [{"name": "general", "team": "Community Help team", "auto_assign": True}],
        "agents": [{"id": f"agent{n}", "name": f"Agent {n}", "title": "navigator", "token": f"t-agent{n}",
                    "queues": ["general"], "capacity": CAPACITY} for n in range(AGENTS)],
    }


@pytest.fixture
async def pair(tmp_path: Path, postgres_url: str) -> AsyncIterator[Tuple[Instance, Instance, aiohttp.ClientSession]]:
    await reset_tables(postgres_url)
    path = tmp_path / "connector.yml"
    path.write_text(yaml.safe_dump(config(postgres_url)))
    a = Instance(tmp_path, "a", path)
    await asyncio.sleep(0.3)  # A upgrades the schema first
    b = Instance(tmp_path, "b", path)
    async with aiohttp.ClientSession() as session:
        try:
            await wait_healthy(session, a)
            await wait_healthy(session, b)
            yield a, b, session
        finally:
            a.stop()
            b.stop()


async def test_two_instances_assign_each_conversation_once_within_capacity(pair: Any, postgres_url: str) -> None:
    a, b, session = pair
    for n in range(AGENTS):
        async with session.put(f"{(a, b)[n % 2].url}/api/v1/me/presence", json={"status": "online"},
                               headers={"Authorization": f"Bearer t-agent{n}"}) as response:
            assert response.status == 200

    async def arrive(n: int) -> None:
        body = {"sender_id": f"user-{n}", "channel": "callback", "trigger": "explicit", "reasons": [],
                "transcript": []}
        async with session.post(f"{(a, b)[n % 2].url}/bot/v1/handoffs", json=body,
                                headers={**BOT, "Idempotency-Key": f"k{n}"}) as response:
            assert response.status == 201, await response.text()

    await asyncio.gather(*(arrive(n) for n in range(ARRIVALS)))
    connection = await asyncpg.connect(postgres_url)
    try:
        for _ in range(50):  # the last arrival's round, or housekeeping's, may still run
            rows = await connection.fetch("SELECT id, assigned_to FROM handoffs WHERE state = 'queued'")
            if sum(1 for r in rows if r["assigned_to"]) == AGENTS * CAPACITY:
                break
            await asyncio.sleep(0.1)
        log = await connection.fetch("SELECT handoff_id FROM assignments WHERE action = 'assigned'")
    finally:
        await connection.close()
    per_agent = Counter(r["assigned_to"] for r in rows if r["assigned_to"])
    assert per_agent == {f"agent{n}": CAPACITY for n in range(AGENTS)}  # all full, none past it
    assert len(rows) == ARRIVALS
    times = Counter(r["handoff_id"] for r in log)
    assert len(times) == AGENTS * CAPACITY and set(times.values()) == {1}  # each assigned once
