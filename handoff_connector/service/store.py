"""SQLite storage: handoffs, their transitions, messages, surveys, the outbox.

One connection, serialised by a lock and run in a worker thread, so a state
change and its transition row (and outbox row) commit together and a claim is
atomic: ``UPDATE ... WHERE state = 'queued'`` lets exactly one agent win.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from handoff_connector.service.errors import Conflict, NotFound

T = TypeVar("T")


class StoreClosed(RuntimeError):
    """A call arrived after shutdown."""

OPEN_STATES = ("queued", "assigned")

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
    closed_at REAL
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
"""

_JSON_COLUMNS = ("reasons", "context", "payload")


def _row(cursor: sqlite3.Cursor, row: Tuple[Any, ...]) -> Dict[str, Any]:
    record = {d[0]: value for d, value in zip(cursor.description, row, strict=True)}
    for key in _JSON_COLUMNS:
        if isinstance(record.get(key), str):
            record[key] = json.loads(record[key])
    return record


class Store:
    """The connector's storage. Every public method is a coroutine."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None

    async def open(self) -> None:
        def _open() -> sqlite3.Connection:
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.row_factory = _row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
            return db

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
                    raise
                db.execute("COMMIT")
                return result

        return await asyncio.to_thread(_in_thread)

    # -- handoffs -------------------------------------------------------

    async def create_handoff(
        self, key: str, sender_id: str, channel: Optional[str], queue: str,
        trigger: str, reasons: List[str], context: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Creates a queued handoff; with a known ``key`` returns the first one."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            existing = db.execute(
                "SELECT * FROM handoffs WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if existing:
                return existing, False
            now, handoff_id = self._clock(), uuid.uuid4().hex
            db.execute(
                "INSERT INTO handoffs (id, idempotency_key, sender_id, channel, queue,"
                " state, trigger, reasons, context, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (handoff_id, key, sender_id, channel, queue, trigger,
                 json.dumps(reasons), json.dumps(context), now),
            )
            self._transition(db, handoff_id, None, "requested", "bot", now)
            self._transition(db, handoff_id, "requested", "queued", "bot", now)
            return _get(db, handoff_id), True

        return await self._run(work)

    @staticmethod
    def _transition(
        db: sqlite3.Connection, handoff_id: str, from_state: Optional[str],
        to_state: str, actor: str, at: float,
    ) -> None:
        db.execute(
            "INSERT INTO transitions (handoff_id, from_state, to_state, actor, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (handoff_id, from_state, to_state, actor, at),
        )

    async def get_handoff(self, handoff_id: str) -> Dict[str, Any]:
        return await self._run(lambda db: _get(db, handoff_id))

    async def open_handoff_for(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The sender's open handoff, if any."""
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM handoffs WHERE sender_id = ? AND state IN ('queued', 'assigned')"
                " ORDER BY created_at DESC LIMIT 1",
                (sender_id,),
            ).fetchone()
        )

    async def list_queue(self, queues: Optional[List[str]]) -> List[Dict[str, Any]]:
        """Queued handoffs, oldest first; ``None`` means every queue."""

        def work(db: sqlite3.Connection) -> List[Dict[str, Any]]:
            sql = "SELECT * FROM handoffs WHERE state = 'queued'"
            args: List[Any] = []
            if queues is not None:
                sql += f" AND queue IN ({','.join('?' * len(queues))})"
                args = list(queues)
            return db.execute(sql + " ORDER BY created_at, id", args).fetchall()

        return await self._run(work)

    async def list_assigned(self, agent_id: Optional[str]) -> List[Dict[str, Any]]:
        """Assigned handoffs, of one agent or (``None``) of everyone."""

        def work(db: sqlite3.Connection) -> List[Dict[str, Any]]:
            sql, args = "SELECT * FROM handoffs WHERE state = 'assigned'", []
            if agent_id is not None:
                sql, args = sql + " AND agent_id = ?", [agent_id]
            return db.execute(sql + " ORDER BY claimed_at", args).fetchall()

        return await self._run(work)

    async def queue_position(self, handoff: Dict[str, Any]) -> int:
        """1 for the first in line; 0 when no longer waiting."""
        if handoff["state"] != "queued":
            return 0
        row = await self._run(
            lambda db: db.execute(
                "SELECT COUNT(*) AS n FROM handoffs WHERE state = 'queued' AND queue = ?"
                " AND (created_at < ? OR (created_at = ? AND id <= ?))",
                (handoff["queue"], handoff["created_at"], handoff["created_at"], handoff["id"]),
            ).fetchone()
        )
        return int(row["n"])

    async def claim(self, handoff_id: str, agent_id: str) -> Dict[str, Any]:
        """Assigns a queued handoff; exactly one of concurrent claims wins."""

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            now = self._clock()
            updated = db.execute(
                "UPDATE handoffs SET state = 'assigned', agent_id = ?, claimed_at = ?"
                " WHERE id = ? AND state = 'queued'",
                (agent_id, now, handoff_id),
            ).rowcount
            handoff = _get(db, handoff_id)
            if not updated:
                owner = f" by {handoff['agent_id']}" if handoff["agent_id"] else ""
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}{owner}; only a queued "
                    f"handoff can be claimed. Refresh the queue."
                )
            self._transition(db, handoff_id, "queued", "assigned", f"agent:{agent_id}", now)
            return handoff

        return await self._run(work)

    async def close_handoff(
        self, handoff_id: str, actor: str, resolution: str, note: Optional[str],
        outbox_payload: Dict[str, Any],
    ) -> Dict[str, Any]:
        """Closes an assigned handoff and queues the return to the bot."""

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            handoff = _get(db, handoff_id)
            if handoff["state"] != "assigned":
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}; only an assigned "
                    f"handoff can be closed."
                )
            now = self._clock()
            db.execute(
                "UPDATE handoffs SET state = 'closed', resolution = ?, close_note = ?,"
                " closed_at = ? WHERE id = ?",
                (resolution, note, now, handoff_id),
            )
            self._transition(db, handoff_id, "assigned", "closed", actor, now)
            self._enqueue(db, handoff, "close", outbox_payload, now)
            return _get(db, handoff_id)

        return await self._run(work)

    async def mark_returned(self, handoff_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            now = self._clock()
            if db.execute(
                "UPDATE handoffs SET state = 'returned' WHERE id = ? AND state = 'closed'",
                (handoff_id,),
            ).rowcount:
                self._transition(db, handoff_id, "closed", "returned", "bot", now)

        await self._run(work)

    # -- messages ---------------------------------------------------------

    async def add_user_message(
        self, handoff_id: str, message_id: str, text: str
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores a relayed user message once per ``message_id``."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            handoff = _get(db, handoff_id)
            existing = _find_message(db, handoff_id, "user", message_id)
            if existing:
                return existing, False
            if handoff["state"] not in OPEN_STATES:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}; user messages can only "
                    f"be relayed while it is queued or assigned."
                )
            return self._insert_message(db, handoff_id, "user", handoff["sender_id"], text, message_id), True

        return await self._run(work)

    async def add_agent_message(
        self, handoff_id: str, agent_id: str, text: str, client_id: Optional[str],
        outbox_payload: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores an agent message and queues its delivery, once per ``client_id``."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            handoff = _get(db, handoff_id)
            if client_id:
                existing = _find_message(db, handoff_id, "agent", client_id)
                if existing:
                    return existing, False
            if handoff["state"] != "assigned" or handoff["agent_id"] != agent_id:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}"
                    + (f" to {handoff['agent_id']}" if handoff["agent_id"] else "")
                    + "; only the assigned agent can send messages. Claim it first."
                )
            message = self._insert_message(db, handoff_id, "agent", agent_id, text, client_id)
            payload = {**outbox_payload, "message_id": message["id"]}
            self._enqueue(db, handoff, "message", payload, message["created_at"])
            return message, True

        return await self._run(work)

    def _insert_message(
        self, db: sqlite3.Connection, handoff_id: str, role: str, author: str,
        text: str, client_id: Optional[str],
    ) -> Dict[str, Any]:
        cursor = db.execute(
            "INSERT INTO messages (handoff_id, role, author, text, client_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (handoff_id, role, author, text, client_id, self._clock()),
        )
        return db.execute("SELECT * FROM messages WHERE id = ?", (cursor.lastrowid,)).fetchone()

    async def messages(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM messages WHERE handoff_id = ? ORDER BY id", (handoff_id,)
            ).fetchall()
        )

    async def transitions(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute(
                "SELECT from_state, to_state, actor, at FROM transitions"
                " WHERE handoff_id = ? ORDER BY id",
                (handoff_id,),
            ).fetchall()
        )

    # -- surveys ----------------------------------------------------------

    async def save_survey(
        self, handoff_id: str, rating: Optional[int], comment: Optional[str], skipped: bool
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores the survey once; a repeat returns the stored answers."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            _get(db, handoff_id)
            existing = db.execute(
                "SELECT * FROM surveys WHERE handoff_id = ?", (handoff_id,)
            ).fetchone()
            if existing:
                return existing, False
            db.execute(
                "INSERT INTO surveys (handoff_id, rating, comment, skipped, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (handoff_id, rating, comment, int(skipped), self._clock()),
            )
            return db.execute("SELECT * FROM surveys WHERE handoff_id = ?", (handoff_id,)).fetchone(), True

        return await self._run(work)

    async def survey(self, handoff_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute("SELECT * FROM surveys WHERE handoff_id = ?", (handoff_id,)).fetchone()
        )

    # -- outbox -------------------------------------------------------------

    def _enqueue(
        self, db: sqlite3.Connection, handoff: Dict[str, Any], kind: str,
        payload: Dict[str, Any], now: float,
    ) -> None:
        db.execute(
            "INSERT INTO outbox (handoff_id, sender_id, kind, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (handoff["id"], handoff["sender_id"], kind, json.dumps(payload), now, now),
        )

    async def due_outbox(self) -> List[Dict[str, Any]]:
        """The oldest undelivered item of each conversation, if it is due.

        Only the head of each conversation's line is returned, so a failing
        item holds back the ones after it: delivery stays in order.
        """
        now = self._clock()
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox"
                " WHERE delivered_at IS NULL GROUP BY sender_id) AND next_attempt_at <= ?"
                " ORDER BY id",
                (now,),
            ).fetchall()
        )

    async def pending_outbox(self) -> int:
        row = await self._run(
            lambda db: db.execute("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL").fetchone()
        )
        return int(row["n"])

    async def mark_delivered(self, item_id: int) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE outbox SET delivered_at = ? WHERE id = ?", (self._clock(), item_id)
            )
        )

    async def mark_failed(self, item_id: int, error: str, retry_in: float) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE id = ?",
                (error[:500], self._clock() + retry_in, item_id),
            )
        )


def _get(db: sqlite3.Connection, handoff_id: str) -> Dict[str, Any]:
    handoff = db.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)).fetchone()
    if handoff is None:
        raise NotFound(f"No handoff with id {handoff_id!r}. List the queue for valid ids.")
    return handoff


def _find_message(
    db: sqlite3.Connection, handoff_id: str, role: str, client_id: str
) -> Optional[Dict[str, Any]]:
    return db.execute(
        "SELECT * FROM messages WHERE handoff_id = ? AND role = ? AND client_id = ?",
        (handoff_id, role, client_id),
    ).fetchone()
