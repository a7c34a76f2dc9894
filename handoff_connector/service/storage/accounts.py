"""Agents, queues, memberships, sign-in sessions, presence and open desks.

Repeated failed logins for one account are slowed down with a growing
lock-out. Presence is shared by every instance: an agent goes offline when
their last desk socket closes, wherever it was open.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional
from urllib.parse import quote

import sqlalchemy as sa

from handoff_connector.service.credentials import (
    HashingBusy,
    hash_password,
    new_token,
    token_digest,
    verify_off_loop,
)
from handoff_connector.service.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from handoff_connector.service.storage.caseload import lapse_assignments
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.schema import (
    agent_photos,
    agents,
    api_tokens,
    desk_sockets,
    handoffs,
    login_failures,
    memberships,
    queues,
    sessions,
    surveys,
)

if TYPE_CHECKING:
    from handoff_connector.service.config import Config

PRESENCE = ("online", "away", "offline")
SESSION_SECONDS = 12 * 3600
FREE_FAILURES = 3  # attempts at one login from one address before the lock-out starts
FREE_FROM_ADDRESS = 20  # attempts at any login from one address
FREE_FOR_LOGIN = 50  # attempts at one login from anywhere
MAX_LOCK_SECONDS = 300
FORGET_SECONDS = 900  # a counter with no attempt for this long starts again
SEED_LOCK = 7_150_003  # pg_advisory_xact_lock key for seeding from the config
API_TOKEN_DAYS = 90  # an API token's life unless told otherwise (the config's too)
MAX_API_TOKEN_DAYS = 366


@dataclass
class Agent:
    id: str
    name: str
    title: str
    role: str
    capacity: int
    presence: str = "offline"
    queues: List[str] = field(default_factory=list)
    load: int = 0
    survey_count: int = 0
    survey_average: Optional[float] = None
    active: bool = True
    photo_version: Optional[str] = None

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def photo_url(self) -> Optional[str]:
        """Where the web chat and the desk fetch the photo: by its version (a digest of its
        bytes), a new URL for each new photo, and no login id for a user's page to see."""
        if self.photo_version is None:
            return None
        return f"/api/v1/photos/{quote(self.photo_version, safe='')}"

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "title": self.title, "role": self.role,
                "capacity": self.capacity, "presence": self.presence, "queues": self.queues,
                "load": self.load, "active": self.active, "photo": self.photo_url,
                "survey": {"count": self.survey_count, "average": self.survey_average}}


# The agent's photo version beside their row: one query for who they are and how they look.
PHOTO_VERSION = (sa.select(agent_photos.c.version).where(agent_photos.c.agent_id == agents.c.id)
                 .scalar_subquery().label("photo_version"))
AGENT_ROW = sa.select(agents, PHOTO_VERSION)
_QUEUES_OF = (sa.select(memberships.c.queue).where(memberships.c.agent_id == sa.bindparam("id"))
              .order_by(memberships.c.queue))
_AGENT_LOCKED = sa.select(agents).where(agents.c.id == sa.bindparam("id")).with_for_update()


def load_of(agent_id: Any) -> sa.ScalarSelect[Any]:
    """The number of conversations assigned to ``agent_id`` (a value or a column)."""
    return (sa.select(sa.func.count()).select_from(handoffs)
            .where(handoffs.c.agent_id == agent_id, handoffs.c.state == "assigned").scalar_subquery())


async def agent_from_row(tx: Tx, row: Optional[Dict[str, Any]], details: bool = True) -> Optional[Agent]:
    """The agent; without ``details`` only who they are and their queues (what access checks need)."""
    if row is None:
        return None
    member_of = [r["queue"] for r in await tx.all(_QUEUES_OF, {"id": row["id"]})]
    active, photo = bool(row["active"]), row.get("photo_version")
    if not details:
        return Agent(row["id"], row["name"], row["title"], row["role"], row["capacity"], row["presence"], member_of,
                     active=active, photo_version=photo)
    load = await tx.scalar(sa.select(load_of(row["id"])))
    survey = await tx.one(
        sa.select(sa.func.count(surveys.c.rating).label("n"), sa.func.avg(surveys.c.rating).label("average"))
        .select_from(surveys.join(handoffs, handoffs.c.id == surveys.c.handoff_id))
        .where(handoffs.c.agent_id == row["id"], surveys.c.skipped == 0))
    assert survey is not None
    average = round(float(survey["average"]), 2) if survey["average"] is not None else None
    return Agent(row["id"], row["name"], row["title"], row["role"], row["capacity"], row["presence"],
                 member_of, int(load), int(survey["n"]), average, active, photo)


