"""Saved replies: the team's (managed by supervisors) and each agent's own.

An agent sees their own replies and the team replies of their queues (those for
every team, ``queue`` null, too); a supervisor sees every team reply. Only its
owner changes a personal reply, only a supervisor a team reply: checked in the
change's own transaction. Shortcuts are unique among the team replies and among
each agent's own; an agent's own reply shadows a team reply with the same
shortcut for them. On PostgreSQL, changes take an advisory lock, so two at once
cannot both pass the shortcut check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict, Forbidden, NotFound
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.records import check_may_see, handoff_row
from handoff_connector.service.storage.schema import (
    agents,
    memberships,
    queues,
    saved_replies,
    saved_reply_seeds,
)

if TYPE_CHECKING:
    from handoff_connector.service.templates import SavedReply

SCOPES = ("team", "personal")
REPLIES_LOCK = 7_150_012  # pg_advisory_xact_lock key for changes to saved replies
_FIELDS = ("id", "scope", "owner_id", "queue", "shortcut", "title", "text", "created_by", "updated_at")


@dataclass(frozen=True)
class Draft:
    """A reply as an agent writes it (checked for form by the API: ``saved_replies_api``)."""

    scope: Optional[str]  # None (a change): it stays what it is
    shortcut: str
    title: str
    text: str
    queue: Optional[str] = None  # team replies: one queue's team, or None for every team


async def _lock(tx: Tx) -> None:
    if tx.postgres:
        await tx.run(sa.select(sa.func.pg_advisory_xact_lock(REPLIES_LOCK)))


async def _actor(tx: Tx, actor_id: str) -> Tuple[Dict[str, Any], List[str]]:
    """The acting agent's row and queues."""
    actor = await tx.one(sa.select(agents.c.id, agents.c.role).where(agents.c.id == actor_id))
    if actor is None:
        raise Forbidden(f"Agent {actor_id!r} no longer exists; sign in again.")
    member_of = await tx.all(sa.select(memberships.c.queue).where(memberships.c.agent_id == actor_id))
    return actor, [row["queue"] for row in member_of]


def _may_use(reply: Dict[str, Any], actor: Dict[str, Any], member_of: Sequence[str]) -> bool:
    if reply["scope"] == "personal":
        return bool(reply["owner_id"] == actor["id"])
    return actor["role"] == "supervisor" or reply["queue"] is None or reply["queue"] in member_of


def _may_edit(reply: Dict[str, Any], actor: Dict[str, Any]) -> bool:
    if reply["scope"] == "personal":
        return bool(reply["owner_id"] == actor["id"])
    return bool(actor["role"] == "supervisor")


def _check_may_edit(reply: Dict[str, Any], actor: Dict[str, Any]) -> None:
    if _may_edit(reply, actor):
        return
    if reply["scope"] == "personal":
        raise Forbidden(f"Saved reply {reply['id']} is someone else's own reply; only they can change it.")
    raise Forbidden("Only a supervisor can change a team reply; make a personal one instead.")


async def _reply(tx: Tx, reply_id: int) -> Dict[str, Any]:
    row = await tx.one(sa.select(saved_replies).where(saved_replies.c.id == reply_id))
    if row is None:
        raise NotFound(f"No saved reply with id {reply_id}. GET /api/v1/saved-replies lists yours.")
    return row


async def _check_shortcut(tx: Tx, draft: Draft, owner_id: Optional[str], reply_id: Optional[int]) -> None:
    """Unique among the team replies, or among the owner's own."""
    same = sa.select(saved_replies.c.id).where(saved_replies.c.shortcut == draft.shortcut,
                                               saved_replies.c.scope == draft.scope)
    if owner_id is not None:
        same = same.where(saved_replies.c.owner_id == owner_id)
    if reply_id is not None:
        same = same.where(saved_replies.c.id != reply_id)
    if await tx.one(same) is not None:
        whose = "a team reply" if draft.scope == "team" else "one of your own replies"
        raise Conflict(f"The shortcut /{draft.shortcut} is taken by {whose}; choose another.")


async def _check_queue(tx: Tx, queue: Optional[str]) -> None:
    if queue is not None and await tx.one(sa.select(queues.c.name).where(queues.c.name == queue)) is None:
        raise NotFound(f"Field `queue`: no queue named {queue!r}; GET /api/v1/queues lists them "
                       f"(leave it out for every team).")


def view(reply: Dict[str, Any], actor: Dict[str, Any], shadowed: bool = False) -> Dict[str, Any]:
    """A reply as the API shows it to ``actor``: may they change it, is it shadowed by one of theirs."""
    return {**{key: reply[key] for key in _FIELDS}, "may_edit": _may_edit(reply, actor), "shadowed": shadowed}


