"""The event log: every change to a handoff or an agent, in one total order.

An event row is written in the same transaction as its change. The desk reads
events by id (``after``), so ids must become visible in order: on PostgreSQL
each writer takes a transaction-scoped advisory lock before it takes an id,
which orders commits by id (a reader can never see 11 before 10 commits).
After the commit, every instance is woken: ``pg_notify`` inside the
transaction on PostgreSQL (delivered at commit, to all instances), a direct
call on SQLite (one instance).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any, Callable, Dict, List, Optional

import asyncpg
import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.schema import events

logger = logging.getLogger(__name__)
CHANNEL = "handoff_events"
EVENT_LOCK = 7_150_002  # pg_advisory_xact_lock key: one event writer at a time
_INSERT = events.insert()
_COLUMNS = ["type", "handoff_id", "queue", "agent_id", "previous_agent_id", "payload", "created_at"]
# PostgreSQL, a transaction's first event: the lock, the wake-up and the row in one
# statement, so the lock is held for that statement and the commit only. The
# lock is taken before the row's id is (the INSERT draws it per row it is given).
_TURN = sa.select(sa.func.pg_advisory_xact_lock(EVENT_LOCK).label("locked"),
                  sa.func.pg_notify(CHANNEL, "").label("notified")).subquery("turn")
_INSERT_FIRST = events.insert().from_select(
    _COLUMNS, sa.select(*(sa.bindparam(name, type_=events.c[name].type) for name in _COLUMNS)).select_from(_TURN))


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Called after a commit that wrote events (SQLite; PostgreSQL uses NOTIFY).
        self.listener: Optional[Callable[[], None]] = None
        # Called with each event this instance committed (kind, payload): the metrics' counters.
        self.observers: List[Callable[[str, Dict[str, Any]], None]] = []

    async def emit(
        self, tx: Tx, kind: str, payload: Dict[str, Any], handoff_id: Optional[str] = None,
        queue: Optional[str] = None, agent_id: Optional[str] = None,
        previous_agent_id: Optional[str] = None,
    ) -> None:
        """Appends an event; call it last in a transaction (it serialises writers on PostgreSQL)."""
        first = not tx.emitted
        await tx.run(_INSERT_FIRST if tx.postgres and first else _INSERT, {
            "type": kind, "handoff_id": handoff_id, "queue": queue, "agent_id": agent_id,
            "previous_agent_id": previous_agent_id, "payload": payload, "created_at": tx.now})
        for observer in self.observers:
            tx.after_commit.append(functools.partial(observer, kind, payload))
        if first:
            tx.emitted = True
            if not tx.postgres and self.listener is not None:
                tx.after_commit.append(self.listener)

    async def after(self, after: int, limit: int = 500) -> List[Dict[str, Any]]:
        """Events with an id above ``after``, oldest first."""
        return await self._db.run(lambda tx: tx.all(
            sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(limit)))

    async def last_id(self) -> int:
        return int(await self._db.run(lambda tx: tx.scalar(
            sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0)))))


class PostgresWakeups:
    """LISTENs on its own connection and calls ``wake`` on every event notification.

    When the connection drops it reconnects, and wakes once more on reconnect:
    a notification sent while it was away is made up for by the catch-up by id.
    """

    def __init__(self, db: Database, wake: Callable[[], None]) -> None:
        self._dsn = db.dsn
        self._wake = wake
        self._task: Optional[asyncio.Task[None]] = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="handoff-pg-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, lambda *_args: self._wake())
                self.connected.set()
                self._wake()
                await lost.wait()
            except Exception as error:  # noqa: BLE001 - whatever broke the connection, listen again
                logger.warning("handoff.events.listen_failed: %s: %s", type(error).__name__, error)
            finally:
                self.connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(1)