async def lock_agent(tx: Tx, agent_id: str) -> Optional[Dict[str, Any]]:
    """The agent's row, locked until commit (capacity checks and presence changes take turns)."""
    return await tx.one(_AGENT_LOCKED, {"id": agent_id})


async def check_capacity(tx: Tx, agent_id: str) -> None:
    """Raises Conflict when ``agent_id`` has no room; locks their row first."""
    agent = await lock_agent(tx, agent_id)
    if agent is None:
        raise NotFound(f"No agent with id {agent_id!r}.")
    if not agent["active"]:
        raise Conflict(f"{agent['name']} was deactivated; choose an active member of the team.")
    load = await tx.scalar(_LOAD, {"id": agent_id})
    if load >= agent["capacity"]:
        raise Conflict(f"{agent_id} is at capacity ({load} of {agent['capacity']} conversations); "
                       f"close or transfer one first.")


_LOAD = sa.select(load_of(sa.bindparam("id")))
# A deactivated agent's sessions and tokens let nobody in (their sessions are also ended).
_BY_SESSION = (AGENT_ROW.select_from(sessions.join(agents, agents.c.id == sessions.c.agent_id))
               .where(sessions.c.token_hash == sa.bindparam("digest"), sessions.c.expires_at > sa.bindparam("now"),
                      agents.c.active.is_(True)))
_TOKEN_FIELDS = (api_tokens.c.id, api_tokens.c.agent_id, api_tokens.c.name, api_tokens.c.created_at,
                 api_tokens.c.expires_at, api_tokens.c.revoked_at)


def _token_stands(now: Any) -> List[Any]:
    """An API token lets its agent in: not revoked, not expired at ``now`` (a value or a bind parameter)."""
    return [api_tokens.c.revoked_at.is_(None), api_tokens.c.expires_at > now]


_BY_API_TOKEN = (AGENT_ROW.select_from(api_tokens.join(agents, agents.c.id == api_tokens.c.agent_id))
                 .where(api_tokens.c.token_hash == sa.bindparam("digest"), *_token_stands(sa.bindparam("now")),
                        agents.c.active.is_(True)))


def _token_state(tx: Tx, row: Dict[str, Any]) -> Dict[str, Any]:
    state = "revoked" if row["revoked_at"] is not None else "expired" if row["expires_at"] <= tx.now else "active"
    return {**row, "state": state}


async def _insert_token(tx: Tx, agent_id: str, token: str, name: str, days: int) -> str:
    token_id = secrets.token_hex(4)
    await tx.run(api_tokens.insert().values(id=token_id, agent_id=agent_id, token_hash=token_digest(token),
                                            name=name, created_at=tx.now, expires_at=tx.now + days * 86400))
    return token_id


async def _give_back(tx: Tx, key: str, free: int) -> None:
    """One counted attempt returned (it signed in): a lock it alone caused ends."""
    count = login_failures.c.failures
    await tx.run(login_failures.update().where(login_failures.c.login == key).values(
        failures=sa.case((count > 0, count - 1), else_=0),
        locked_until=sa.case((count - 1 < free, 0), else_=login_failures.c.locked_until)))


