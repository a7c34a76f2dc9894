"""Waiting and after: leaving the line, place-in-line updates, surveys, the outbox."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List, Optional, Tuple

from handoff_connector.service.errors import Conflict
from handoff_connector.service.records import Records, handoff_row


class WaitingStore(Records):
    """What happens around the line, and the delivery outbox."""

    async def cancel(self, handoff_id: str) -> Dict[str, Any]:
        """The user went back to the bot while waiting."""

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            handoff = handoff_row(db, handoff_id)
            if handoff["state"] != "queued":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only a waiting "
                               f"handoff can be cancelled.")
            now = self._clock()
            db.execute("UPDATE handoffs SET state = 'cancelled', closed_at = ? WHERE id = ?", (now, handoff_id))
            self._transition(db, handoff_id, "queued", "cancelled", "user", now)
            cancelled = handoff_row(db, handoff_id)
            self._emit_handoff(db, "handoff.cancelled", cancelled)
            return cancelled

        return await self._run(work)

    async def abandon_stale(self, silent_for: float, payload: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Ends open handoffs whose user has been silent for ``silent_for`` seconds."""

        def work(db: sqlite3.Connection) -> List[Dict[str, Any]]:
            now = self._clock()
            stale = db.execute(
                "SELECT * FROM handoffs WHERE state IN ('queued', 'assigned')"
                " AND COALESCE(last_user_at, created_at) < ?", (now - silent_for,)).fetchall()
            ended = []
            for handoff in stale:
                db.execute("UPDATE handoffs SET state = 'abandoned', closed_at = ?, resolution = 'abandoned'"
                           " WHERE id = ?", (now, handoff["id"]))
                self._transition(db, handoff["id"], handoff["state"], "abandoned", "system", now)
                self._enqueue(db, handoff, "intent", payload, now)
                gone = handoff_row(db, handoff["id"])
                self._emit_handoff(db, "handoff.abandoned", gone, previous_agent_id=handoff["agent_id"])
                ended.append(gone)
            return ended

        return await self._run(work)

    async def recent_waits(self, queue: str, since: float, limit: int = 20) -> List[float]:
        """How long the latest claimed handoffs of ``queue`` waited, newest first."""
        rows = await self._run(lambda db: db.execute(
            "SELECT first_wait FROM handoffs WHERE queue = ? AND first_wait IS NOT NULL"
            " AND claimed_at >= ? ORDER BY claimed_at DESC LIMIT ?", (queue, since, limit)).fetchall())
        return [float(r["first_wait"]) for r in rows]

    async def note_position(self, handoff_id: str, position: int) -> None:
        """Remembers what the user was last told about their place in line."""
        await self._run(lambda db: db.execute(
            "UPDATE handoffs SET notified_position = ?, notified_at = ? WHERE id = ?",
            (position, self._clock(), handoff_id)))

    async def waiting_in(self, queue: str) -> List[Dict[str, Any]]:
        """The queue's waiting handoffs with their current position."""
        rows = await self.list_queue([queue])
        return [{**row, "position": index + 1} for index, row in enumerate(rows)]

    async def tell_position(self, handoff: Dict[str, Any], position: int, text: str) -> None:
        """Queues a system message about the user's new place in line."""

        def work(db: sqlite3.Connection) -> None:
            current = handoff_row(db, handoff["id"])
            if current["state"] != "queued":
                return
            db.execute("UPDATE handoffs SET notified_position = ?, notified_at = ? WHERE id = ?",
                       (position, self._clock(), handoff["id"]))
            message = self._insert_message(db, handoff["id"], "system", "system", text, None)
            self._enqueue(db, current, "message", {"text": text, "system": True,
                                                   "message_id": message["id"]}, message["created_at"])
            self._emit_message(db, current, message)

        await self._run(work)

    async def save_survey(
        self, handoff_id: str, rating: Optional[int], comment: Optional[str], skipped: bool
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores the survey once; a repeat returns the stored answers."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            handoff = handoff_row(db, handoff_id)
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
            survey = db.execute("SELECT * FROM surveys WHERE handoff_id = ?", (handoff_id,)).fetchone()
            self._emit(db, "handoff.survey", {"handoff_id": handoff_id, "survey": survey},
                       handoff_id=handoff_id, queue=handoff["queue"], agent_id=handoff["agent_id"])
            return survey, True

        return await self._run(work)

    async def survey(self, handoff_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute("SELECT * FROM surveys WHERE handoff_id = ?", (handoff_id,)).fetchone()
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
