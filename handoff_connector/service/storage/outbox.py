"""The delivery outbox: what must reach Rasa, in order per conversation.

An item is written in the same transaction as the change that caused it.
Instances share the work with leases: an instance takes the oldest undelivered
item of a conversation; nobody else takes that item, or a later one of the same
conversation, until it is delivered or the lease runs out (its instance died).
Taking an item leases it and starts its try (``tries``); the try must end well
within the lease (the worker bounds it, see delivery.py). A try of an item whose earlier try started
(``tries``) first asks Rasa's tracker whether it arrived. Instances' clocks
must agree to within a second or so (NTP), as lease times are theirs.
"""

from __future__ import annotations

from typing import Any, Collection, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.schema import handoffs, outbox

LEASE_SECONDS = 15.0  # a dead instance's items wait this long at most


_ENQUEUE = outbox.insert()


async def enqueue(tx: Tx, handoff: Dict[str, Any], kind: str, payload: Dict[str, Any]) -> None:
    await tx.run(_ENQUEUE, {"handoff_id": handoff["id"], "sender_id": handoff["sender_id"], "kind": kind,
                            "payload": payload, "created_at": tx.now, "next_attempt_at": tx.now})


def undelivered(item: Dict[str, Any]) -> Dict[str, Any]:
    """A set-aside item as the desk shows it."""
    payload = item["payload"] or {}
    return {"outbox_id": item["id"], "kind": item["kind"], "message_id": payload.get("message_id"),
            "error": item["last_error"], "at": item["dead_at"]}


def _heads() -> sa.Select[Any]:
    """The oldest undelivered item of each conversation."""
    inner = outbox.alias("earlier")
    earliest = (sa.select(sa.func.min(inner.c.id))
                .where(inner.c.sender_id == outbox.c.sender_id, inner.c.delivered_at.is_(None),
                       inner.c.dead_at.is_(None))
                .scalar_subquery())
    return sa.select(outbox.c.id).where(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None),
                                        outbox.c.id == earliest)


class Outbox:
    def __init__(self, db: Database, instance: str, events: EventLog) -> None:
        self._db = db
        self.instance = instance
        self._events = events

    async def take_due(self, limit: int = 100, mine: Collection[int] = ()) -> List[Dict[str, Any]]:
        """Leases the due head-of-line items nobody holds and starts a try of each (their
        ``tries`` count it); returns them, oldest first. ``mine``: items this instance
        is still trying or marking, never taken again, even past their lease."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            free = sa.or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < tx.now)
            due = _heads().where(outbox.c.next_attempt_at <= tx.now, free)
            if mine:
                due = due.where(outbox.c.id.not_in(list(mine)))
            due = due.order_by(outbox.c.id).limit(limit)
            # SKIP LOCKED: instances taking work at once pass each other's rows by.
            ids = [row["id"] for row in await tx.all(due.with_for_update(skip_locked=True))]
            if not ids:
                return []
            # Re-checked in the UPDATE: of two instances racing, one gets each item.
            return await tx.all(
                outbox.update().where(outbox.c.id.in_(ids), outbox.c.delivered_at.is_(None), free)
                .values(lease_owner=self.instance, lease_until=tx.now + LEASE_SECONDS,
                        tries=outbox.c.tries + 1)
                .returning(*outbox.c))

        items = await self._db.run(work)
        return sorted(items, key=lambda item: item["id"])

    async def pending(self) -> int:
        return int(await self._db.run(lambda tx: tx.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(
                outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None)))))

    async def delivered(self, item_ids: List[int]) -> int:
        """Marks items delivered (one transaction for a round's worth); how many this
        instance still held."""
        if not item_ids:
            return 0
        return await self._db.run(lambda tx: tx.run(
            outbox.update().where(outbox.c.id.in_(item_ids), outbox.c.lease_owner == self.instance)
            .values(delivered_at=tx.now, lease_owner=None, lease_until=None)))

    async def failed(self, item_id: int, error: str, retry_in: float) -> None:
        await self._db.run(lambda tx: tx.run(
            outbox.update().where(outbox.c.id == item_id, outbox.c.lease_owner == self.instance)
            .values(attempts=outbox.c.attempts + 1, last_error=error[:500],
                    next_attempt_at=tx.now + retry_in, lease_owner=None, lease_until=None)))

    async def dead(self, item_id: int, error: str) -> Optional[Dict[str, Any]]:
        """Sets an item that can never be delivered aside and tells the desks; the
        conversation's later items go on."""
        async def work(tx: Tx) -> Optional[Dict[str, Any]]:
            item = await tx.one(
                outbox.update().where(outbox.c.id == item_id, outbox.c.lease_owner == self.instance)
                .values(dead_at=tx.now, last_error=error[:500], attempts=outbox.c.attempts + 1,
                        lease_owner=None, lease_until=None)
                .returning(*outbox.c))
            if item is None:
                return None
            handoff = await tx.one(sa.select(handoffs.c.queue, handoffs.c.agent_id)
                                   .where(handoffs.c.id == item["handoff_id"]))
            await self._events.emit(tx, "handoff.undelivered", {
                "handoff_id": item["handoff_id"], "undelivered": undelivered(item)},
                handoff_id=item["handoff_id"], queue=handoff["queue"] if handoff else None,
                agent_id=handoff["agent_id"] if handoff else None)
            return item

        return await self._db.run(work)

    async def dead_for(self, handoff_id: str) -> List[Dict[str, Any]]:
        """The handoff's items that were set aside, oldest first."""
        return await self._db.read(lambda tx: tx.all(
            sa.select(outbox).where(outbox.c.handoff_id == handoff_id, outbox.c.dead_at.is_not(None))
            .order_by(outbox.c.id)))

    async def retry_now(self) -> int:
        """Rasa answers again: every item waiting out a backoff is due at once."""
        return int(await self._db.run(lambda tx: tx.run(
            outbox.update().where(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None),
                                  outbox.c.next_attempt_at > tx.now)
            .values(next_attempt_at=tx.now))))

    async def release(self) -> None:
        """On shutdown: hands this instance's unfinished items back at once."""
        await self._db.run(lambda tx: tx.run(
            outbox.update().where(outbox.c.lease_owner == self.instance, outbox.c.delivered_at.is_(None))
            .values(lease_owner=None, lease_until=None)))
