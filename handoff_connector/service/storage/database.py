"""The one database layer under every store: engine, transactions, migrations.

``database`` in the config is a SQLite path (the embedded default) or a
``postgresql://`` URL (for several instances). Work runs as
``await db.run(work)``: ``work(tx)`` is one transaction, so a state change and
the checks it depends on commit together or not at all.

* **SQLite** (one instance): one connection, used on the event loop itself. A
  statement on a local file takes microseconds, so a transaction runs to its
  end without ever yielding to the loop: transactions cannot interleave, need no
  lock, and pay no thread hand-off per statement. Each starts with
  ``BEGIN IMMEDIATE``, so a second process (the CLI) waits its turn.
* **PostgreSQL** (several instances): asyncpg's own pool; SQLAlchemy builds and
  compiles the statements, asyncpg runs them (``pg.py``). The stores lock
  the rows they change (``FOR UPDATE``); a transaction that meets a deadlock or
  a serialisation failure is run again. Events go to an inbox and are moved
  into the log in commit order by one mover at a time (see ``events.py``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Coroutine, Dict, List, Optional, Tuple, TypeVar, Union

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

from handoff_connector.service.storage.compiled import Statements

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SQLSTATES = ("40001", "40P01")  # serialization failure, deadlock detected
MIGRATIONS = Path(__file__).parent / "migrations"
POOL_SIZE = 20  # PostgreSQL connections per instance
BATCH_MAX = 200  # SQLite: transactions that share one commit at most


class StoreClosed(RuntimeError):
    """A call arrived after shutdown."""


def engine_url(database: str) -> sa.URL:
    """A SQLite path or a PostgreSQL URL, as SQLAlchemy's URL with its driver."""
    if database.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        return make_url(database).set(drivername="postgresql+asyncpg")
    if database.startswith("sqlite"):
        return make_url(database).set(drivername="sqlite+pysqlite")
    return sa.URL.create("sqlite+pysqlite", database=database)


