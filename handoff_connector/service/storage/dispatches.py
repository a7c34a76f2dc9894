"""Emails and webhook calls waiting to leave, and the webhook's feed of the event log.

A dispatch is written in the transaction of the change that causes it (a follow-up
sent by email) or, for the webhook, by the feed: the events after the feed's place,
turned into calls and the place moved in one transaction. Instances share the
sending with leases, as the outbox does: taking a due row leases it for
``LEASE_SECONDS`` and counts a try; a sent row is ``sent``, a failed one is tried
again later, up to ``MAX_TRIES``, then ``failed`` (shown where it was asked for).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import check_may_see, handoff_row
from handoff_connector.service.storage.schema import dispatches, events, feeds, handoffs

LEASE_SECONDS = 60.0  # longer than a send's timeout: a dead instance's rows wait this long
MAX_TRIES = 6
WEBHOOK_FEED = "webhook"
D = dispatches.c


async def enqueue(tx: Tx, kind: str, payload: Dict[str, Any], handoff_id: Optional[str] = None,
                  follow_up_id: Optional[int] = None, created_by: Optional[str] = None) -> int:
    return int(await tx.scalar(dispatches.insert().values(
        kind=kind, payload=payload, handoff_id=handoff_id, follow_up_id=follow_up_id, state="pending",
        next_attempt_at=tx.now, created_by=created_by, created_at=tx.now).returning(D.id)))


def view(row: Dict[str, Any]) -> Dict[str, Any]:
    """A dispatch as the desk shows it (what, to whom, how it went; not its whole text)."""
    payload = row["payload"] or {}
    return {"id": row["id"], "kind": row["kind"], "to": payload.get("to"), "what": payload.get("what"),
            "state": row["state"], "tries": row["tries"], "error": row["last_error"],
            "created_at": row["created_at"], "sent_at": row["sent_at"]}


def retry_after(tries: int) -> float:
    """Seconds before the next try: 5, 20, 80 s... at most 15 minutes."""
    return float(min(5 * 4 ** (tries - 1), 900))


async def _announce(events: EventLog, tx: Tx, dispatch_id: int) -> None:
    """An email's outcome, for the desks of whoever may see its conversation."""
    row = await tx.one(sa.select(dispatches, handoffs.c.queue).select_from(
        dispatches.outerjoin(handoffs, handoffs.c.id == D.handoff_id)).where(D.id == dispatch_id))
    if row is None or row["kind"] != "email" or row["handoff_id"] is None:
        return
    await events.emit(tx, "handoff.email", {"handoff_id": row["handoff_id"], "follow_up_id": row["follow_up_id"],
                                            "created_by": row["created_by"], "email": view(row)},
                      handoff_id=row["handoff_id"], queue=row["queue"], agent_id=row["created_by"])


