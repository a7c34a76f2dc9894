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


async def test_a_statement_with_an_in_list_is_compiled_once_and_expanded_per_call(database: str) -> None:
    from handoff_connector.service.storage import compiled

    store = Storage(database)
    await store.open()
    try:
        names = [f"q{n}" for n in range(6)]
        await store.db.run(lambda tx: tx.run(queues.insert(), [{"name": n, "team": "Team"} for n in names]))
        chosen = sa.select(queues.c.name).where(queues.c.name.in_(sa.bindparam("names", expanding=True)),
                                                queues.c.team == sa.bindparam("team")).order_by(queues.c.name)
        built: List[Any] = []
        real_build = compiled._build
        compiled._build = lambda *a, **kw: built.append(a[0]) or real_build(*a, **kw)  # type: ignore[assignment]
        try:
            for some in (["q1"], ["q5", "q0", "q3"], [], names, ["nobody", "q2"]):
                rows = await store.db.run(lambda tx, some=some: tx.all(chosen, {"names": some, "team": "Team"}))
                assert [r["name"] for r in rows] == sorted(set(some) & set(names)), some
            # A list in a statement built per call, with its own values, of another length each time.
            for some in (["q4"], ["q4", "q1"]):
                rows = await store.db.run(lambda tx, some=some: tx.all(
                    sa.select(queues.c.name).where(queues.c.name.in_(some)).order_by(queues.c.name)))
                assert [r["name"] for r in rows] == sorted(some)
        finally:
            compiled._build = real_build  # type: ignore[assignment]
        assert len(built) == 2  # each shape once, whatever the lists' lengths
        # The other values beside a list keep their column's processing (JSON here).
        from handoff_connector.service.storage.schema import events

        await store.db.run(lambda tx: tx.run(events.insert(), [
            {"type": "t", "handoff_id": h, "payload": {"n": 0}, "created_at": 0.0} for h in ("a", "b", "c")]))
        changed = await store.db.run(lambda tx: tx.run(
            events.update().where(events.c.handoff_id.in_(["a", "c"])).values(payload={"n": 1})))
        assert changed == 2
        rows = await store.db.run(lambda tx: tx.all(
            sa.select(events.c.handoff_id, events.c.payload).order_by(events.c.handoff_id)))
        assert [(r["handoff_id"], r["payload"]) for r in rows] == [("a", {"n": 1}), ("b", {"n": 0}), ("c", {"n": 1})]
    finally:
        await store.shutdown()


async def test_a_read_sees_what_committed_and_refuses_a_change_before_it_runs(database: str) -> None:
    store = Storage(database)
    await store.open()
    try:
        await store.db.run(lambda tx: tx.run(queues.insert().values(name="q1", team="Team")))
        names = await store.db.read(lambda tx: tx.all(sa.select(queues.c.name).order_by(queues.c.name)))
        assert [r["name"] for r in names] == ["q1"]

        async def sneaks_a_change(tx: Any) -> None:
            await tx.run(queues.insert().values(name="q2", team="Team"))

        with pytest.raises(RuntimeError, match="use run"):
            await store.db.read(sneaks_a_change)
        names = await store.db.read(lambda tx: tx.all(sa.select(queues.c.name).order_by(queues.c.name)))
        assert [r["name"] for r in names] == ["q1"]
    finally:
        await store.shutdown()
