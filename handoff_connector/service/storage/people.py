"""Administration of people: agents' profiles, accounts, roles and queues.

One set of operations for the CLI and the supervisors' admin page. Each takes
an ``actor``: the id of the signed-in agent, checked inside the transaction of
the change (a supervisor for accounts and queues; the agent themselves or a
supervisor for a profile), or ``None`` for the CLI, run by whoever holds the
configuration and the database. The rules hold for both: a new agent's id,
role, capacity and password are checked alike, and nobody deactivates,
demotes or removes the last active supervisor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa

from handoff_connector.service.credentials import HashingBusy, PasswordTooShort, hash_off_loop
from handoff_connector.service.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from handoff_connector.service.storage.accounts import (
    AGENT_ROW,
    Accounts,
    agent_from_row,
    load_of,
    lock_agent,
)
from handoff_connector.service.storage.caseload import lapse_assignments
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.schema import (
    agent_photos,
    agents,
    api_tokens,
    memberships,
    queues,
    sessions,
)

ROLES = ("agent", "supervisor")
MAX_CAPACITY = 100
NAME_MAX = 100
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_RULE = "1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit"


@dataclass
class Changes:
    """What an edit changes; ``None``: left as it is."""

    name: Optional[str] = None
    title: Optional[str] = None
    role: Optional[str] = None
    capacity: Optional[int] = None
    queues: Optional[List[str]] = None

    @property
    def administrative(self) -> bool:
        """Changes only a supervisor (or the CLI) may make: the profile's the agent may make too."""
        return self.role is not None or self.capacity is not None or self.queues is not None


def check_values(changes: Changes) -> None:
    """The same limits for the CLI and the HTTP routes; a BadRequest names the one broken."""
    if changes.name is not None and not 1 <= len(changes.name.strip()) <= NAME_MAX:
        raise BadRequest(f"A display name has 1 to {NAME_MAX} characters.")
    if changes.title is not None and len(changes.title) > NAME_MAX:
        raise BadRequest(f"A title has at most {NAME_MAX} characters.")
    if changes.role is not None and changes.role not in ROLES:
        raise BadRequest(f"A role is one of: {', '.join(ROLES)}.")
    if changes.capacity is not None and not 1 <= changes.capacity <= MAX_CAPACITY:
        raise BadRequest(f"A capacity is a whole number from 1 to {MAX_CAPACITY}.")


async def may_change(tx: Tx, actor: Optional[str], agent_id: str, own: bool = False) -> None:
    """Raises Forbidden unless ``actor`` may change ``agent_id``: a supervisor, the CLI, or (with
    ``own``: their profile and photo) the agent themselves."""
    if actor is None:
        return
    row = await tx.one(sa.select(agents.c.role, agents.c.active).where(agents.c.id == actor))
    if row is None or not row["active"]:
        raise Forbidden(f"Agent {actor!r} no longer exists or was deactivated; sign in again.")
    if row["role"] == "supervisor" or (own and actor == agent_id):
        return
    raise Forbidden("Only a supervisor can change other people's profiles, accounts and queues."
                    if own else "Only a supervisor can manage accounts and queues.")


async def _hashed(password: str) -> str:
    try:
        return await hash_off_loop(password)
    except PasswordTooShort as error:
        raise BadRequest(f"{error} Nothing was changed.") from error
    except HashingBusy as error:
        raise TooManyRequests(str(error), 1) from error