class Accounts:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def seed(self, config: "Config") -> None:
        """Creates the configured queues, and agents that do not exist yet."""
        hashed = {a.id: hash_password(a.password) if a.password else None for a in config.agents}

        async def work(tx: Tx) -> None:
            if tx.postgres:  # instances starting together seed one after the other
                await tx.run(sa.select(sa.func.pg_advisory_xact_lock(SEED_LOCK)))
            for queue in config.queues:
                await tx.upsert(queues, {"name": queue.name, "team": queue.team}, ["name"], ["team"])
            for agent in config.agents:
                if await tx.one(sa.select(agents.c.id).where(agents.c.id == agent.id)):
                    continue
                await tx.run(agents.insert().values(
                    id=agent.id, name=agent.name, title=agent.title, role=agent.role,
                    password_hash=hashed[agent.id], capacity=agent.capacity, created_at=tx.now))
                if agent.token:
                    await _insert_token(tx, agent.id, agent.token, "from the config", API_TOKEN_DAYS)
                names = agent.queues
                if agent.role == "supervisor" and not names:
                    names = [q.name for q in config.queues]
                for name in names:
                    await tx.run(memberships.insert().values(agent_id=agent.id, queue=name))

        await self._db.run(work)

    async def for_token(self, token: str) -> Optional[Agent]:
        """Who a session or API token belongs to (without load and ratings: see ``get``)."""
        digest = token_digest(token)

        async def work(tx: Tx) -> Optional[Agent]:
            row = await tx.one(_BY_SESSION, {"digest": digest, "now": tx.now})
            if row is None:
                row = await tx.one(_BY_API_TOKEN, {"digest": digest, "now": tx.now})
            return await agent_from_row(tx, row, details=False)

        return await self._db.read(work)

    async def standing(self, digests: "set[str]") -> "set[str]":
        """Those of the token digests that still let someone in (one query each kind)."""
        async def work(tx: Tx) -> "set[str]":
            live = await tx.all(sa.select(sessions.c.token_hash)
                                .select_from(sessions.join(agents, agents.c.id == sessions.c.agent_id))
                                .where(sessions.c.token_hash.in_(digests), sessions.c.expires_at > tx.now,
                                       agents.c.active.is_(True)))
            static = await tx.all(sa.select(api_tokens.c.token_hash)
                                  .select_from(api_tokens.join(agents, agents.c.id == api_tokens.c.agent_id))
                                  .where(api_tokens.c.token_hash.in_(digests), *_token_stands(tx.now),
                                         agents.c.active.is_(True)))
            return {r["token_hash"] for r in live} | {r["token_hash"] for r in static}

        return await self._db.read(work)

    async def get(self, agent_id: str, details: bool = True) -> Agent:
        async def work(tx: Tx) -> Optional[Agent]:
            return await agent_from_row(tx, await tx.one(AGENT_ROW.where(agents.c.id == agent_id)), details)

        agent = await self._db.read(work)
        if agent is None:
            raise NotFound(f"No agent with id {agent_id!r}. GET /api/v1/agents lists them.")
        return agent

    async def list(self) -> List[Agent]:
        async def work(tx: Tx) -> List[Agent]:
            rows = await tx.all(AGENT_ROW.order_by(agents.c.name))
            return [a for a in [await agent_from_row(tx, r) for r in rows] if a is not None]

        return await self._db.run(work)

    async def login(self, login: str, password: str, address: str = "") -> str:
        """Checks the password and opens a session; returns the session token.

        Every attempt is counted before the password is checked, in one
        transaction with the lock-out check, so guesses sent in parallel all
        count. Three counters: this login from this address (locks quickly),
        this address for any login, and this login from anywhere (both far more
        lenient), so a guesser is slowed while the agent can still sign in
        from their own desk. A login-and-address or address counter left alone
        for ``FORGET_SECONDS`` starts again (an office's typos of last week do
        not slow it); the login's own counter does not forget.
        """
        keys = [(f"pair:{login}\n{address}", FREE_FAILURES), (f"addr:{address}", FREE_FROM_ADDRESS),
                (f"login:{login}", FREE_FOR_LOGIN)]

        async def attempt(tx: Tx) -> float:
            rows = []
            for key, free in keys:
                await tx.upsert(login_failures, {"login": key, "failures": 0, "locked_until": 0}, ["login"])
                rows.append((await tx.one(sa.select(login_failures).where(login_failures.c.login == key)
                                          .with_for_update()), free))
            wait = max((row["locked_until"] - tx.now for row, _ in rows if row), default=0)
            if wait > 0:
                return wait
            for row, free in rows:
                assert row is not None  # upserted just above
                # The login's own counter (from anywhere) keeps counting until they sign in.
                recent = row["login"].startswith("login:") or (row["counted_at"] or 0) >= tx.now - FORGET_SECONDS
                failures = row["failures"] + 1 if recent else 1
                locked = tx.now + min(2 ** (failures - free), MAX_LOCK_SECONDS) if failures >= free else 0
                await tx.run(login_failures.update().where(login_failures.c.login == row["login"])
                             .values(failures=failures, locked_until=locked, counted_at=tx.now))
            return 0

        wait = await self._db.run(attempt)
        if wait > 0:
            raise TooManyRequests(f"Too many failed sign-ins; try again in {int(wait) + 1} s.", int(wait) + 1)
        row = await self._db.run(lambda tx: tx.one(sa.select(agents).where(agents.c.id == login)))
        try:
            right, rehashed = await verify_off_loop(password, row["password_hash"] if row else None)
        except HashingBusy as error:
            raise TooManyRequests(str(error), 1) from error
        if not right:
            raise Unauthorized("Wrong login or password.")
        assert row is not None  # a right password is someone's
        if not row["active"]:
            raise Forbidden("This account was deactivated; ask a supervisor to reactivate it.")
        token = new_token()

        async def work(tx: Tx) -> None:
            # Signed in: this login's counters start again, and the address gets this attempt
            # back, so that a whole office behind one address signing in every morning is
            # never slowed, while its failures still count.
            await tx.run(login_failures.delete().where(login_failures.c.login.in_([keys[0][0], keys[2][0]])))
            await _give_back(tx, keys[1][0], FREE_FROM_ADDRESS)
            if rehashed:  # an older hash (earlier parameters, or scrypt): replaced now
                await tx.run(agents.update().where(agents.c.id == login).values(password_hash=rehashed))
            await tx.run(sessions.delete().where(sessions.c.expires_at <= tx.now))
            await tx.run(sessions.insert().values(token_hash=token_digest(token), agent_id=login,
                                                  expires_at=tx.now + SESSION_SECONDS))

        await self._db.run(work)
        return token

    async def logout(self, token: str) -> None:
        await self._db.run(lambda tx: tx.run(sessions.delete().where(sessions.c.token_hash == token_digest(token))))

    async def set_presence(self, agent_id: str, presence: str) -> Agent:
        if presence not in PRESENCE:
            raise BadRequest(f"Field `status` must be one of: {', '.join(PRESENCE)}.")

        async def work(tx: Tx) -> Optional[Agent]:
            before = await lock_agent(tx, agent_id)
            if before is None:
                return None
            await self.change_presence_in(tx, before, presence)
            return await agent_from_row(tx, await tx.one(AGENT_ROW.where(agents.c.id == agent_id)))

        agent = await self._db.run(work)
        if agent is None:
            raise NotFound(f"No agent with id {agent_id!r}.")
        return agent

    async def change_presence_in(self, tx: Tx, before: Dict[str, Any], presence: str) -> None:
        """Inside ``tx``, with the agent's row ``before`` locked: presence set, an event, and going
        offline lets what waits assigned to them lapse."""
        if before["presence"] == presence:
            return
        await tx.run(agents.update().where(agents.c.id == before["id"]).values(presence=presence))
        if presence == "offline":  # nobody should wait for someone who is not there
            await lapse_assignments(tx, self._events, before["id"])
        await self._events.emit(tx, "agent.presence", {"agent_id": before["id"], "presence": presence})

    async def available(self, queue: str) -> int:
        """Members of ``queue`` who are online and below capacity."""
        return int(await self._db.run(lambda tx: tx.scalar(
            sa.select(sa.func.count()).select_from(agents.join(memberships, memberships.c.agent_id == agents.c.id))
            .where(memberships.c.queue == queue, agents.c.presence == "online", agents.c.active.is_(True),
                   agents.c.capacity > load_of(agents.c.id)))))

    # -- desk sockets, on every instance ------------------------------------

    async def socket_opened(self, socket_id: str, agent_id: str, instance: str) -> None:
        async def work(tx: Tx) -> None:
            if await lock_agent(tx, agent_id) is None:  # in turn with a close elsewhere
                raise NotFound(f"No agent with id {agent_id!r}.")
            await tx.run(desk_sockets.insert().values(id=socket_id, agent_id=agent_id, instance=instance,
                                                      seen_at=tx.now))

        await self._db.run(work)

    async def socket_closed(self, socket_id: str, agent_id: str) -> None:
        """Forgets the socket; the agent's last desk closing takes them offline."""
        async def work(tx: Tx) -> None:
            agent = await lock_agent(tx, agent_id)
            await tx.run(desk_sockets.delete().where(desk_sockets.c.id == socket_id))
            if agent is not None and not await self._has_socket(tx, agent_id):
                await self.change_presence_in(tx, agent, "offline")

        await self._db.run(work)

    @staticmethod
    async def _has_socket(tx: Tx, agent_id: str) -> bool:
        return await tx.one(sa.select(desk_sockets.c.id).where(desk_sockets.c.agent_id == agent_id).limit(1)) is not None

    async def sockets_seen(self, instance: str) -> None:
        """The instance is alive: its sockets are not reaped."""
        await self._db.run(lambda tx: tx.run(
            desk_sockets.update().where(desk_sockets.c.instance == instance).values(seen_at=tx.now)))

    async def reap_sockets(self, silent_for: float) -> List[str]:
        """Removes sockets of instances silent for ``silent_for`` s; their agents may go offline."""
        async def work(tx: Tx) -> List[str]:
            silent = desk_sockets.c.seen_at < tx.now - silent_for
            stale = sorted({r["agent_id"] for r in await tx.all(sa.select(desk_sockets.c.agent_id).where(silent))})
            if not stale:
                return []
            # Agents first, all at once and in order, as every other change locks them
            # before their sockets or the event log: no lock cycle.
            locked = await tx.all(sa.select(agents).where(agents.c.id.in_(stale)).order_by(agents.c.id)
                                  .with_for_update())
            await tx.run(desk_sockets.delete().where(silent))
            offline = []
            for agent in locked:
                if not await self._has_socket(tx, agent["id"]):
                    await self.change_presence_in(tx, agent, "offline")
                    offline.append(agent["id"])
            return offline

        return await self._db.run(work)

    # -- API tokens, for scripts and integrations ------------------------------

    async def create_token(self, agent_id: str, name: str, days: int = API_TOKEN_DAYS) -> Dict[str, Any]:
        """A new token for ``agent_id``; the only time the token itself is shown."""
        if not 1 <= days <= MAX_API_TOKEN_DAYS:
            raise BadRequest(f"A token lives 1 to {MAX_API_TOKEN_DAYS} days.")
        token = "hct_" + new_token()

        async def work(tx: Tx) -> Dict[str, Any]:
            if await lock_agent(tx, agent_id) is None:
                raise NotFound(f"No agent with id {agent_id!r}.")
            token_id = await _insert_token(tx, agent_id, token, name, days)
            return {**await self._token(tx, token_id), "token": token}

        return await self._db.run(work)

    async def list_tokens(self, agent_id: Optional[str] = None) -> List[Dict[str, Any]]:
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            query = sa.select(*_TOKEN_FIELDS).order_by(api_tokens.c.agent_id, api_tokens.c.created_at)
            if agent_id is not None:
                query = query.where(api_tokens.c.agent_id == agent_id)
            return [_token_state(tx, row) for row in await tx.all(query)]

        return await self._db.run(work)

    async def revoke_token(self, token_id: str) -> Dict[str, Any]:
        """Revokes at once: the next request with it is a 401, an open desk socket closes within seconds."""
        async def work(tx: Tx) -> Dict[str, Any]:
            changed = await tx.run(api_tokens.update()
                                   .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                                   .values(revoked_at=tx.now))
            if not changed and await tx.one(sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)) is None:
                raise NotFound(f"No API token with id {token_id!r}; `tokens list` shows them.")
            return await self._token(tx, token_id)

        return await self._db.run(work)

    @staticmethod
    async def _token(tx: Tx, token_id: str) -> Dict[str, Any]:
        row = await tx.one(sa.select(*_TOKEN_FIELDS).where(api_tokens.c.id == token_id))
        assert row is not None  # written or checked in this transaction
        return _token_state(tx, row)

    async def list_queues(self) -> List[Dict[str, Any]]:
        waiting = (sa.select(sa.func.count()).select_from(handoffs)
                   .where(handoffs.c.queue == queues.c.name, handoffs.c.state == "queued").scalar_subquery())
        return await self._db.run(lambda tx: tx.all(
            sa.select(queues.c.name, queues.c.team, waiting.label("waiting")).order_by(queues.c.name)))

    async def team_of(self, queue: str) -> Optional[str]:
        return await self._db.read(lambda tx: tx.scalar(sa.select(queues.c.team).where(queues.c.name == queue)))
