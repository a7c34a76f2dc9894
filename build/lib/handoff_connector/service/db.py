"""SQLite database: one connection, serialised by a lock, run in a worker thread.

A state change, its transition row, its outbox row and its event row commit
together. After a commit that wrote events, the listener (the live event bus)
is called on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

T = TypeVar("T")


class StoreClosed(RuntimeError):
    """A call arrived after shutdown."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    channel TEXT,
    queue TEXT NOT NULL,
    state TEXT NOT NULL,
    trigger TEXT NOT NULL,
    reasons TEXT NOT NULL,
    context TEXT NOT NULL,
    agent_id TEXT,
    resolution TEXT,
    close_note TEXT,
    created_at REAL NOT NULL,
    claimed_at REAL,
    closed_at REAL,
    first_wait REAL,
    last_user_at REAL,
    notified_position INTEGER,
    notified_at REAL,
    contact TEXT,
    resume_token TEXT UNIQUE,
    resume_expires_at REAL
);
CREATE INDEX IF NOT EXISTS handoffs_queue ON handoffs (state, queue, created_at);
CREATE INDEX IF NOT EXISTS handoffs_sender ON handoffs (sender_id, state);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES handoffs (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES handoffs (id),
    role TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    client_id TEXT,
    created_at REAL NOT NULL,
    UNIQUE (handoff_id, role, client_id)
);
CREATE TABLE IF NOT EXISTS surveys (
    handoff_id TEXT PRIMARY KEY REFERENCES handoffs (id),
    rating INTEGER,
    comment TEXT,
    skipped INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered_at, sender_id, id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    handoff_id TEXT,
    queue TEXT,
    agent_id TEXT,
    previous_agent_id TEXT,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    api_token_hash TEXT UNIQUE,
    capacity INTEGER NOT NULL,
    presence TEXT NOT NULL DEFAULT 'offline',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    team TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    queue TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, queue)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until REAL NOT NULL
);
"""

_JSON_COLUMNS = ("reasons", "context", "payload")


def _row(cursor: sqlite3.Cursor, row: Tuple[Any, ...]) -> Dict[str, Any]:
    record = {d[0]: value for d, value in zip(cursor.description, row, strict=True)}
    for key in _JSON_COLUMNS:
        if isinstance(record.get(key), str):
            record[key] = json.loads(record[key])
    return record


# Columns added after the first release: (table, column, type). A database
# made by an older version gets them on open.
ADDED_COLUMNS = [
    ("handoffs", "first_wait", "REAL"),
    ("handoffs", "last_user_at", "REAL"),
    ("handoffs", "notified_position", "INTEGER"),
    ("handoffs", "notified_at", "REAL"),
    ("handoffs", "contact", "TEXT"),
    ("handoffs", "resume_token", "TEXT"),
    ("handoffs", "resume_expires_at", "REAL"),
]


def _migrate(db: sqlite3.Connection) -> None:
    for table, column, kind in ADDED_COLUMNS:
        existing = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in existing:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class Database:
    """The connection and its transactions; the stores build on it."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._emitted = False
        self.listener: Optional[Callable[[], None]] = None

    async def open(self) -> None:
        def _open() -> sqlite3.Connection:
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.row_factory = _row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
            _migrate(db)
            return db

        self._loop = asyncio.get_running_loop()
        self._db = await asyncio.to_thread(_open)

    async def shutdown(self) -> None:
        def _close() -> None:
            # Under the lock: a worker thread may still be finishing a call.
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await asyncio.to_thread(_close)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``work`` in one transaction, serialised with all other work."""

        def _in_thread() -> T:
            with self._lock:
                db = self._db
                if db is None:
                    raise StoreClosed("The store is closed; the connector is shutting down.")
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(db)
                except BaseException:
                    db.execute("ROLLBACK")
                    self._emitted = False
                    raise
                db.execute("COMMIT")
                if self._emitted:
                    self._emitted = False
                    if self.listener is not None and self._loop is not None:
                        self._loop.call_soon_threadsafe(self.listener)
                return result

        return await asyncio.to_thread(_in_thread)

    def _emit(
        self, db: sqlite3.Connection, kind: str, payload: Dict[str, Any],
        handoff_id: Optional[str] = None, queue: Optional[str] = None,
        agent_id: Optional[str] = None, previous_agent_id: Optional[str] = None,
    ) -> None:
        """Appends a live event; called inside a transaction."""
        db.execute(
            "INSERT INTO events (type, handoff_id, queue, agent_id, previous_agent_id, payload,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, handoff_id, queue, agent_id, previous_agent_id, json.dumps(payload), self._clock()),
        )
        self._emitted = True

    async def events_after(self, after: int, limit: int = 500) -> list:
        """Events with an id above ``after``, oldest first."""
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            ).fetchall()
        )

    async def last_event_id(self) -> int:
        row = await self._run(lambda db: db.execute("SELECT COALESCE(MAX(id), 0) AS n FROM events").fetchone())
        return int(row["n"])
