"""PostgreSQL transactions on asyncpg's own pool; SQLAlchemy builds and compiles the SQL
(``compiled.py``), asyncpg runs it and prepares each SQL text once per connection.

JSON values are serialised by SQLAlchemy's JSON type and read back by an asyncpg
codec. Errors come out as SQLAlchemy's (``IntegrityError``, ``DBAPIError``, with
``orig.sqlstate``) so the stores and the retry loop read them as on SQLite.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Union

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

from handoff_connector.service.storage.compiled import Compiled, Statements
from handoff_connector.service.storage.database import Tx

STATEMENTS = Statements(asyncpg_dialect.dialect(), readers=False)
Params = Union[None, Dict[str, Any], List[Dict[str, Any]]]


def _as_is(text: str) -> str:
    return text


async def _codecs(connection: "asyncpg.Connection[Any]") -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=_as_is, decoder=json.loads, schema="pg_catalog")


async def _keep_session(connection: "asyncpg.Connection[Any]") -> None:
    """A connection back in the pool keeps its session: the stores change none of it (their
    advisory locks are the transaction's, they LISTEN on a connection of their own), so
    asyncpg's reset query would be a round trip per transaction for nothing. asyncpg still
    rolls back a transaction left open before this runs."""


async def create_pool(dsn: str, size: int) -> "asyncpg.Pool[Any]":
    return await asyncpg.create_pool(dsn, min_size=1, max_size=size, init=_codecs, reset=_keep_session)


def _rowcount(status: str) -> int:
    """asyncpg's status: ``UPDATE 3``, ``INSERT 0 1``, ``DELETE 0``, ``SELECT 2``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgTx(Tx):
    """``Tx`` on one asyncpg connection in a transaction."""

    def __init__(self, connection: "asyncpg.Connection[Any]", now: float) -> None:
        super().__init__(connection, now, postgres=True)

    async def _fetch(self, statement: sa.Executable, params: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        compiled, arguments = STATEMENTS.prepare(statement, params)
        try:
            return compiled.rows(await self.connection.fetch(compiled.sql, *arguments))
        except asyncpg.PostgresError as error:
            raise as_sqlalchemy(error, compiled, arguments) from error

    async def execute(self, statement: sa.Executable, rows: Params = None) -> int:
        self.check_writable()
        compiled, arguments = STATEMENTS.prepare(statement, rows)
        try:
            if isinstance(rows, list):
                await self.connection.executemany(compiled.sql, arguments)
                return len(arguments)
            return _rowcount(await self.connection.execute(compiled.sql, *arguments))
        except asyncpg.PostgresError as error:
            raise as_sqlalchemy(error, compiled, arguments) from error


def as_sqlalchemy(error: asyncpg.PostgresError, compiled: Compiled, arguments: Any) -> DBAPIError:
    kind = IntegrityError if isinstance(error, asyncpg.IntegrityConstraintViolationError) else DBAPIError
    return kind(compiled.sql, arguments, error)  # type: ignore[arg-type]