class People:
    def __init__(self, db: Database, events: EventLog, accounts: Accounts) -> None:
        self._db = db
        self._events = events
        self._accounts = accounts

    async def emit_in(self, tx: Tx, agent_id: str, change: str, actor: Optional[str]) -> None:
        row = await tx.one(AGENT_ROW.where(agents.c.id == agent_id))
        agent = await agent_from_row(tx, row, details=False)
        await self._events.emit(tx, "agent.changed", {
            "agent_id": agent_id, "change": change, "by": actor or "cli",
            "agent": agent.as_dict() if agent else None}, agent_id=agent_id)

    async def _locked(self, tx: Tx, agent_id: str) -> Dict[str, Any]:
        row = await lock_agent(tx, agent_id)
        if row is None:
            raise NotFound(f"No agent with id {agent_id!r}. GET /api/v1/agents lists them.")
        return row

    async def add(self, actor: Optional[str], agent_id: str, changes: Changes, password: str) -> None:
        """A new agent with a first password; ``changes`` holds every field (queues may be empty)."""
        if not ID_PATTERN.fullmatch(agent_id):
            raise BadRequest(f"An agent's id has {ID_RULE}.")
        check_values(changes)
        hashed = await _hashed(password)

        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id)
            if await tx.one(sa.select(agents.c.id).where(agents.c.id == agent_id)):
                raise Conflict(f"Agent {agent_id!r} exists already.")
            await tx.run(agents.insert().values(
                id=agent_id, name=changes.name, title=changes.title or "", role=changes.role or "agent",
                password_hash=hashed, capacity=changes.capacity or 3, created_at=tx.now))
            for queue in changes.queues or []:
                await self._add_member(tx, agent_id, queue)
            await self.emit_in(tx, agent_id, "added", actor)

        await self._db.run(work)

    async def update(self, actor: Optional[str], agent_id: str, changes: Changes) -> None:
        """A profile (name, title: the agent or a supervisor) and, for supervisors, role,
        capacity and queues (the given list replaces the agent's)."""
        check_values(changes)

        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id, own=not changes.administrative)
            row = await self._locked(tx, agent_id)
            if changes.role == "agent" and row["role"] == "supervisor":
                await self._not_last_supervisor(tx, row, "no longer be a supervisor")
            values = {k: v for k, v in (("name", changes.name), ("title", changes.title), ("role", changes.role),
                                        ("capacity", changes.capacity)) if v is not None}
            if values:
                await tx.run(agents.update().where(agents.c.id == agent_id).values(**values))
            if changes.queues is not None:
                await tx.run(memberships.delete().where(memberships.c.agent_id == agent_id))
                for queue in dict.fromkeys(changes.queues):
                    await self._add_member(tx, agent_id, queue)
            await self.emit_in(tx, agent_id, "profile" if not changes.administrative else "account", actor)

        await self._db.run(work)

    async def set_active(self, actor: Optional[str], agent_id: str, active: bool) -> None:
        """Deactivated: they cannot sign in, their sessions end and their API tokens stop letting
        them in, they go offline and what waits assigned to them lapses. The conversations
        they hold stay theirs (a supervisor transfers them). Reactivated: they sign in again."""
        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id)
            row = await self._locked(tx, agent_id)
            if bool(row["active"]) == active:
                return
            if not active:
                if actor == agent_id:
                    raise Conflict("You cannot deactivate yourself; ask another supervisor.")
                if row["role"] == "supervisor":
                    await self._not_last_supervisor(tx, row, "be deactivated")
                await tx.run(sessions.delete().where(sessions.c.agent_id == agent_id))
            await tx.run(agents.update().where(agents.c.id == agent_id).values(active=active))
            if not active:
                await self._accounts.change_presence_in(tx, row, "offline")
            await self.emit_in(tx, agent_id, "activated" if active else "deactivated", actor)

        await self._db.run(work)

    async def set_password(self, actor: Optional[str], agent_id: str, password: str) -> None:
        """A new password: the agent's sessions end and their API tokens are revoked."""
        hashed = await _hashed(password)

        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id)
            await self._locked(tx, agent_id)
            await tx.run(agents.update().where(agents.c.id == agent_id).values(password_hash=hashed))
            await tx.run(sessions.delete().where(sessions.c.agent_id == agent_id))
            await tx.run(api_tokens.update().where(api_tokens.c.agent_id == agent_id, api_tokens.c.revoked_at.is_(None))
                         .values(revoked_at=tx.now))
            await self.emit_in(tx, agent_id, "password", actor)

        await self._db.run(work)

    async def remove(self, actor: Optional[str], agent_id: str) -> None:
        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id)
            row = await self._locked(tx, agent_id)
            if row["role"] == "supervisor" and row["active"]:
                await self._not_last_supervisor(tx, row, "be removed")
            busy = await tx.scalar(sa.select(load_of(agent_id)))
            if busy:
                raise Conflict(f"Agent {agent_id!r} has {busy} open conversation(s); transfer or close them first.")
            await lapse_assignments(tx, self._events, agent_id, "removed")  # nobody waits for someone who left
            await tx.run(agent_photos.delete().where(agent_photos.c.agent_id == agent_id))
            await tx.run(agents.delete().where(agents.c.id == agent_id))

        await self._db.run(work)

    @staticmethod
    async def _not_last_supervisor(tx: Tx, row: Dict[str, Any], what: str) -> None:
        """Raises Conflict if ``row`` is the last active supervisor; the others' rows are locked
        (in id order) so that two supervisors stepping down at once cannot both succeed."""
        others = await tx.all(sa.select(agents.c.id).where(
            agents.c.role == "supervisor", agents.c.active.is_(True), agents.c.id != row["id"])
            .order_by(agents.c.id).with_for_update())
        if not others:
            raise Conflict(f"{row['name']} is the last active supervisor and cannot {what}; "
                           f"make someone else a supervisor first.")

    async def add_queue(self, actor: Optional[str], name: str, team: str) -> None:
        if not ID_PATTERN.fullmatch(name):
            raise BadRequest(f"A queue's name has {ID_RULE}.")
        if not 1 <= len(team.strip()) <= NAME_MAX:
            raise BadRequest(f"A team's name has 1 to {NAME_MAX} characters.")

        async def work(tx: Tx) -> None:
            await may_change(tx, actor, "")
            if await tx.one(sa.select(queues.c.name).where(queues.c.name == name)):
                raise Conflict(f"Queue {name!r} exists already.")
            await tx.run(queues.insert().values(name=name, team=team))

        await self._db.run(work)

    @staticmethod
    async def _add_member(tx: Tx, agent_id: str, queue: str) -> None:
        if not await tx.one(sa.select(queues.c.name).where(queues.c.name == queue)):
            raise NotFound(f"No queue named {queue!r}; add it first.")
        await tx.upsert(memberships, {"agent_id": agent_id, "queue": queue}, ["agent_id", "queue"])

    async def set_members(self, actor: Optional[str], agent_id: str, add: Sequence[str] = (),
                          remove: Sequence[str] = ()) -> None:
        """Adds ``agent_id`` to the queues of ``add`` and takes them off those of ``remove``."""
        async def work(tx: Tx) -> None:
            await may_change(tx, actor, agent_id)
            await self._locked(tx, agent_id)
            for queue in add:
                await self._add_member(tx, agent_id, queue)
            for queue in remove:
                await tx.run(memberships.delete().where(memberships.c.agent_id == agent_id,
                                                        memberships.c.queue == queue))
            await self.emit_in(tx, agent_id, "account", actor)

        await self._db.run(work)
