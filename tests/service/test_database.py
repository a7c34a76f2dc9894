"""The database layer's promise, on both databases: each ``run`` is one transaction of
its own, whatever it shares (on SQLite, concurrent runs share one commit)."""

from __future__ import annotations

import asyncio
from typing import Any, List

import pytest
import sqlalchemy as sa

from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.schema import queues


async def test_concurrent_transactions_commit_or_fail_each_on_its_own(database: str) -> None:
    store = Storage(database)
    await store.open()
    try:
        async def writes(name: str, fail: bool) -> str:
            async def work(tx: Any) -> str:
                await tx.run(queues.insert().values(name=name, team="Team"))
                if fail:
                    raise ValueError(f"{name} changed its mind")
                return name
            return await store.db.run(work)

        outcomes: List[Any] = await asyncio.gather(
            *(writes(f"q{n}", fail=n % 3 == 1) for n in range(12)), return_exceptions=True)
        assert [isinstance(o, ValueError) for o in outcomes] == [n % 3 == 1 for n in range(12)]
        stored = await store.db.run(lambda tx: tx.all(sa.select(queues.c.name).order_by(queues.c.name)))
        assert sorted(r["name"] for r in stored) == sorted(f"q{n}" for n in range(12) if n % 3 != 1)
        # A duplicate key fails only its own transaction too.
        again = await asyncio.gather(writes("q0", False), writes("fresh", False), return_exceptions=True)
        assert isinstance(again[0], sa.exc.IntegrityError) and again[1] == "fresh"
    finally:
        await store.shutdown()


async def test_a_transaction_asked_for_after_shutdown_is_refused(database: str) -> None:
    from handoff_connector.service.storage.database import StoreClosed

    store = Storage(database)
    await store.open()
    await store.shutdown()
    with pytest.raises(StoreClosed):
        await store.db.run(lambda tx: tx.scalar(sa.select(1)))