class Tx:
    """One open transaction: the connection, the time it started, what to do after commit.

    The stores call ``one``, ``all``, ``scalar``, ``run`` and ``execute`` with
    SQLAlchemy Core statements; ``SqliteTx`` and ``pg.PgTx`` run them on the
    driver (``compiled.py``). A statement built once with ``sa.bindparam`` and run
    with ``params`` is compiled once: the hot paths do that.
    """

    def __init__(self, connection: Any, now: float, postgres: bool) -> None:
        self.connection = connection
        self.now = now
        self.postgres = postgres
        self.after_commit: List[Callable[[], None]] = []
        self.emitted = False  # wrote an event (see events.EventLog.emit)
        self.read_only = False  # Database.read: a change is refused before it runs

    def check_writable(self) -> None:
        if self.read_only:
            raise RuntimeError("Database.read ran work that changes something; use run.")

    async def _fetch(self, statement: sa.Executable, params: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        raise NotImplementedError

    async def execute(self, statement: sa.Executable,
                      rows: Union[None, Dict[str, Any], List[Dict[str, Any]]] = None) -> int:
        """Runs a change (``rows`` a list: once for each); returns the number of rows it touched."""
        raise NotImplementedError

    async def one(self, statement: sa.Executable, params: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        rows = await self._fetch(statement, params)
        return rows[0] if rows else None

    async def all(self, statement: sa.Executable, params: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        return await self._fetch(statement, params)

    async def scalar(self, statement: sa.Executable, params: Optional[Dict[str, Any]] = None) -> Any:
        rows = await self._fetch(statement, params)
        return next(iter(rows[0].values())) if rows else None

    async def run(self, statement: sa.Executable, params: Optional[Dict[str, Any]] = None) -> int:
        """Executes a change; returns the number of rows it touched."""
        return await self.execute(statement, params)

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
        await self.run(statement)


SQLITE = Statements(sqlite.dialect())


class SqliteTx(Tx):
    """``Tx`` on SQLite's one connection (the driver's own, inside a savepoint)."""

    def __init__(self, connection: sqlite3.Connection, now: float) -> None:
        super().__init__(connection, now, postgres=False)

    def _cursor(self, statement: sa.Executable, params: Any) -> Tuple[Any, Any]:
        compiled, arguments = SQLITE.prepare(statement, params)
        try:
            if isinstance(params, list):
                return compiled, self.connection.executemany(compiled.sql, arguments)
            return compiled, self.connection.execute(compiled.sql, arguments)
        except sqlite3.Error as error:
            raise DBAPIError.instance(compiled.sql, arguments, error, sqlite3.Error) from error

    async def _fetch(self, statement: sa.Executable, params: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        compiled, cursor = self._cursor(statement, params)
        return compiled.rows(cursor.fetchall(), cursor.description)

    async def execute(self, statement: sa.Executable,
                      rows: Union[None, Dict[str, Any], List[Dict[str, Any]]] = None) -> int:
        self.check_writable()
        _, cursor = self._cursor(statement, rows)
        if cursor.description is not None:
            cursor.fetchall()  # RETURNING: the count is known once the rows are read
        return int(cursor.rowcount)


class Database:
    """The engine and its transactions; the stores share one."""

    def __init__(self, database: str, clock: Callable[[], float] = time.time) -> None:
        self.url = engine_url(database)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.clock = clock
        self._async: Optional[AsyncEngine] = None  # PostgreSQL: migrations and schema checks
        self._pool: Any = None  # PostgreSQL: asyncpg's pool, for every transaction (see pg.py)
        self._sync: Optional[Engine] = None
        self._connection: Optional[Connection] = None  # SQLite's one connection
        self._batch: List[Tuple[Callable[[Tx], Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]] = []

    async def open(self, upgrade: bool = True) -> None:
        """Connects and, unless told not to, brings the schema up to date."""
        from handoff_connector.service.storage.migrate import upgrade as run_upgrade

        if self.postgres:
            from handoff_connector.service.storage import pg

            self._async = create_async_engine(self.url, poolclass=NullPool)
            self._pool = await pg.create_pool(self.dsn, POOL_SIZE)
        else:
            self._sync = sa.create_engine(self.url, poolclass=StaticPool,
                                          connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_transactions(self._sync)
            self._connection = self._sync.connect()
        if upgrade:
            await self.run_sync(run_upgrade, begin=True)

    async def shutdown(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
        if self._async is not None:
            engine, self._async = self._async, None
            await engine.dispose()

    @property
    def dsn(self) -> str:
        """The PostgreSQL URL as asyncpg takes it."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run_sync(self, work: Callable[[Connection], T], begin: bool = False) -> T:
        """``work(connection)`` with a plain SQLAlchemy connection (migrations, schema checks)."""
        if self._async is not None:
            async with (self._async.begin() if begin else self._async.connect()) as shared:
                return await shared.run_sync(work)
        connection = self._sqlite()
        if not begin:
            return work(connection)
        with connection.begin():
            return work(connection)

    def _sqlite(self) -> Connection:
        if self._connection is None:
            raise StoreClosed("The store is closed; the connector is shutting down.")
        return self._connection

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """Runs ``work`` in one transaction; after commit, its ``after_commit`` hooks."""
        if not self.postgres:
            tx, result = await self._run_sqlite(work)
        else:
            tx, result = await self._run_postgres(work)
        for hook in tx.after_commit:
            hook()
        return result

    async def read(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """``run`` for work that only reads and needs no snapshot shared by its statements.

        On PostgreSQL its statements run outside a transaction, each seeing what had
        committed when it began: no ``BEGIN`` and no ``COMMIT``, two round trips fewer
        (a sign-in check on every request is one). On SQLite it is ``run``.
        """
        async def reading(tx: Tx) -> T:
            tx.read_only = True
            return await work(tx)

        if not self.postgres:
            return await self.run(reading)
        from handoff_connector.service.storage.pg import PgTx

        if self._pool is None:
            raise StoreClosed("The store is closed; the connector is shutting down.")
        async with self._pool.acquire() as connection:
            return await reading(PgTx(connection, self.clock()))

    async def run_keyed(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """``run`` for work that first looks its unique key up (an idempotency key, a message id).

        If a concurrent twin committed the same key in between, the insert fails;
        running ``work`` again then finds the twin's row and returns that.
        """
        try:
            return await self.run(work)
        except IntegrityError:
            return await self.run(work)

    async def _run_sqlite(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> "tuple[Tx, T]":
        """Group commit: the transactions asked for in one turn of the event loop run one
        after the other in one database transaction, each in a savepoint of its own (a
        failing one changes nothing), and share one durable commit. Each caller hears
        back only after that commit."""
        self._sqlite()  # closed: StoreClosed now
        future: "asyncio.Future[tuple[Tx, Any]]" = asyncio.get_running_loop().create_future()
        self._batch.append((work, future))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._commit_batch)
        return await future

    def _commit_batch(self) -> None:
        batch, self._batch = self._batch[:BATCH_MAX], self._batch[BATCH_MAX:]
        if self._batch:  # the rest commit together next, after the loop's other work
            asyncio.get_running_loop().call_soon(self._commit_batch)
        done: List[Tuple["asyncio.Future[Any]", Optional[BaseException], Any]] = []
        try:
            raw = self._driver()
            raw.execute("BEGIN IMMEDIATE")
            try:
                for work, future in batch:
                    if future.cancelled():
                        continue  # its caller is gone: it never started
                    raw.execute("SAVEPOINT tx")
                    tx = SqliteTx(raw, self.clock())
                    try:
                        value = _to_the_end(work(tx))
                    except Exception as error:  # noqa: BLE001 - it is that caller's error
                        raw.execute("ROLLBACK TO tx")
                        raw.execute("RELEASE tx")
                        done.append((future, error, None))
                    else:
                        raw.execute("RELEASE tx")
                        done.append((future, None, (tx, value)))
                raw.execute("COMMIT")
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
        except BaseException as error:
            # The commit (or the database) failed: none of them happened.
            for _, future in batch:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception) else StoreClosed(str(error)))
            if not isinstance(error, Exception):
                raise
            return
        for future, failure, result in done:
            if future.done():
                continue
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(result)

    def _driver(self) -> sqlite3.Connection:
        """SQLite's connection itself (SQLAlchemy's must not be inside a transaction of its own)."""
        connection = self._sqlite()
        if connection.in_transaction():
            raise RuntimeError("SQLAlchemy's connection was left in a transaction.")
        return connection.connection.dbapi_connection  # type: ignore[return-value]

    async def _run_postgres(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> "tuple[Tx, T]":
        from handoff_connector.service.storage.pg import PgTx

        for attempt in range(5):
            if self._pool is None:
                raise StoreClosed("The store is closed; the connector is shutting down.")
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    tx = PgTx(connection, self.clock())
                    return tx, await work(tx)
            except (DBAPIError, asyncpg.PostgresError) as error:
                code = getattr(getattr(error, "orig", error), "sqlstate", None)
                if code not in RETRY_SQLSTATES or attempt == 4:
                    raise
                logger.info("handoff.db.retry sqlstate=%s attempt=%s", code, attempt + 1)
                await asyncio.sleep(0.01 * 2 ** attempt)
        raise AssertionError("unreachable")


def _to_the_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a store's work on SQLite: nothing in it suspends (the driver does not wait)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("A SQLite transaction tried to wait; stores may only await the database.")


def _sqlite_transactions(engine: Engine) -> None:
    """SQLite: our own ``BEGIN IMMEDIATE``, WAL, foreign keys, and a busy timeout."""

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not begin on its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
