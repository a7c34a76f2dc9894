"""The rows behind a handoff and the helpers every store method shares.

Inside a transaction: state transitions, messages, outbox rows and live events
are written together (see ``db.Database._emit``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List, Optional

from handoff_connector.service.accounts import AccountStore
from handoff_connector.service.errors import Conflict, NotFound

OPEN_STATES = ("queued", "assigned")


class Records(AccountStore):
    """Shared building blocks of the handoff store."""

    def _emit_handoff(self, db: sqlite3.Connection, kind: str, handoff: Dict[str, Any],
                      previous_agent_id: Optional[str] = None, **extra: Any) -> None:
        self._emit(db, kind, {"handoff": summary(handoff), **extra}, handoff_id=handoff["id"],
                   queue=handoff["queue"], agent_id=handoff["agent_id"],
                   previous_agent_id=previous_agent_id)

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

    def _emit_message(self, db: sqlite3.Connection, handoff: Dict[str, Any], message: Dict[str, Any]) -> None:
        self._emit(db, "handoff.message", {"handoff_id": handoff["id"], "message": message},
                   handoff_id=handoff["id"], queue=handoff["queue"], agent_id=handoff["agent_id"])

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

    def _enqueue(
        self, db: sqlite3.Connection, handoff: Dict[str, Any], kind: str,
        payload: Dict[str, Any], now: float,
    ) -> None:
        db.execute(
            "INSERT INTO outbox (handoff_id, sender_id, kind, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (handoff["id"], handoff["sender_id"], kind, json.dumps(payload), now, now),
        )

    @staticmethod
    def _check_capacity(db: sqlite3.Connection, agent_id: str) -> None:
        agent = db.execute("SELECT capacity FROM agents WHERE id = ?", (agent_id,)).fetchone()
        load = db.execute("SELECT COUNT(*) AS n FROM handoffs WHERE agent_id = ? AND state = 'assigned'",
                          (agent_id,)).fetchone()["n"]
        if agent is not None and load >= agent["capacity"]:
            raise Conflict(f"{agent_id} is at capacity ({load} of {agent['capacity']} conversations); "
                           f"close or transfer one first.")

    def _agent_message(self, db: sqlite3.Connection, handoff: Dict[str, Any], agent_id: str,
                       payload: Dict[str, Any], client_id: Optional[str]) -> Dict[str, Any]:
        message = self._insert_message(db, handoff["id"], "agent", agent_id, payload["text"], client_id)
        self._enqueue(db, handoff, "message", {**payload, "message_id": message["id"]}, message["created_at"])
        self._emit_message(db, handoff, message)
        return message


def handoff_row(db: sqlite3.Connection, handoff_id: str) -> Dict[str, Any]:
    handoff = db.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)).fetchone()
    if handoff is None:
        raise NotFound(f"No handoff with id {handoff_id!r}. List the queue for valid ids.")
    return handoff


def find_message(
    db: sqlite3.Connection, handoff_id: str, role: str, client_id: str
) -> Optional[Dict[str, Any]]:
    return db.execute(
        "SELECT * FROM messages WHERE handoff_id = ? AND role = ? AND client_id = ?",
        (handoff_id, role, client_id),
    ).fetchone()


def summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """The handoff as listed in a queue and in events (no transcript)."""
    context = handoff["context"]
    return {
        "id": handoff["id"],
        "state": handoff["state"],
        "queue": handoff["queue"],
        "trigger": handoff["trigger"],
        "reasons": handoff["reasons"],
        "sender_id": handoff["sender_id"],
        "channel": handoff["channel"],
        "agent_id": handoff["agent_id"],
        "created_at": handoff["created_at"],
        "claimed_at": handoff["claimed_at"],
        "closed_at": handoff["closed_at"],
        "resolution": handoff["resolution"],
        "contact": handoff.get("contact"),
        "last_user_text": next(
            (t["text"] for t in reversed(context.get("transcript") or []) if t.get("role") == "user"),
            None,
        ),
    }
