"""Throwaway PostgreSQL databases for tests, benchmarks and the scaled demo.

``HANDOFF_TEST_POSTGRES`` names the server and the account (default
``postgresql://postgres@127.0.0.1:5432/postgres``: trust auth on this machine);
each run makes its own databases there and drops them afterwards. Databases
are made with ``psql`` (in both environments); emptying the tables between
connector tests uses asyncpg (the connector's environment).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import urllib.parse
import uuid
from typing import AsyncIterator, Iterator

ADMIN_URL = os.environ.get("HANDOFF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def url_of(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _psql(sql: str) -> str:
    parsed = urllib.parse.urlparse(ADMIN_URL)
    try:
        done = subprocess.run(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", parsed.hostname or "127.0.0.1",
             "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
             "-d", parsed.path.lstrip("/") or "postgres", "-c", sql],
            check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"PostgreSQL at {ADMIN_URL}: {error.stderr.strip()}") from error
    return done.stdout.strip()


def new_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def create_database(name: str) -> str:
    _psql(f'CREATE DATABASE "{name}"')
    return url_of(name)


def ensure_database(name: str) -> str:
    """The database's URL; made first if it does not exist (names here are ours, not user input)."""
    if _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
        create_database(name)
    return url_of(name)


def drop_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new database's URL for the ``with`` block; dropped after it."""
    name = new_name(prefix)
    try:
        yield create_database(name)
    finally:
        drop_database(name)


@contextlib.asynccontextmanager
async def empty_database(prefix: str) -> AsyncIterator[str]:
    """The same, from a coroutine (creating a database takes a few tens of milliseconds)."""
    with throwaway_database(prefix) as url:
        yield url


async def reset_tables(url: str) -> None:
    import asyncpg  # the connector's environment

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
    import asyncio

    asyncio.run(reset_tables(url))
