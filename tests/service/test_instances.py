"""Several connector instances on one PostgreSQL database, as real processes.

Two connectors serve the same desks and bots: changes reach desks on the other
instance, claims and capacity hold across them, presence and the login throttle
are shared, and housekeeping has one holder at a time. Figures the tests measure
are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Tuple

import aiohttp
import pytest
import yaml
from postgres import reset_tables

from stack import free_port, port_in_use

ROOT = Path(__file__).resolve().parents[2]
BOT = {"Authorization": "Bearer test-secret"}
AGENTS = 20
CAPACITY = 5


def config(database: str) -> Dict[str, Any]:
    return {
        "bot_secret": "test-secret",
        "rasa_url": f"http://127.0.0.1:{free_port()}",  # nothing listens: deliveries wait
        "database": database,
        "housekeeping_seconds": 0.5,
        "queues": [{"name": "general", "team": "Community Help team"}],
        "agents": [{"id": f"agent{n}", "name": f"Agent {n}", "title": "navigator", "token": f"t-agent{n}",
                    "password": f"pw-agent{n}-long", "queues": ["general"], "capacity": CAPACITY}
                   for n in range(AGENTS)],
    }


class Instance:
    def __init__(self, workdir: Path, name: str, config_path: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "handoff_connector.service", "serve", "--config", str(config_path),
             "--port", str(self.port)],
            cwd=ROOT, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")


async def wait_healthy(session: aiohttp.ClientSession, instance: Instance) -> None:
    for _ in range(600):  # a minute: on a loaded machine migrating and starting take a while
        assert instance.process.poll() is None, instance.log.read_text()
        if port_in_use(instance.port):
            try:
                async with session.get(f"{instance.url}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{instance.name} did not start: {instance.log.read_text()}")


@pytest.fixture
async def cluster(tmp_path: Path, postgres_url: str) -> AsyncIterator[Tuple[Instance, Instance, aiohttp.ClientSession]]:
    await reset_tables(postgres_url)
    path = tmp_path / "connector.yml"
    path.write_text(yaml.safe_dump(config(postgres_url)))
    a = Instance(tmp_path, "a", path)
    await asyncio.sleep(0.3)  # A upgrades the schema; B may start at once too (the migration lock)
    b = Instance(tmp_path, "b", path)
    async with aiohttp.ClientSession() as session:
        try:
            await wait_healthy(session, a)
            await wait_healthy(session, b)
            yield a, b, session
        finally:
            a.stop()
            b.stop()


def agent(n: int) -> Dict[str, str]:
    return {"Authorization": f"Bearer t-agent{n}"}


async def create(session: aiohttp.ClientSession, instance: Instance, key: str) -> Dict[str, Any]:
    body = {"sender_id": f"user-{key}", "channel": "callback", "trigger": "explicit", "reasons": [],
            "transcript": []}
    async with session.post(f"{instance.url}/bot/v1/handoffs", json=body,
                            headers={**BOT, "Idempotency-Key": key}) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def test_a_desk_on_one_instance_sees_a_change_made_on_the_other_within_a_second(cluster: Any) -> None:
    a, b, session = cluster
    latencies = []
    async with session.ws_connect(f"{b.url}/api/v1/events/ws", headers=agent(0)) as desk:
        hello = await desk.receive_json(timeout=5)
        assert hello["type"] == "hello"
        for n in range(20):
            started = time.perf_counter()
            created = await create(session, a, f"fanout-{n}")
            while True:
                event = await desk.receive_json(timeout=1.0)  # fails the test past 1 s
                if event["type"] == "handoff.created" and event["handoff"]["id"] == created["id"]:
                    break
            latencies.append(time.perf_counter() - started)
    print(f"\ncross-instance fan-out (create on A -> desk on B): p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms over {len(latencies)}")
    assert max(latencies) < 1.0


async def test_catch_up_by_event_id_works_on_either_instance(cluster: Any) -> None:
    a, b, session = cluster
    async with session.get(f"{a.url}/api/v1/events", headers=agent(0)) as response:
        start = (await response.json())["last_id"]
    made = [await create(session, (a, b)[n % 2], f"catch-{n}") for n in range(6)]
    for instance in (a, b):
        async with session.ws_connect(f"{instance.url}/api/v1/events/ws?after={start}", headers=agent(0)) as desk:
            await desk.receive_json(timeout=5)  # hello
            seen = [(await desk.receive_json(timeout=2))["handoff"]["id"] for _ in made]
        assert seen == [h["id"] for h in made]  # exactly the missed ones, in order, whichever made them


async def test_claims_through_two_instances_never_give_a_handoff_two_owners_nor_an_agent_too_many(cluster: Any) -> None:
    a, b, session = cluster
    handoffs = [await create(session, (a, b)[n % 2], f"claim-{n}") for n in range(200)]
    ids = [h["id"] for h in handoffs]
    wins: Dict[str, List[str]] = {}
    attempts = 0

    async def claimer(n: int) -> None:
        nonlocal attempts
        instance = (a, b)[n % 2]
        order = ids  # everyone goes for the oldest first: the most contention
        for handoff_id in order:
            attempts += 1
            async with session.post(f"{instance.url}/api/v1/handoffs/{handoff_id}/claim",
                                    headers=agent(n)) as response:
                if response.status == 200:
                    wins.setdefault(handoff_id, []).append(f"agent{n}")
                else:
                    assert response.status == 409, await response.text()
                    if "at capacity" in (await response.json())["error"]:
                        return

    started = time.perf_counter()
    await asyncio.gather(*(claimer(n) for n in range(AGENTS)))
    elapsed = time.perf_counter() - started
    print(f"\nclaims across two instances: {len(wins)} won of {attempts} attempts in {elapsed:.2f} s "
          f"({attempts / elapsed:.0f} claim requests/s, {len(wins) / elapsed:.0f} claims/s)")
    assert all(len(owners) == 1 for owners in wins.values())
    assert len(wins) == AGENTS * CAPACITY
    per_agent: Dict[str, int] = {}
    for owners in wins.values():
        per_agent[owners[0]] = per_agent.get(owners[0], 0) + 1
    assert max(per_agent.values()) == CAPACITY == min(per_agent.values())
    # What the desks are told agrees with what the requests were told.
    async with session.get(f"{b.url}/api/v1/handoffs/assigned", headers=agent(0)) as response:
        mine = (await response.json())["handoffs"]
    assert sorted(h["id"] for h in mine) == sorted(i for i, o in wins.items() if o == ["agent0"])
    async with session.get(f"{a.url}/api/v1/queue", headers=agent(1)) as response:
        assert len((await response.json())["handoffs"]) == 200 - AGENTS * CAPACITY


async def presence(session: aiohttp.ClientSession, instance: Instance, n: int) -> str:
    async with session.get(f"{instance.url}/api/v1/me", headers=agent(n)) as response:
        return str((await response.json())["presence"])


async def test_presence_is_shared_an_agent_goes_offline_when_their_last_desk_anywhere_closes(cluster: Any) -> None:
    a, b, session = cluster
    async with session.put(f"{a.url}/api/v1/me/presence", json={"status": "online"}, headers=agent(3)) as r:
        assert r.status == 200
    on_a = await session.ws_connect(f"{a.url}/api/v1/events/ws", headers=agent(3))
    on_b = await session.ws_connect(f"{b.url}/api/v1/events/ws", headers=agent(3))
    await on_a.receive_json(timeout=5)
    await on_b.receive_json(timeout=5)
    await on_a.close()
    await asyncio.sleep(0.5)
    assert await presence(session, b, 3) == "online"  # still at a desk, on the other instance
    await on_b.close()
    for _ in range(50):
        if await presence(session, a, 3) == "offline":
            break
        await asyncio.sleep(0.1)
    assert await presence(session, a, 3) == "offline"


async def test_a_dead_instances_desks_no_longer_count_for_presence(cluster: Any) -> None:
    a, b, session = cluster
    async with session.put(f"{b.url}/api/v1/me/presence", json={"status": "online"}, headers=agent(4)) as r:
        assert r.status == 200
    desk = await session.ws_connect(f"{a.url}/api/v1/events/ws", headers=agent(4))
    await desk.receive_json(timeout=5)
    a.kill()  # its sockets' rows stay behind until housekeeping on B reaps them
    await desk.close()
    for _ in range(100):
        if await presence(session, b, 4) == "offline":
            break
        await asyncio.sleep(0.5)
    assert await presence(session, b, 4) == "offline"


async def test_the_login_throttle_is_shared(cluster: Any) -> None:
    a, b, session = cluster
    for instance in (a, b, a):
        async with session.post(f"{instance.url}/api/v1/login",
                                json={"login": "agent5", "password": "wrong password"}) as response:
            assert response.status == 401
    async with session.post(f"{b.url}/api/v1/login", json={"login": "agent5", "password": "pw-agent5-long"}) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1


async def test_housekeeping_has_one_holder_and_another_takes_over_when_it_dies(cluster: Any) -> None:
    a, b, _ = cluster
    await asyncio.sleep(1.5)  # a few rounds at 0.5 s
    holders = [i for i in (a, b) if i.logged("handoff.lease.taken name=housekeeping")]
    assert len(holders) == 1
    holder, other = holders[0], ({a, b} - set(holders)).pop()
    killed = time.perf_counter()
    holder.kill()
    while not other.logged("handoff.lease.taken name=housekeeping"):
        assert time.perf_counter() - killed < 10, "nobody took housekeeping over"
        await asyncio.sleep(0.1)
    print(f"\nhousekeeping taken over {time.perf_counter() - killed:.1f} s after SIGKILL of its holder")
