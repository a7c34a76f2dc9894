"""Handoffs: created, claimed, transferred, closed, turned into follow-ups, resumed.

Each change is one transaction that locks the handoff's row, checks the state
and who may act (ownership, queue membership, capacity) and writes everything
the change implies. Of concurrent claims exactly one wins; a claim also locks
the agent's row, so an agent's capacity holds across instances.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.common.wording import iso_utc
from handoff_connector.service.credentials import token_digest
from handoff_connector.service.errors import Conflict, NotFound, Unprocessable
from handoff_connector.service.storage.accounts import check_capacity, lock_agent
from handoff_connector.service.storage.caseload import clear_assignment
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.outbox import enqueue
from handoff_connector.service.storage.records import (
    OPEN_STATES,
    agent_message,
    check_may_act,
    check_may_see,
    emit_handoff,
    handoff_row,
    insert_message,
    oldest_first,
    transition,
)
from handoff_connector.service.storage.schema import agents, handoffs, messages, queues
from handoff_connector.service.storage.urgency import Change
from handoff_connector.service.storage.urgency import apply as apply_urgency

Outgoing = List[Tuple[str, Dict[str, Any]]]  # (author id, outbox payload) for the user
# A claim: the handoff is the agent's from now, and how long it waited for the first is kept.
_CLAIMED = handoffs.update().where(handoffs.c.id == sa.bindparam("hid")).values(
    state="assigned", agent_id=sa.bindparam("agent"), claimed_at=sa.bindparam("now"),
    first_wait=sa.func.coalesce(handoffs.c.first_wait, sa.bindparam("now") - handoffs.c.created_at),
).returning(*handoffs.c)


class Handoffs:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def create(
        self, key: str, sender_id: str, channel: Optional[str], queue: str,
        trigger: str, reasons: List[str], context: Dict[str, Any], urgency: Optional[Change] = None,
    ) -> Tuple[Dict[str, Any], bool]:
        """Creates a queued handoff; with a known ``key`` returns the first one.

        ``urgency``: what a signal found in the context, set (and its message for the
        user queued) in the same transaction.

        A conversation has one open handoff at most (a unique index holds it
        against concurrent requests): asking again returns the open one.
        """
        scoped = f"{sender_id}\n{key}"  # another bot client's same key is another request
        digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest()
        by_key = sa.select(handoffs).where(handoffs.c.idempotency_key == scoped)

        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool]:
            again = await tx.one(by_key)
            if again is not None and again["request_digest"] not in (None, digest):
                raise Unprocessable("This Idempotency-Key was used for a different request in this "
                                    "conversation; use a new key for a new request.")
            existing = again or await tx.one(open_of(sender_id))
            if existing:
                return existing, False
            handoff_id = uuid.uuid4().hex
            await tx.run(handoffs.insert().values(
                id=handoff_id, idempotency_key=scoped, request_digest=digest, sender_id=sender_id,
                channel=channel, queue=queue,
                state="queued", trigger=trigger, reasons=reasons, context=context, created_at=tx.now,
                last_user_at=tx.now))
            await transition(tx, handoff_id, None, "requested", "bot")
            await transition(tx, handoff_id, "requested", "queued", "bot")
            handoff = await handoff_row(tx, handoff_id)
            if urgency is not None:  # the created event says it: no event of its own
                handoff = await apply_urgency(tx, self._events, handoff, urgency, announce=False)
            await emit_handoff(self._events, tx, "handoff.created", handoff)
            return handoff, True

        return await self._db.run_keyed(work)

    async def get(self, handoff_id: str) -> Dict[str, Any]:
        return await self._db.read(lambda tx: handoff_row(tx, handoff_id))

    async def get_visible(self, handoff_id: str, actor_id: str) -> Dict[str, Any]:
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id)
            await check_may_see(tx, actor_id, handoff)
            return handoff

        return await self._db.read(work)

    async def open_for(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The sender's open handoff, if any."""
        return await self._db.run(lambda tx: tx.one(open_of(sender_id)))

    async def in_states(self, states: Sequence[str]) -> List[Dict[str, Any]]:
        """Id and conversation of every handoff in ``states``."""
        return await self._db.run(lambda tx: tx.all(
            sa.select(handoffs.c.id, handoffs.c.sender_id).where(handoffs.c.state.in_(states))
            .order_by(handoffs.c.id)))

    async def list_queue(self, names: Optional[List[str]], limit: Optional[int] = None,
                         after: Optional[Tuple[int, float, str]] = None,
                         first_for: Optional[str] = None) -> Tuple[List[Dict[str, Any]], int]:
        """Queued handoffs, the most urgent first, then oldest first (``None`` names: every
        queue): up to ``limit`` of them after the place ``after`` (a handoff's urgency,
        created_at and id), and how many wait in all.

        With ``first_for`` (an agent), the first page starts with what is assigned to them
        (their own caseload first; a few at most) and the pages leave those out.
        """
        statement = oldest_first("queued", names)
        mine = None
        if first_for is not None:
            assigned = handoffs.c.assigned_to == first_for
            mine = statement.where(assigned) if after is None else None
            statement = statement.where(sa.or_(handoffs.c.assigned_to.is_(None), sa.not_(assigned)))
        if after is not None:
            urgency, created_at, handoff_id = after
            statement = statement.where(sa.or_(
                handoffs.c.urgency < urgency, sa.and_(handoffs.c.urgency == urgency, sa.or_(
                    handoffs.c.created_at > created_at,
                    sa.and_(handoffs.c.created_at == created_at, handoffs.c.id > handoff_id)))))
        if limit is not None:
            statement = statement.limit(limit)
        total = sa.select(sa.func.count()).select_from(handoffs).where(handoffs.c.state == "queued")
        if names is not None:
            total = total.where(handoffs.c.queue.in_(names))

        async def work(tx: Tx) -> Tuple[List[Dict[str, Any]], int]:
            own = await tx.all(mine) if mine is not None else []
            return own + await tx.all(statement), int(await tx.scalar(total))

        return await self._db.read(work)

    async def list_tickets(self, names: Optional[List[str]]) -> List[Dict[str, Any]]:
        return await self._db.read(lambda tx: tx.all(oldest_first("no_agent", names)))

    async def list_assigned(self, agent_id: Optional[str]) -> List[Dict[str, Any]]:
        """Assigned handoffs, of one agent or (``None``) of everyone."""
        statement = sa.select(handoffs).where(handoffs.c.state == "assigned")
        if agent_id is not None:
            statement = statement.where(handoffs.c.agent_id == agent_id)
        return await self._db.read(lambda tx: tx.all(statement.order_by(handoffs.c.claimed_at)))

    async def claim(self, handoff_id: str, agent_id: str,
                    introduction: Optional[Dict[str, Any]] = None, take_anyway: bool = False) -> Dict[str, Any]:
        """Assigns a queued handoff; exactly one of concurrent claims wins.

        ``introduction`` (an outbox payload) is queued for the user in the same
        transaction, so the agent is introduced exactly once. One a supervisor
        assigned to someone else is refused unless ``take_anyway`` (then recorded).
        """
        async def work(tx: Tx) -> Dict[str, Any]:
            # Concurrent claims wait for the row, then see it is taken: one winner.
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_see(tx, agent_id, handoff)
            if handoff["state"] != "queued":
                owner = f" to {handoff['agent_id']}" if handoff["agent_id"] else ""
                raise Conflict(f"This conversation is already {handoff['state']}{owner}; only a waiting "
                               f"one can be claimed.")
            if handoff["assigned_to"] not in (None, agent_id) and not take_anyway:
                name = await tx.scalar(sa.select(agents.c.name).where(agents.c.id == handoff["assigned_to"]))
                raise Conflict(f"This conversation is assigned to {name or handoff['assigned_to']}; leave it to "
                               f"them, or send {{\"take_anyway\": true}} to take it anyway (it is recorded).")
            await check_capacity(tx, agent_id)
            assigned_before = handoff["assigned_to"]
            taken = await clear_assignment(tx, handoff, agent_id)
            claimed = await tx.one(_CLAIMED, {"hid": handoff_id, "agent": agent_id, "now": tx.now})
            assert claimed is not None  # locked above
            handoff = claimed
            await transition(tx, handoff_id, "queued", "assigned", f"agent:{agent_id}")
            # The user may have been told nobody was free and still be choosing:
            # from now on their messages go to the agent.
            await enqueue(tx, handoff, "slots", {"handoff_id": handoff_id, "handoff_pending": None})
            if introduction is not None:
                await agent_message(self._events, tx, handoff, agent_id, introduction, None)
            # Taken anyway: the agent it was assigned to hears of it too.
            await emit_handoff(self._events, tx, "handoff.assigned", handoff,
                               previous_agent_id=assigned_before if taken else None, taken_anyway=taken,
                               taken_from=assigned_before if taken else None)
            return handoff

        return await self._db.run(work)

    async def transfer(
        self, handoff_id: str, actor_id: str, note: Optional[str], to_agent: Optional[str] = None,
        to_queue: Optional[str] = None, messages_for_user: Optional[Outgoing] = None,
        also: Optional[Callable[[Tx], Awaitable[None]]] = None,
    ) -> Dict[str, Any]:
        """Moves an assigned handoff to another agent or back to a queue, atomically.

        ``messages_for_user``: the outgoing agent's message and, to an agent, the
        incoming one's introduction. ``also``: more of the same change, in its
        transaction (a supervisor taking over ends the help request). On any
        failure nothing changes.
        """
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_act(tx, actor_id, handoff, "transfer")
            if handoff["state"] != "assigned":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only an assigned "
                               f"handoff can be transferred.")
            previous = handoff["agent_id"]
            if to_agent is not None:
                await self._to_agent(tx, handoff, to_agent)
            else:
                if not await tx.one(sa.select(queues.c.name).where(queues.c.name == to_queue)):
                    raise NotFound(f"No queue named {to_queue!r}.")
                await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
                    state="queued", agent_id=None, queue=to_queue, claimed_at=None))
            actor = f"agent:{actor_id}"
            await transition(tx, handoff_id, "assigned", "transferred", actor)
            await transition(tx, handoff_id, "transferred", "assigned" if to_agent else "queued", actor)
            if note:
                await insert_message(tx, handoff_id, "note", actor_id, note, None)
            for author, payload in messages_for_user or []:
                await agent_message(self._events, tx, handoff, author, payload, None)
            if also is not None:
                await also(tx)
            moved = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.transferred", moved, previous_agent_id=previous,
                               from_agent=previous, to_agent=to_agent, to_queue=to_queue, note=note)
            return moved

        return await self._db.run(work)

    @staticmethod
    async def _to_agent(tx: Tx, handoff: Dict[str, Any], to_agent: str) -> None:
        target = await lock_agent(tx, to_agent)  # presence and capacity as of this transaction
        if target is None:
            raise NotFound(f"No agent with id {to_agent!r}.")
        if to_agent == handoff["agent_id"]:
            raise Conflict(f"Handoff {handoff['id']} is already with {to_agent}.")
        if target["presence"] != "online":
            raise Conflict(f"{target['name']} is {target['presence']}; transfer to someone "
                           f"online, or to a queue.")
        await check_capacity(tx, to_agent)
        await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(
            agent_id=to_agent, claimed_at=tx.now))

    async def close(
        self, handoff_id: str, actor_id: str, resolution: str, note: Optional[str],
        outbox_payload: Dict[str, Any], messages_for_user: Optional[Outgoing] = None,
        resume_token: Optional[str] = None, resume_seconds: float = 7 * 24 * 3600,
    ) -> Dict[str, Any]:
        """Closes an assigned handoff and queues the return to the bot.

        A follow-up ticket (``no_agent``) closes too, with nothing sent: its
        user is not waiting in the chat. ``messages_for_user`` go to the user first.
        """
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_see(tx, actor_id, handoff)
            if handoff["state"] not in ("assigned", "no_agent"):
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only an assigned "
                               f"handoff or a follow-up can be closed.")
            await check_may_act(tx, actor_id, handoff, "close")
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
                state="closed", resolution=resolution, close_note=note, closed_at=tx.now,
                resume_token=token_digest(resume_token) if resume_token else None,  # stored hashed
                resume_expires_at=tx.now + resume_seconds if resume_token else None))
            await transition(tx, handoff_id, handoff["state"], "closed", f"agent:{actor_id}")
            if handoff["state"] == "assigned":
                for author, payload in messages_for_user or []:
                    await agent_message(self._events, tx, handoff, author, payload, None)
                await enqueue(tx, handoff, "close", outbox_payload)
            closed = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.closed", closed)
            return closed

        return await self._db.run(work)

    async def to_ticket(self, handoff_id: str, contact: str) -> Dict[str, Any]:
        """Nobody could take it: a follow-up ticket with the user's contact."""
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            if handoff["state"] == "no_agent" and handoff["contact"] == contact:
                return handoff  # a retry
            if handoff["state"] != "queued":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only a waiting "
                               f"handoff can become a follow-up.")
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
                state="no_agent", contact=contact))
            await transition(tx, handoff_id, "queued", "no_agent", "user")
            ticket = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.ticket", ticket)
            return ticket

        return await self._db.run(work)

    async def cancel(self, handoff_id: str) -> Dict[str, Any]:
        """The user went back to the bot while waiting."""
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            if handoff["state"] != "queued":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only a waiting "
                               f"handoff can be cancelled.")
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(
                state="cancelled", closed_at=tx.now))
            await transition(tx, handoff_id, "queued", "cancelled", "user")
            cancelled = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.cancelled", cancelled)
            return cancelled

        return await self._db.run(work)

    async def mark_returned(self, handoff_id: str) -> None:
        async def work(tx: Tx) -> None:
            if await tx.run(handoffs.update().where(handoffs.c.id == handoff_id, handoffs.c.state == "closed")
                            .values(state="returned")):
                await transition(tx, handoff_id, "closed", "returned", "bot")
                await emit_handoff(self._events, tx, "handoff.returned", await handoff_row(tx, handoff_id))

        await self._db.run(work)

    async def resumable(self, token: str) -> Optional[Dict[str, Any]]:
        """The closed handoff behind a live link, with its agent's name; else None."""
        return await self._db.run(lambda tx: tx.one(
            sa.select(handoffs.c.id, agents.c.name.label("agent_name"))
            .select_from(handoffs.outerjoin(agents, agents.c.id == handoffs.c.agent_id))
            .where(handoffs.c.resume_token == token_digest(token), handoffs.c.resume_expires_at >= tx.now)))

    async def resume(self, token: str) -> Dict[str, Any]:
        """Opens a new handoff from a closed one's link, with the same agent.

        The agent gets it directly ("assigned to you") when they exist and are
        not offline; otherwise it waits in the same queue. Single use.
        """
        async def work(tx: Tx) -> Dict[str, Any]:
            digest = token_digest(token)
            old = await tx.one(sa.select(handoffs).where(handoffs.c.resume_token == digest).with_for_update())
            if old is None or (old["resume_expires_at"] or 0) < tx.now:
                raise NotFound("This link is unknown or has expired. You can still ask the assistant "
                               "for a person.")
            current = await tx.one(open_of(old["sender_id"]))
            if current is not None:
                return current  # already talking with the team: the link stays usable for later
            await tx.run(handoffs.update().where(handoffs.c.id == old["id"]).values(resume_token=None))
            return await reopen(self._events, tx, old, old["agent_id"], "resume", "resume_link", f"resume:{digest}")

        return await self._db.run_keyed(work)