class SavedReplies:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def seed(self, replies: Sequence["SavedReply"]) -> List[str]:
        """The config's replies as team replies for every team, each the first time only (keyed on
        its shortcut): an edit or a deletion in the desk stays. Returns the shortcuts added."""
        async def work(tx: Tx) -> List[str]:
            await _lock(tx)
            seeded = {row["shortcut"] for row in await tx.all(sa.select(saved_reply_seeds.c.shortcut))}
            added = []
            for reply in replies:
                if reply.shortcut in seeded:
                    continue
                await tx.run(saved_reply_seeds.insert().values(shortcut=reply.shortcut, seeded_at=tx.now))
                draft = Draft("team", reply.shortcut, reply.title, reply.text)
                taken = await tx.one(sa.select(saved_replies.c.id).where(
                    saved_replies.c.scope == "team", saved_replies.c.shortcut == reply.shortcut))
                if taken is None:
                    await self._insert(tx, draft, None, "config")
                    added.append(reply.shortcut)
            return added

        return await self._db.run(work)

    async def visible(self, actor_id: str) -> List[Dict[str, Any]]:
        """What ``actor_id`` sees: their own and their teams' replies, by shortcut."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            actor, member_of = await _actor(tx, actor_id)
            rows = await tx.all(sa.select(saved_replies).where(sa.or_(
                saved_replies.c.owner_id == actor_id, saved_replies.c.scope == "team"))
                .order_by(saved_replies.c.shortcut, saved_replies.c.scope, saved_replies.c.id))
            mine = [r for r in rows if r["scope"] == "personal"]
            own = {r["shortcut"] for r in mine}
            team = [r for r in rows if r["scope"] == "team" and _may_use(r, actor, member_of)]
            listed = [view(r, actor) for r in mine] + [view(r, actor, r["shortcut"] in own) for r in team]
            return sorted(listed, key=lambda r: (r["shortcut"], r["scope"] == "team"))

        return await self._db.run(work)

    async def create(self, actor_id: str, draft: Draft) -> Dict[str, Any]:
        """A personal reply for ``actor_id``, or a team reply if they are a supervisor."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _lock(tx)
            actor, _ = await _actor(tx, actor_id)
            if draft.scope == "team" and actor["role"] != "supervisor":
                raise Forbidden("Only a supervisor can add a team reply; make a personal one instead.")
            await _check_queue(tx, draft.queue if draft.scope == "team" else None)
            owner = actor_id if draft.scope == "personal" else None
            await _check_shortcut(tx, draft, owner, None)
            return view(await self._insert(tx, draft, owner, f"agent:{actor_id}"), actor)

        return await self._db.run_keyed(work)

    async def update(self, reply_id: int, actor_id: str, draft: Draft) -> Dict[str, Any]:
        """Its shortcut, title, text (and a team reply's queue); its scope stays."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _lock(tx)
            actor, _ = await _actor(tx, actor_id)
            reply = await _reply(tx, reply_id)
            _check_may_edit(reply, actor)
            if draft.scope not in (None, reply["scope"]):
                raise Conflict(f"Saved reply {reply_id} is a {reply['scope']} reply and stays one; make a new "
                               f"{draft.scope} reply instead.")
            team = reply["scope"] == "team"
            await _check_queue(tx, draft.queue if team else None)
            await _check_shortcut(tx, replace(draft, scope=reply["scope"]), reply["owner_id"], reply_id)
            await tx.run(saved_replies.update().where(saved_replies.c.id == reply_id).values(
                shortcut=draft.shortcut, title=draft.title, text=draft.text,
                queue=draft.queue if team else None, updated_at=tx.now))
            return view(await _reply(tx, reply_id), actor)

        return await self._db.run_keyed(work)

    async def delete(self, reply_id: int, actor_id: str) -> None:
        async def work(tx: Tx) -> None:
            await _lock(tx)
            actor, _ = await _actor(tx, actor_id)
            _check_may_edit(await _reply(tx, reply_id), actor)
            await tx.run(saved_replies.delete().where(saved_replies.c.id == reply_id))

        await self._db.run(work)

    async def for_handoff(self, handoff_id: str, reply_id: int,
                          actor_id: str) -> Tuple[Dict[str, Any], Dict[str, Any], Optional[str]]:
        """The reply, the handoff and its queue's team, if ``actor_id`` may see both (checked together)."""
        async def work(tx: Tx) -> Tuple[Dict[str, Any], Dict[str, Any], Optional[str]]:
            handoff = await handoff_row(tx, handoff_id)
            await check_may_see(tx, actor_id, handoff)
            actor, member_of = await _actor(tx, actor_id)
            reply = await _reply(tx, reply_id)
            if not _may_use(reply, actor, member_of):
                raise Forbidden(f"Saved reply {reply_id} is not one of yours nor your teams'.")
            team = await tx.scalar(sa.select(queues.c.team).where(queues.c.name == handoff["queue"]))
            return reply, handoff, team

        return await self._db.run(work)

    @staticmethod
    async def _insert(tx: Tx, draft: Draft, owner_id: Optional[str], created_by: str) -> Dict[str, Any]:
        row = await tx.one(saved_replies.insert().values(
            scope=draft.scope, owner_id=owner_id, queue=draft.queue if draft.scope == "team" else None,
            shortcut=draft.shortcut, title=draft.title, text=draft.text, created_by=created_by,
            updated_at=tx.now).returning(*saved_replies.c))
        assert row is not None  # RETURNING the row just inserted
        return row