class Dispatches:
    def __init__(self, db: Database, instance: str, events: EventLog) -> None:
        self._db = db
        self.instance = instance
        self._events = events

    async def take_due(self, limit: int = 20) -> List[Dict[str, Any]]:
        """Leases due rows nobody holds and counts a try of each; returns them, oldest first."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            due = (sa.select(D.id).where(D.state == "pending", D.next_attempt_at <= tx.now,
                                         sa.or_(D.lease_until.is_(None), D.lease_until < tx.now))
                   .order_by(D.id).limit(limit))
            if tx.postgres:
                due = due.with_for_update(skip_locked=True)
            ids = [row["id"] for row in await tx.all(due)]
            if not ids:
                return []
            await tx.run(dispatches.update().where(D.id.in_(ids)).values(
                lease_owner=self.instance, lease_until=tx.now + LEASE_SECONDS, tries=D.tries + 1))
            return await tx.all(sa.select(dispatches).where(D.id.in_(ids)).order_by(D.id))

        return await self._db.run(work)

    async def sent(self, dispatch_id: int) -> None:
        await self._outcome(dispatch_id, state="sent", last_error=None, lease_until=None)

    async def failed(self, dispatch_id: int, tries: int, error: str, final: bool = False) -> str:
        """A try failed: again later, or ``failed`` for good after the last try (or ``final``)."""
        state = "failed" if final or tries >= MAX_TRIES else "pending"
        await self._outcome(dispatch_id, state=state, last_error=error[:500], lease_until=None,
                            next_attempt_at=retry_after(tries))
        return state

    async def _outcome(self, dispatch_id: int, **values: Any) -> None:
        """The try's outcome, if this instance still holds the row; the desks hear of it."""
        async def work(tx: Tx) -> None:
            if "next_attempt_at" in values:
                values["next_attempt_at"] += tx.now
            if values["state"] == "sent":
                values["sent_at"] = tx.now
            # Only a pending row this instance holds: one erased meanwhile stays erased.
            if await tx.run(dispatches.update().where(D.id == dispatch_id, D.lease_owner == self.instance,
                                                      D.state == "pending").values(**values)):
                await _announce(self._events, tx, dispatch_id)

        await self._db.run(work)

    async def of_follow_ups(self, ids: Sequence[int]) -> Dict[int, List[Dict[str, Any]]]:
        rows = await self._db.run(lambda tx: tx.all(
            sa.select(dispatches).where(D.follow_up_id.in_(list(ids))).order_by(D.id)))
        found: Dict[int, List[Dict[str, Any]]] = {}
        for row in rows:
            found.setdefault(row["follow_up_id"], []).append(view(row))
        return found

    async def of_handoff(self, handoff_id: str) -> List[Dict[str, Any]]:
        """The conversation's emails (not the webhook's calls)."""
        rows = await self._db.run(lambda tx: tx.all(
            sa.select(dispatches).where(D.handoff_id == handoff_id, D.kind == "email").order_by(D.id)))
        return [view(row) for row in rows]

    async def transcript(self, actor_id: str, handoff_id: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        """An email of the conversation, if the actor may see it (checked in this transaction)."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await check_may_see(tx, actor_id, await handoff_row(tx, handoff_id))
            dispatch_id = await enqueue(tx, "email", payload, handoff_id, None, actor_id)
            return view(await tx.one(sa.select(dispatches).where(D.id == dispatch_id)) or {})

        return await self._db.run(work)

    async def feed(self, kinds: Sequence[str], limit: int = 200) -> int:
        """Turns the events after the webhook's place whose type is in ``kinds`` into calls
        and moves the place past them, in one transaction; returns how many events it read
        (0: none is left).

        The first time, the place starts at the latest event: the webhook hears of what
        happens from when it is configured, not of the whole history."""
        async def work(tx: Tx) -> int:
            await tx.upsert(feeds, {"name": WEBHOOK_FEED, "position": -1, "updated_at": tx.now}, ["name"])
            position = await tx.scalar(sa.select(feeds.c.position).where(feeds.c.name == WEBHOOK_FEED)
                                       .with_for_update())
            if position < 0:
                latest = await tx.scalar(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0)))
                await self._move(tx, int(latest))
                return 0
            rows = await tx.all(sa.select(events).where(events.c.id > position).order_by(events.c.id).limit(limit))
            for row in rows:
                if row["type"] in kinds:
                    await enqueue(tx, "webhook", {
                        "what": row["type"], "to": "webhook",
                        "body": {"id": f"evt_{row['id']}", "type": row["type"], "created_at": row["created_at"],
                                 "data": row["payload"]}}, handoff_id=row["handoff_id"])
            if rows:
                await self._move(tx, rows[-1]["id"])
            return len(rows)

        return await self._db.run(work)

    @staticmethod
    async def _move(tx: Tx, position: int) -> None:
        await tx.run(feeds.update().where(feeds.c.name == WEBHOOK_FEED).values(position=position,
                                                                               updated_at=tx.now))
