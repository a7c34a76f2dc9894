"""The event log: every change to a handoff or an agent, in one total order.

An event is written in the same transaction as its change. The desk reads
events by id (``after``), so ids must become visible in order: a reader that
has seen 11 must never find 10 later.

* **SQLite** has one writer at a time: rows go to ``events`` itself, ids commit
  in order, and the bus is called after the commit.
* **PostgreSQL** commits many writers at once. One lock held through each
  commit would order them, but it made every commit in the cluster wait for the
  one before, its disk flush included (the relay ran at 0.27 of a bare commit).
  So a writer appends to ``event_inbox`` (no lock; no NOTIFY either, which
  takes a lock for the commit too), and the *mover* takes what has committed
  into ``events``, in inbox order, a batch per transaction, under an advisory
  lock: only the mover draws ids, one mover at a time, so they commit in order.
  Each instance moves right after its own commits, and every second in case a
  writer died between its commit and the move; the move NOTIFYs once per batch
  (delivered at its commit, to every instance). ``settle`` moves first for a
  reader who must see what committed before it asked (``last_id``, the REST
  catch-up, erasure).
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
from handoff_connector.service.storage.schema import event_inbox, events

logger = logging.getLogger(__name__)
CHANNEL = "handoff_events"
EVENT_LOCK = 7_150_002  # pg_advisory_xact_lock key: one mover at a time
SWEEP_SECONDS = 1.0  # PostgreSQL: how often each instance moves regardless
MOVE_BATCH = 1000
_INSERT = events.insert()
_INSERT_INBOX = event_inbox.insert()
_COLUMNS = "type, handoff_id, queue, agent_id, previous_agent_id, payload, created_at"
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(EVENT_LOCK))
# The ids are drawn as the rows are inserted, in the SELECT's order (the inbox's).
_MOVE = sa.text(
    f"WITH moved AS (DELETE FROM event_inbox WHERE id IN "
    f"(SELECT id FROM event_inbox ORDER BY id LIMIT {MOVE_BATCH}) RETURNING id, {_COLUMNS}) "
    f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM moved ORDER BY id")
_NOTIFY = sa.select(sa.func.pg_notify(CHANNEL, ""))
_AFTER = (sa.select(events).where(events.c.id > sa.bindparam("after"))
          .order_by(events.c.id).limit(sa.bindparam("limit")))
_LAST = sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Called after a commit that wrote events (SQLite; PostgreSQL uses NOTIFY).
        self.listener: Optional[Callable[[], None]] = None
        # Called with each event this instance committed (kind, payload): the metrics' counters.
        self.observers: List[Callable[[str, Dict[str, Any]], None]] = []
        # PostgreSQL: the mover. A caller of ``settle`` takes a ticket; a move that began
        # after the ticket was taken covers it.
        self._asked = 0
        self._covered = 0
        self._moving: Optional[asyncio.Lock] = None
        self._due: Optional[asyncio.Event] = None
        self._task: Optional[asyncio.Task[None]] = None

    async def emit(
        self, tx: Tx, kind: str, payload: Dict[str, Any], handoff_id: Optional[str] = None,
        queue: Optional[str] = None, agent_id: Optional[str] = None,
        previous_agent_id: Optional[str] = None,
    ) -> None:
        """Appends an event to the transaction."""
        await tx.run(_INSERT_INBOX if tx.postgres else _INSERT, {
            "type": kind, "handoff_id": handoff_id, "queue": queue, "agent_id": agent_id,
            "previous_agent_id": previous_agent_id, "payload": payload, "created_at": tx.now})
        for observer in self.observers:
            tx.after_commit.append(functools.partial(observer, kind, payload))
        if not tx.emitted:
            tx.emitted = True
            if tx.postgres:
                tx.after_commit.append(self._wrote)
            elif self.listener is not None:
                tx.after_commit.append(self.listener)

    async def after(self, after: int, limit: int = 500) -> List[Dict[str, Any]]:
        """Events with an id above ``after``, oldest first (on PostgreSQL, those moved so far)."""
        return await self._db.read(lambda tx: tx.all(_AFTER, {"after": after, "limit": limit}))

    async def last_id(self) -> int:
        """The newest event's id, once what committed before the call is in the log."""
        await self.settle()
        return int(await self._db.read(lambda tx: tx.scalar(_LAST)))

    # -- PostgreSQL: the mover ------------------------------------------------

    def start(self) -> None:
        """PostgreSQL: starts this instance's mover (nothing to do on SQLite)."""
        if self._db.postgres and self._task is None:
            self._due = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="handoff-event-mover")

    async def stop(self) -> None:
        """Stops the mover after one last move (what this process wrote is in the log)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            await self.settle()
        except Exception:  # noqa: BLE001 - another instance's sweep moves them
            logger.exception("handoff.events.move_failed")

    def _wrote(self) -> None:
        if self._due is not None:
            self._due.set()

    async def _run(self) -> None:
        assert self._due is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._due.wait(), SWEEP_SECONDS)
            self._due.clear()  # before the move: a commit during it asks for the next
            try:
                await self.settle()
            except Exception:  # noqa: BLE001 - the database may be back next round
                logger.exception("handoff.events.move_failed")
                await asyncio.sleep(SWEEP_SECONDS)

    async def settle(self) -> None:
        """PostgreSQL: moves every event committed before this call into the log."""
        if not self._db.postgres:
            return
        if self._moving is None:
            self._moving = asyncio.Lock()
        self._asked += 1
        ticket = self._asked
        async with self._moving:
            if self._covered >= ticket:
                return  # a move that began after this call did it
            covers = self._asked
            await self._db.run(self.move)
            self._covered = covers

    async def move(self, tx: Tx) -> int:
        """In ``tx`` (PostgreSQL): takes the mover's lock, and the inbox into the log."""
        await tx.run(_LOCK)
        total = 0
        while True:
            moved = await tx.run(_MOVE)
            total += moved
            if moved < MOVE_BATCH:
                break
        if total:
            await tx.run(_NOTIFY)
        return total


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
