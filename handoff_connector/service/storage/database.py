"""The one database layer under every store: engine, transactions, migrations.

``database`` in the config is a SQLite path (the embedded default) or a
``postgresql://`` URL (for several instances). Work runs as
``await db.run(work)``: ``work(tx)`` is one transaction, retried when
PostgreSQL reports a deadlock or a serialisation failure, so a state change and
the checks it depends on always commit together or not at all.

On SQLite every transaction starts with ``BEGIN IMMEDIATE`` on the one
connection, so writers queue in the process instead of failing with "database
is locked". On PostgreSQL the stores lock the rows they change
(``FOR UPDATE``), and the event log takes a transaction-scoped advisory lock so
that event ids commit in the order they were given (see ``events.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SQLSTATES = ("40001", "40P01")  # serialization failure, deadlock detected
MIGRATIONS = Path(__file__).parent / "migrations"


class StoreClosed(RuntimeError):
    """A call arrived after shutdown."""


def engine_url(database: str) -> sa.URL:
    """A SQLite path or a PostgreSQL URL, as SQLAlchemy's async URL."""
    if database.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        url = make_url(database)
        return url.set(drivername="postgresql+asyncpg")
    if database.startswith("sqlite"):
        url = make_url(database)
        return url.set(drivername="sqlite+aiosqlite")
    return sa.URL.create("sqlite+aiosqlite", database=database)


class Tx:
    """One open transaction: the connection, the time it started, what to do after commit."""

    def __init__(self, connection: AsyncConnection, now: float, postgres: bool) -> None:
        self.connection = connection
        self.now = now
        self.postgres = postgres
        self.after_commit: List[Callable[[], None]] = []
        self.emitted = False  # wrote an event (see events.EventLog.emit)

    async def one(self, statement: sa.Executable) -> Optional[Dict[str, Any]]:
        row = (await self.connection.execute(statement)).mappings().first()
        return dict(row) if row is not None else None

    async def all(self, statement: sa.Executable) -> List[Dict[str, Any]]:
        return [dict(row) for row in (await self.connection.execute(statement)).mappings()]

    async def scalar(self, statement: sa.Executable) -> Any:
        return (await self.connection.execute(statement)).scalar()

    async def run(self, statement: sa.Executable) -> int:
        """Executes a change; returns the number of rows it touched."""
        return (await self.connection.execute(statement)).rowcount

    async def upsert(self, table: sa.Table, values: Dict[str, Any], key: List[str],
                     update: Optional[List[str]] = None) -> None:
        """INSERT, or on a duplicate ``key`` update the ``update`` columns (or do nothing)."""
        dialect = postgresql if self.postgres else sqlite
        statement = dialect.insert(table).values(**values)
        if update:
            statement = statement.on_conflict_do_update(
                index_elements=key, set_={name: statement.excluded[name] for name in update})
        else:
            statement = statement.on_conflict_do_nothing(index_elements=key)
        await self.connection.execute(statement)


class Database:
    """The engine and its transactions; the stores share one."""

    def __init__(self, database: str, clock: Callable[[], float] = time.time) -> None:
        self.url = engine_url(database)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.clock = clock
        self._engine: Optional[AsyncEngine] = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreClosed("The store is closed; the connector is shutting down.")
        return self._engine

    async def open(self, upgrade: bool = True) -> None:
        """Connects and, unless told not to, brings the schema up to date."""
        if self.postgres:
            self._engine = create_async_engine(self.url, pool_size=10, max_overflow=10,
                                               pool_pre_ping=True)
        else:
            self._engine = create_async_engine(
                self.url, pool_size=1, max_overflow=0, connect_args={"timeout": 30})
            _sqlite_transactions(self._engine)
        if upgrade:
            from handoff_connector.service.storage.migrate import upgrade as run_upgrade

            async with self.engine.begin() as connection:
                await connection.run_sync(run_upgrade)

    async def shutdown(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    async def run(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction; after commit, its ``after_commit`` hooks."""
        for attempt in range(5):
            try:
                async with self.engine.begin() as connection:
                    tx = Tx(connection, self.clock(), self.postgres)
                    result = await work(tx)
            except DBAPIError as error:
                code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
                if code not in RETRY_SQLSTATES or attempt == 4:
                    raise
                logger.info("handoff.db.retry sqlstate=%s attempt=%s", code, attempt + 1)
                await asyncio.sleep(0.01 * 2 ** attempt)
                continue
            for hook in tx.after_commit:
                hook()
            return result
        raise AssertionError("unreachable")


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLite: our own ``BEGIN IMMEDIATE``, WAL, foreign keys, and a busy timeout."""

    @sa_event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not begin on its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa_event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