async def reopen(events: EventLog, tx: Tx, old: Dict[str, Any], agent_id: Optional[str], trigger: str,
                 reason: str, key: str) -> Dict[str, Any]:
    """A new handoff that goes on with ``old``'s conversation, for ``agent_id``.

    The agent gets it directly ("assigned to you") when they exist and are not
    offline; otherwise it waits in the same queue.
    """
    agent = await tx.one(sa.select(agents).where(agents.c.id == agent_id))
    assign = agent is not None and agent["active"] and agent["presence"] != "offline"
    handoff_id = uuid.uuid4().hex
    await tx.run(handoffs.insert().values(
        id=handoff_id, idempotency_key=key, sender_id=old["sender_id"],
        channel=old["channel"], queue=old["queue"], state="assigned" if assign else "queued",
        trigger=trigger, reasons=[reason], context=await _resumed_context(tx, old),
        agent_id=agent_id if assign else None, created_at=tx.now,
        claimed_at=tx.now if assign else None, last_user_at=tx.now))
    await transition(tx, handoff_id, None, "requested", "user")
    await transition(tx, handoff_id, "requested", "queued", "user")
    if assign:
        await transition(tx, handoff_id, "queued", "assigned", "link")
    handoff = await handoff_row(tx, handoff_id)
    team = await tx.scalar(sa.select(queues.c.team).where(queues.c.name == old["queue"]))
    # Rasa must know before the user's next message: it goes to the agent.
    await enqueue(tx, handoff, "slots", {"handoff_id": handoff_id, "handoff_team": team})
    await emit_handoff(events, tx, "handoff.assigned" if assign else "handoff.created", handoff)
    return handoff


def open_of(sender_id: str) -> sa.Select[Any]:
    """The conversation's open handoff (there is one at most)."""
    return sa.select(handoffs).where(handoffs.c.sender_id == sender_id, handoffs.c.state.in_(OPEN_STATES))


async def _resumed_context(tx: Tx, old: Dict[str, Any]) -> Dict[str, Any]:
    """The old context, with the old conversation's messages added to its transcript."""
    earlier = await tx.all(
        sa.select(messages.c.role, messages.c.author, messages.c.text, messages.c.created_at)
        .where(messages.c.handoff_id == old["id"], messages.c.role.in_(("user", "agent")))
        .order_by(messages.c.id))
    return {**old["context"], "resumed_from": old["id"], "transcript": (
        old["context"].get("transcript") or []) + [
        {"role": m["role"], "author": m["author"], "text": m["text"],
         "timestamp": iso_utc(m["created_at"])} for m in earlier]}
