"""The line: places, what each user was told about theirs, past waits, abandonment."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.outbox import enqueue
from handoff_connector.service.storage.records import (
    emit_handoff,
    handoff_row,
    system_message,
    transition,
)
from handoff_connector.service.storage.schema import handoffs


def _ahead_or_equal(handoff: Dict[str, Any]) -> Any:
    """More urgent, or as urgent and there before (the line's order, ``records.oldest_first``)."""
    urgency = handoff.get("urgency") or 0
    return sa.or_(handoffs.c.urgency > urgency, sa.and_(handoffs.c.urgency == urgency, sa.or_(
        handoffs.c.created_at < handoff["created_at"],
        sa.and_(handoffs.c.created_at == handoff["created_at"], handoffs.c.id <= handoff["id"]))))


class Line:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def position(self, handoff: Dict[str, Any]) -> int:
        """1 for the first in line; 0 when no longer waiting."""
        if handoff["state"] != "queued":
            return 0
        return int(await self._db.run(lambda tx: tx.scalar(
            sa.select(sa.func.count()).select_from(handoffs).where(
                handoffs.c.state == "queued", handoffs.c.queue == handoff["queue"],
                _ahead_or_equal(handoff)))))

    async def moved_up(self, queues: Optional[List[str]], now: float, interval: float) -> List[Dict[str, Any]]:
        """The waiting users to tell about a better place: moved up since they were last
        told, and not told in the last ``interval`` (unless they are now first).

        Places are counted in the database (a window over the queue's index), so
        a queue of thousands is not read row by row; only those to tell are read in full.
        """
        place = sa.func.row_number().over(partition_by=handoffs.c.queue,
                                          order_by=(handoffs.c.urgency.desc(), handoffs.c.created_at,
                                                    handoffs.c.id))
        ranked = (sa.select(handoffs.c.id, handoffs.c.notified_position, handoffs.c.notified_at,
                            place.label("position")).where(handoffs.c.state == "queued"))
        if queues is not None:
            ranked = ranked.where(handoffs.c.queue.in_(queues))
        line = ranked.subquery("line")
        due = (sa.select(handoffs.c.id, handoffs.c.queue, handoffs.c.context, line.c.position)
               .join(line, line.c.id == handoffs.c.id)
               .where(line.c.notified_position.is_not(None), line.c.position < line.c.notified_position,
                      sa.or_(line.c.position == 1, sa.func.coalesce(line.c.notified_at, 0) < now - interval))
               .order_by(handoffs.c.queue, line.c.position))
        return await self._db.run(lambda tx: tx.all(due))

    async def note_position(self, handoff_id: str, position: int) -> None:
        """Remembers what the user was last told about their place in line."""
        await self._db.run(lambda tx: tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
            notified_position=position, notified_at=tx.now)))

    async def tell_position(self, handoff: Dict[str, Any], position: int, text: str) -> None:
        """Queues a system message about the user's new place in line."""
        async def work(tx: Tx) -> None:
            current = await handoff_row(tx, handoff["id"], lock=True)
            told = current["notified_position"]
            if current["state"] != "queued" or (told is not None and position >= told):
                return  # no longer waiting, or already told (by another instance, or a racing claim)
            await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(
                notified_position=position, notified_at=tx.now))
            await system_message(self._events, tx, current, text)

        await self._db.run(work)

    async def recent_waits(self, queue: str, since: float, limit: int = 20) -> List[float]:
        """How long the latest claimed handoffs of ``queue`` waited, newest first."""
        rows = await self._db.run(lambda tx: tx.all(
            sa.select(handoffs.c.first_wait).where(
                handoffs.c.queue == queue, handoffs.c.first_wait.is_not(None), handoffs.c.claimed_at >= since)
            .order_by(handoffs.c.claimed_at.desc()).limit(limit)))
        return [float(r["first_wait"]) for r in rows]

    async def stale(self, waiting_for: float, assigned_for: float) -> List[Dict[str, Any]]:
        """The open handoffs silent long enough to be abandoned (see ``_silent``)."""
        return await self._db.run(lambda tx: tx.all(
            sa.select(handoffs.c.id, handoffs.c.sender_id)
            .where(_silent(tx.now, waiting_for, assigned_for)).order_by(handoffs.c.id)))

    async def abandon_stale(self, ids: List[str], waiting_for: float, assigned_for: float,
                            payload: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Ends those of ``ids`` that are still silent long enough (checked again here)."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            stale = await tx.all(
                sa.select(handoffs).where(handoffs.c.id.in_(ids), _silent(tx.now, waiting_for, assigned_for))
                .order_by(handoffs.c.id).with_for_update(skip_locked=True))  # busy now: next round
            ended = []
            for handoff in stale:
                await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(
                    state="abandoned", closed_at=tx.now, resolution="abandoned"))
                await transition(tx, handoff["id"], handoff["state"], "abandoned", "system")
                await enqueue(tx, handoff, "intent", payload)
                gone = await handoff_row(tx, handoff["id"])
                await emit_handoff(self._events, tx, "handoff.abandoned", gone, previous_agent_id=handoff["agent_id"])
                ended.append(gone)
            return ended

        return await self._db.run(work)


def _silent(now: float, waiting_for: float, assigned_for: float) -> Any:
    """Waiting: the user silent for ``waiting_for``. With a person on: both the user
    and the person silent for ``assigned_for`` (an agent may be looking something up)."""
    user_quiet = sa.func.coalesce(handoffs.c.last_user_at, handoffs.c.created_at)
    agent_quiet = sa.func.coalesce(handoffs.c.last_agent_at, handoffs.c.claimed_at, handoffs.c.created_at)
    return sa.or_(
        sa.and_(handoffs.c.state == "queued", user_quiet < now - waiting_for),
        sa.and_(handoffs.c.state == "assigned", user_quiet < now - assigned_for, agent_quiet < now - assigned_for))
