"""The event log's order: a reader following it by id never finds an id below one it has
read, while many writers commit at once, out of step (PostgreSQL: the inbox and its mover,
see storage/events.py)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, List

import pytest
import sqlalchemy as sa

from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.events import SWEEP_SECONDS
from handoff_connector.service.storage.schema import event_inbox, events

WRITERS = 24
WRITES = 12


async def test_a_reader_by_id_never_finds_an_earlier_id_later(database: str) -> None:
    first, second = Storage(database), Storage(database)
    await first.open()
    await second.open()
    rng = random.Random(7)
    try:
        async def writer(store: Storage, n: int) -> None:
            for i in range(WRITES):
                pause = rng.random() * 0.01

                async def work(tx: Any, i: int = i, pause: float = pause) -> None:
                    await store.events.emit(tx, "test.written", {"writer": n, "i": i})
                    if tx.postgres:  # its row holds an early inbox id while later ones commit
                        await asyncio.sleep(pause)
                await store.db.run(work)

        seen: List[int] = []
        done = asyncio.Event()

        async def reader() -> None:
            while True:
                finished = done.is_set()
                found = await second.events.after(seen[-1] if seen else 0)
                seen.extend(e["id"] for e in found)
                if finished and not found:
                    return
                await asyncio.sleep(0.002)

        follow = asyncio.create_task(reader())
        await asyncio.gather(*(writer(first if n % 2 else second, n) for n in range(WRITERS)))
        await first.events.settle()
        await second.events.settle()
        done.set()
        await asyncio.wait_for(follow, 10)

        assert seen == sorted(set(seen)), "an id turned up after a higher one had been read"
        logged = await first.db.run(lambda tx: tx.all(sa.select(events.c.id, events.c.payload).order_by(events.c.id)))
        assert [row["id"] for row in logged] == seen
        assert len(logged) == WRITERS * WRITES
        # Each writer's events are in the order it wrote them.
        for n in range(WRITERS):
            assert [row["payload"]["i"] for row in logged if row["payload"]["writer"] == n] == list(range(WRITES))
        assert await first.db.run(lambda tx: tx.scalar(sa.select(sa.func.count()).select_from(event_inbox))) == 0
    finally:
        await first.shutdown()
        await second.shutdown()


async def test_events_a_dead_writer_committed_are_moved_by_another_instance(database: str) -> None:
    if not database.startswith("postgresql"):
        pytest.skip("SQLite writes to the log itself: there is no inbox to be left behind in")
    store = Storage(database)
    await store.open()
    try:
        before = await store.events.last_id()
        # What a process killed between its commit and its move leaves: rows in the inbox only.
        await store.db.run(lambda tx: tx.execute(event_inbox.insert(), [
            {"type": "test.orphan", "payload": {"n": n}, "created_at": tx.now} for n in range(3)]))
        deadline = time.monotonic() + SWEEP_SECONDS * 5
        found: List[Any] = []
        while time.monotonic() < deadline and len(found) < 3:
            await asyncio.sleep(0.1)
            found = await store.events.after(before)  # reads only: the sweep must do the moving
        assert [e["payload"]["n"] for e in found] == [0, 1, 2]
    finally:
        await store.shutdown()
