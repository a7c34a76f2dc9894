"""Throwaway PostgreSQL databases for tests and benchmarks (trust auth on 127.0.0.1:5432).

``HANDOFF_TEST_POSTGRES`` names the server and the account (default
``postgresql://postgres@127.0.0.1:5432/postgres``); each run makes its own
database there and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from typing import Iterator

import asyncpg

ADMIN_URL = os.environ.get("HANDOFF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        if tables:
            await connection.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def reset_database(url: str) -> None:
    """Empties every table (the schema stays), so each test starts from nothing."""
    asyncio.run(_reset(url))
