"""Tails Rasa's SQL event broker: every event of every bot conversation.

Rasa's ``SQLEventBroker`` (``rasa/core/brokers/sql.py``) writes each event as
one row of a table ``events`` (``id``, ``sender_id``, ``data``: the event's
JSON) in the database that ``endpoints.yml`` names under ``event_broker``: a
SQLite file by default, or PostgreSQL. That table's name is the connector's
own event log's, so the broker gets a database of its own
(``bot_events_database`` in the connector's config).

One instance of a cluster reads at a time (a lease), from the position stored
with the folded conversations, so a restart or a takeover goes on where the
last one stopped and no event counts twice. Rows are read in id order. A
PostgreSQL sequence hands out ids before the rows commit, so two Rasa servers
can commit id 8 after id 9: a gap is waited for a few seconds before it is
taken for a rolled-back insert and passed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.storage.conversations import BrokerRow
from handoff_connector.service.storage.database import engine_url

logger = logging.getLogger(__name__)

SOURCE = "rasa_sql_broker"
LEASE = "bot-events"
BATCH = 500
GAP_SECONDS = 5.0

_broker = sa.MetaData()
_events = sa.Table("events", _broker, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("sender_id", sa.String(255)), sa.Column("data", sa.Text))
_AFTER = (sa.select(_events.c.id, _events.c.sender_id, _events.c.data)
          .where(_events.c.id > sa.bindparam("after")).order_by(_events.c.id).limit(sa.bindparam("limit")))


class BrokerTable:
    """Rasa's ``events`` table, read only. SQLite is read in a thread (Rasa may hold
    its write lock for a moment; the event loop must not wait on it)."""

    def __init__(self, database: str) -> None:
        self.url = engine_url(database)
        self._async: Optional[AsyncEngine] = None
        self._sync: Optional[sa.Engine] = None
        if self.url.get_backend_name() == "postgresql":
            self._async = create_async_engine(self.url, pool_size=2, max_overflow=0, pool_pre_ping=True)
        else:
            self._sync = sa.create_engine(self.url, connect_args={"timeout": 10, "check_same_thread": False})

    async def after(self, position: int, limit: int = BATCH) -> List[Tuple[int, str, str]]:
        """Rows with an id above ``position``; none while Rasa has not made the table yet."""
        params = {"after": position, "limit": limit}
        try:
            if self._async is not None:
                async with self._async.connect() as connection:
                    found = (await connection.execute(_AFTER, params)).all()
            else:
                found = await asyncio.to_thread(self._read_sqlite, params)
        except (OperationalError, ProgrammingError) as error:
            if "events" in str(error) or "does not exist" in str(error) or "unable to open" in str(error):
                return []  # Rasa has not started with its broker yet
            raise
        return [(int(r[0]), str(r[1] or ""), str(r[2] or "")) for r in found]

    def _read_sqlite(self, params: Dict[str, Any]) -> List[Any]:
        assert self._sync is not None
        if self.url.database and not self.url.database.startswith(":") and not Path(self.url.database).is_file():
            return []  # not created by Rasa yet; the connector must not make an empty file in its place
        with self._sync.connect() as connection:
            return list(connection.execute(_AFTER, params).all())

    async def close(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()


def decode(rows: List[Tuple[int, str, str]]) -> List[BrokerRow]:
    """The broker's rows as events; a row that is not an event's JSON is passed over (logged)."""
    decoded: List[BrokerRow] = []
    for row_id, sender, data in rows:
        try:
            event = json.loads(data)
        except ValueError:
            logger.warning("handoff.bot_events.unreadable id=%s", row_id)
            continue
        if isinstance(event, dict):
            decoded.append((row_id, sender or str(event.get("sender_id") or ""), event))
    return decoded


class Gaps:
    """Which ids may be read up to: past a gap only once it has stayed open ``wait`` seconds."""

    def __init__(self, wait: float = GAP_SECONDS, clock: Any = time.monotonic) -> None:
        self.wait, self._clock = wait, clock
        self._seen: Dict[int, float] = {}  # the first missing id -> when it was first seen missing

    def readable(self, position: int, ids: List[int]) -> int:
        """How many of ``ids`` (ascending, all above ``position``) may be folded now."""
        expected = position + 1
        for index, row_id in enumerate(ids):
            if row_id != expected:
                first = self._seen.setdefault(expected, self._clock())
                if self._clock() - first < self.wait:
                    return index
                logger.info("handoff.bot_events.gap ids=%s..%s", expected, row_id - 1)
            self._seen.pop(expected, None)
            expected = row_id + 1
        return len(ids)


async def tail_once(app: web.Application, table: BrokerTable, gaps: Gaps) -> int:
    """One read and fold; returns how many rows it read."""
    store = app[STORE]
    position = await store.conversations.position(SOURCE)
    rows = await table.after(position)
    count = gaps.readable(position, [r[0] for r in rows])
    if count:
        await store.conversations.ingest(SOURCE, decode(rows[:count]), rows[count - 1][0])
    return count


async def _tail(app: web.Application, table: BrokerTable) -> None:
    config, store = app[CONFIG], app[STORE]
    gaps = Gaps()
    while True:
        read = 0
        try:
            if await store.leases.hold(LEASE, max(5.0, 3 * config.bot_events_poll_seconds)):
                read = await tail_once(app, table, gaps)
        except Exception:  # noqa: BLE001 - keep tailing; the next round may succeed
            logger.exception("handoff.bot_events.failed")
        if read < BATCH:
            await asyncio.sleep(config.bot_events_poll_seconds)


async def bot_events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Tails the broker for the life of the app, if ``bot_events_database`` is set."""
    database = app[CONFIG].bot_events_database
    if not database:
        yield
        return
    table = BrokerTable(database)
    task = asyncio.create_task(_tail(app, table), name="handoff-bot-events")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await app[STORE].leases.release(LEASE)
    await table.close()
