"""Assignment of waiting conversations: by a supervisor, or round robin per queue.

An assignment says who should take a waiting conversation; it stays queued
until that agent claims it (the others are asked to leave it; see the claim in
``handoffs.py``). Each change locks the handoff's row, then the agent's, in the
same order as a claim, and checks who acts and whom it names inside the
transaction. The round robin locks its queue's pointer row first, so
instances assigning the same queue at once take turns, and passes by waiting
rows a claim holds (``SKIP LOCKED`` on PostgreSQL).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict, Forbidden, NotFound
from handoff_connector.service.storage.accounts import load_of, lock_agent
from handoff_connector.service.storage.caseload import log_assignment
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import emit_handoff, handoff_row
from handoff_connector.service.storage.schema import agents, assignment_pointers, handoffs, memberships

_ACTOR = sa.select(agents.c.id, agents.c.role, agents.c.active).where(agents.c.id == sa.bindparam("id"))
_MEMBER = sa.select(memberships.c.queue).where(memberships.c.agent_id == sa.bindparam("agent"),
                                               memberships.c.queue == sa.bindparam("queue"))


def pending_of(agent_id: Any) -> sa.ScalarSelect[Any]:
    """Waiting conversations assigned to ``agent_id`` (a value or a column), not yet claimed."""
    return (sa.select(sa.func.count()).select_from(handoffs)
            .where(handoffs.c.assigned_to == agent_id, handoffs.c.state == "queued").scalar_subquery())


async def _supervisor(tx: Tx, actor_id: str) -> None:
    actor = await tx.one(_ACTOR, {"id": actor_id})
    if actor is None or not actor["active"]:
        raise Forbidden(f"Agent {actor_id!r} no longer exists or was deactivated; sign in again.")
    if actor["role"] != "supervisor":
        raise Forbidden("Only a supervisor can assign or unassign a waiting conversation.")


async def _waiting(tx: Tx, handoff_id: str, verb: str) -> Dict[str, Any]:
    handoff = await handoff_row(tx, handoff_id, lock=True)
    if handoff["state"] != "queued":
        raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only a waiting conversation can be {verb}.")
    return handoff


class Assignments:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def assign(self, handoff_id: str, actor_id: str, agent_id: str) -> Dict[str, Any]:
        """A supervisor names who should take a waiting conversation; again with the same agent: no change."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _supervisor(tx, actor_id)
            handoff = await _waiting(tx, handoff_id, "assigned")
            target = await lock_agent(tx, agent_id)
            if target is None:
                raise NotFound(f"No agent with id {agent_id!r}. GET /api/v1/agents lists them.")
            if not target["active"]:
                raise Conflict(f"{target['name']} was deactivated; assign it to an active member of the team.")
            if target["presence"] == "offline":
                raise Conflict(f"{target['name']} is offline; assign it to someone signed in to the desk.")
            if await tx.one(_MEMBER, {"agent": agent_id, "queue": handoff["queue"]}) is None:
                raise Conflict(f"{target['name']} does not serve the queue {handoff['queue']!r}; "
                               f"assign it to one of its members, or transfer it first.")
            if handoff["assigned_to"] == agent_id:
                return handoff
            await self._set(tx, handoff, agent_id, f"agent:{actor_id}", actor_id)
            return await handoff_row(tx, handoff_id)

        return await self._db.run(work)

    async def unassign(self, handoff_id: str, actor_id: str) -> Dict[str, Any]:
        """Back to plain queued; a conversation assigned to nobody is left as it is."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _supervisor(tx, actor_id)
            handoff = await _waiting(tx, handoff_id, "unassigned")
            previous = handoff["assigned_to"]
            if previous is None:
                return handoff
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
                assigned_to=None, assigned_by=None, assigned_at=None))
            await log_assignment(tx, handoff_id, "unassigned", previous, f"agent:{actor_id}")
            handoff = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.assignment", handoff, previous_agent_id=previous,
                               action="unassigned", by=actor_id)
            return handoff

        return await self._db.run(work)

    async def _set(self, tx: Tx, handoff: Dict[str, Any], agent_id: str, actor: str, by: Optional[str]) -> None:
        await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(
            assigned_to=agent_id, assigned_by=by, assigned_at=tx.now))
        await log_assignment(tx, handoff["id"], "assigned", agent_id, actor)
        await emit_handoff(self._events, tx, "handoff.assignment", await handoff_row(tx, handoff["id"]),
                           previous_agent_id=handoff["assigned_to"], action="assigned", by=by)

    async def round_robin(self, queue: str) -> List[str]:
        """Assigns the queue's unassigned waiting conversations, oldest first, each to the next
        online member with room (after the one who got the last); returns the handoff ids."""
        async def work(tx: Tx) -> List[str]:
            await tx.upsert(assignment_pointers, {"queue": queue, "last_agent_id": None, "updated_at": tx.now},
                            ["queue"])
            pointer = await tx.one(sa.select(assignment_pointers).where(assignment_pointers.c.queue == queue)
                                   .with_for_update())  # instances assigning this queue take turns here
            assert pointer is not None  # upserted just above
            room = await self._room(tx, queue)
            if not room:
                return []
            waiting = await tx.all(
                sa.select(handoffs).where(handoffs.c.state == "queued", handoffs.c.queue == queue,
                                          handoffs.c.assigned_to.is_(None))
                .order_by(handoffs.c.urgency.desc(), handoffs.c.created_at, handoffs.c.id)
                .limit(sum(room.values()))
                .with_for_update(skip_locked=True))  # a claim holds it: it will not wait long
            last, done = pointer["last_agent_id"], []
            for handoff in waiting:
                chosen = _next_after(sorted(a for a, n in room.items() if n > 0), last)
                if chosen is None:
                    break
                await self._set(tx, handoff, chosen, "auto", None)
                room[chosen] -= 1
                last = chosen
                done.append(handoff["id"])
            if done:
                await tx.run(assignment_pointers.update().where(assignment_pointers.c.queue == queue)
                             .values(last_agent_id=last, updated_at=tx.now))
            return done

        return await self._db.run(work)

    @staticmethod
    async def _room(tx: Tx, queue: str) -> Dict[str, int]:
        """Online members of ``queue`` and how many more conversations each can have, counting
        what is assigned to them and waiting; their rows locked, in id order (as claims lock them)."""
        members = sa.select(memberships.c.agent_id).where(memberships.c.queue == queue)
        rows = await tx.all(sa.select(agents.c.id, agents.c.capacity).where(
            agents.c.id.in_(members), agents.c.presence == "online", agents.c.active.is_(True)).order_by(agents.c.id).with_for_update())
        room = {}
        for row in rows:
            used = await tx.scalar(sa.select(load_of(row["id"]) + pending_of(row["id"])))
            if row["capacity"] > used:
                room[row["id"]] = int(row["capacity"] - used)
        return room


def _next_after(candidates: List[str], last: Optional[str]) -> Optional[str]:
    """The first candidate after ``last`` in id order, wrapping round: each gets a turn."""
    if not candidates:
        return None
    return next((c for c in candidates if last is None or c > last), candidates[0])
