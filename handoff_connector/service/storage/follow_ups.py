"""Follow-ups: what an agent owns after the chat, due at a time, open until done.

A follow-up belongs to a conversation (the handoff it was made in) and to an
owner (its maker, or whom a supervisor names). Its link, sent to the user in the
chat or by email, brings the user back to the owner as a new conversation (the
follow-up "answered"). Every change is checked in its own transaction: who may
see the conversation may make one; only its owner or a supervisor changes it;
an owner must be able to see the conversation (a member of its queue, or a
supervisor).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.credentials import token_digest
from handoff_connector.service.errors import Conflict, Forbidden, NotFound, Unprocessable
from handoff_connector.service.storage.accounts import lock_agent
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.dispatches import enqueue as dispatch
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.handoffs import open_of, reopen
from handoff_connector.service.storage.records import agent_message, check_may_act, check_may_see, handoff_row
from handoff_connector.service.storage.schema import agents, follow_ups, handoffs, memberships

F = follow_ups.c
STATES = ("open", "done")
Outgoing = Dict[str, Any]


def view(row: Dict[str, Any]) -> Dict[str, Any]:
    return {key: row[key] for key in (
        "id", "handoff_id", "owner_id", "created_by", "note", "due_at", "state", "email",
        "conversation_id", "answered_at", "created_at", "updated_at", "done_at", "done_by")} | {
        "owner_name": row.get("owner_name"), "queue": row.get("queue"), "sender_id": row.get("sender_id")}


_LISTED = (sa.select(follow_ups, agents.c.name.label("owner_name"), handoffs.c.queue, handoffs.c.sender_id)
           .select_from(follow_ups.join(handoffs, handoffs.c.id == F.handoff_id)
                        .outerjoin(agents, agents.c.id == F.owner_id)))


async def _row(tx: Tx, follow_up_id: int, lock: bool = False) -> Dict[str, Any]:
    statement = sa.select(follow_ups).where(F.id == follow_up_id)
    found = await tx.one(statement.with_for_update() if lock else statement)
    if found is None:
        raise NotFound(f"No follow-up with id {follow_up_id}. List follow-ups for valid ids.")
    return found


async def _listed(tx: Tx, follow_up_id: int) -> Dict[str, Any]:
    return view(await tx.one(_LISTED.where(F.id == follow_up_id)) or {})


async def _check_owner(tx: Tx, owner_id: str, handoff: Dict[str, Any]) -> None:
    owner = await lock_agent(tx, owner_id)  # a deactivation at the same time waits, or is seen
    if owner is None:
        raise Unprocessable(f"No agent {owner_id!r} to own the follow-up.")
    if not owner["active"]:
        raise Conflict(f"{owner_id} is deactivated, so cannot own a follow-up.")
    if owner["role"] != "supervisor" and await tx.one(sa.select(memberships.c.agent_id).where(
            memberships.c.agent_id == owner_id, memberships.c.queue == handoff["queue"])) is None:
        raise Conflict(f"{owner_id} is not in the {handoff['queue']} queue, so cannot own its follow-up.")


async def _emit(events: EventLog, tx: Tx, kind: str, follow_up_id: int,
                previous_owner: Optional[str] = None) -> Dict[str, Any]:
    listed = await _listed(tx, follow_up_id)
    await events.emit(tx, kind, {"follow_up": listed, "previous_owner": previous_owner},
                      handoff_id=listed["handoff_id"], queue=listed["queue"],
                      agent_id=listed["owner_id"], previous_agent_id=previous_owner)
    return listed


class FollowUps:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def create(self, actor_id: str, handoff_id: str, owner_id: str, note: str, due_at: float,
                     email: Optional[str], link_token: str, link_seconds: float,
                     chat: Optional[Outgoing] = None, mail: Optional[Outgoing] = None) -> Dict[str, Any]:
        """A follow-up of the conversation; ``chat`` (an agent message) goes to the user in the
        chat, ``mail`` (an email) by email, both in this transaction."""
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_act(tx, actor_id, handoff, "make a follow-up of")
            actor = await check_may_see(tx, actor_id, handoff)
            if owner_id != actor_id and actor["role"] != "supervisor":
                raise Forbidden("Only a supervisor can make a follow-up for someone else.")
            await _check_owner(tx, owner_id, handoff)
            if chat is not None and handoff["state"] != "assigned":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}: the user is not in the chat "
                               f"with you, so the follow-up cannot be sent there (send it by email).")
            follow_up_id = int(await tx.scalar(follow_ups.insert().values(
                handoff_id=handoff_id, owner_id=owner_id, created_by=actor_id, note=note, due_at=due_at,
                state="open", email=email, link_token=token_digest(link_token),
                link_expires_at=tx.now + link_seconds, created_at=tx.now, updated_at=tx.now).returning(F.id)))
            if chat is not None:
                await agent_message(self._events, tx, handoff, actor_id, chat, None)
            if mail is not None:
                await dispatch(tx, "email", mail, handoff_id, follow_up_id, actor_id)
            return await _emit(self._events, tx, "follow_up.created", follow_up_id)

        return await self._db.run(work)

    async def update(self, actor_id: str, follow_up_id: int, changes: Dict[str, Any]) -> Dict[str, Any]:
        """``changes``: state, note, due_at, owner_id; only the owner or a supervisor."""
        async def work(tx: Tx) -> Dict[str, Any]:
            row = await _row(tx, follow_up_id, lock=True)
            handoff = await handoff_row(tx, row["handoff_id"])
            actor = await tx.one(sa.select(agents.c.role).where(agents.c.id == actor_id))
            if actor is None or (actor["role"] != "supervisor" and row["owner_id"] != actor_id):
                raise Forbidden(f"Follow-up {follow_up_id} is {row['owner_id']}'s; only they or a "
                                f"supervisor can change it.")
            values: Dict[str, Any] = {key: changes[key] for key in ("note", "due_at") if key in changes}
            if "owner_id" in changes and changes["owner_id"] != row["owner_id"]:
                if actor["role"] != "supervisor":
                    raise Forbidden("Only a supervisor can give a follow-up to someone else.")
                await _check_owner(tx, changes["owner_id"], handoff)
                values["owner_id"] = changes["owner_id"]
            state = changes.get("state", row["state"])
            if state != row["state"]:
                values.update(state=state, done_at=tx.now if state == "done" else None,
                              done_by=actor_id if state == "done" else None)
            if not values:
                return await _listed(tx, follow_up_id)
            await tx.run(follow_ups.update().where(F.id == follow_up_id).values(updated_at=tx.now, **values))
            kind = "follow_up.done" if values.get("state") == "done" else "follow_up.updated"
            return await _emit(self._events, tx, kind, follow_up_id, previous_owner=row["owner_id"])

        return await self._db.run(work)

    async def get(self, actor_id: str, follow_up_id: int) -> Dict[str, Any]:
        async def work(tx: Tx) -> Dict[str, Any]:
            row = await _row(tx, follow_up_id)
            handoff = await handoff_row(tx, row["handoff_id"])
            if row["owner_id"] != actor_id:
                await check_may_see(tx, actor_id, handoff)
            return await _listed(tx, follow_up_id)

        return await self._db.run(work)

    async def listing(self, actor_id: str, owner: Optional[str], state: Optional[str],
                      handoff_id: Optional[str] = None, limit: int = 200) -> List[Dict[str, Any]]:
        """Follow-ups the actor may see (their own; their queues'; a supervisor all), soonest due first."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            actor = await tx.one(sa.select(agents.c.role).where(agents.c.id == actor_id))
            if actor is None:
                raise Forbidden(f"Agent {actor_id!r} no longer exists; sign in again.")
            statement = _LISTED
            if actor["role"] != "supervisor":
                mine = sa.select(memberships.c.queue).where(memberships.c.agent_id == actor_id)
                statement = statement.where(sa.or_(F.owner_id == actor_id, handoffs.c.queue.in_(mine)))
            if owner is not None:
                statement = statement.where(F.owner_id == owner)
            if state is not None:
                statement = statement.where(F.state == state)
            if handoff_id is not None:
                statement = statement.where(F.handoff_id == handoff_id)
            rows = await tx.all(statement.order_by(F.state.desc(), F.due_at, F.id).limit(limit))
            return [view(row) for row in rows]

        return await self._db.run(work)

    async def waiting(self, token: str) -> Optional[Dict[str, Any]]:
        """The follow-up behind a live link, with its owner's name; else None."""
        return await self._db.run(lambda tx: tx.one(
            _LISTED.where(F.link_token == token_digest(token), F.link_expires_at >= tx.now)))

    async def answer(self, token: str) -> Dict[str, Any]:
        """The user came back through the link: a new conversation with the owner. Single use."""
        async def work(tx: Tx) -> Dict[str, Any]:
            row = await tx.one(sa.select(follow_ups).where(F.link_token == token_digest(token)).with_for_update())
            if row is None or (row["link_expires_at"] or 0) < tx.now:
                raise NotFound("This link is unknown or has expired. You can still ask the assistant "
                               "for a person.")
            old = await handoff_row(tx, row["handoff_id"])
            current = await tx.one(open_of(old["sender_id"]))
            if current is not None:
                return current  # already talking with the team: the link stays usable for later
            handoff = await reopen(self._events, tx, old, row["owner_id"], "follow_up", "follow_up",
                                   f"follow_up:{row['id']}")
            await tx.run(follow_ups.update().where(F.id == row["id"]).values(
                link_token=None, conversation_id=handoff["id"], answered_at=tx.now, updated_at=tx.now))
            await _emit(self._events, tx, "follow_up.answered", row["id"])
            return handoff

        return await self._db.run_keyed(work)

