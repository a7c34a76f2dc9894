"""Agents, queues, memberships, login sessions and presence.

Passwords are stored as scrypt hashes; session and API tokens as SHA-256
digests, so a copy of the database gives no usable credential. Repeated failed
logins for one account are slowed down with a growing lock-out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from handoff_connector.service.db import Database
from handoff_connector.service.errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized

if TYPE_CHECKING:
    from handoff_connector.service.config import Config

PRESENCE = ("online", "away", "offline")
SESSION_SECONDS = 12 * 3600
FREE_FAILURES = 3  # failed logins before the lock-out starts
MAX_LOCK_SECONDS = 300
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: Optional[str]) -> bool:
    if not stored:
        # Same work as a real check, so timing does not reveal unknown accounts.
        hashlib.scrypt(password.encode(), salt=b"0" * 16, dklen=32, **_SCRYPT)
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32,
                               n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def article(title: str) -> str:
    """'housing specialist' -> 'a housing specialist'."""
    if not title:
        return "a member of our team"
    return f"{'an' if title[0].lower() in 'aeiou' else 'a'} {title}"


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

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "title": self.title, "role": self.role,
                "capacity": self.capacity, "presence": self.presence, "queues": self.queues,
                "load": self.load,
                "survey": {"count": self.survey_count, "average": self.survey_average}}


class AccountStore(Database):
    """Account methods; ``Store`` adds the handoff methods on top."""

    @staticmethod
    def _agent(db: sqlite3.Connection, row: Optional[Dict[str, Any]]) -> Optional[Agent]:
        if row is None:
            return None
        queues = [r["queue"] for r in db.execute(
            "SELECT queue FROM memberships WHERE agent_id = ? ORDER BY queue", (row["id"],))]
        load = db.execute("SELECT COUNT(*) AS n FROM handoffs WHERE agent_id = ? AND state = 'assigned'",
                          (row["id"],)).fetchone()["n"]
        survey = db.execute(
            "SELECT COUNT(surveys.rating) AS n, AVG(surveys.rating) AS average FROM surveys"
            " JOIN handoffs ON handoffs.id = surveys.handoff_id"
            " WHERE handoffs.agent_id = ? AND surveys.skipped = 0", (row["id"],)).fetchone()
        average = round(float(survey["average"]), 2) if survey["average"] is not None else None
        return Agent(row["id"], row["name"], row["title"], row["role"], row["capacity"],
                     row["presence"], queues, int(load), int(survey["n"]), average)

    async def seed(self, config: "Config") -> None:
        """Creates the configured queues, and agents that do not exist yet."""
        hashed = {a.id: hash_password(a.password) if a.password else None for a in config.agents}

        def work(db: sqlite3.Connection) -> None:
            for queue in config.queues:
                db.execute("INSERT INTO queues (name, team) VALUES (?, ?) ON CONFLICT (name)"
                           " DO UPDATE SET team = excluded.team", (queue.name, queue.team))
            for agent in config.agents:
                if db.execute("SELECT 1 FROM agents WHERE id = ?", (agent.id,)).fetchone():
                    continue
                db.execute(
                    "INSERT INTO agents (id, name, title, role, password_hash, api_token_hash,"
                    " capacity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (agent.id, agent.name, agent.title, agent.role, hashed[agent.id],
                     token_digest(agent.token) if agent.token else None, agent.capacity, self._clock()),
                )
                queues = [q.name for q in config.queues] if agent.role == "supervisor" and not agent.queues else agent.queues
                db.executemany("INSERT INTO memberships (agent_id, queue) VALUES (?, ?)",
                               [(agent.id, q) for q in queues])

        await self._run(work)

    async def agent_for_token(self, token: str) -> Optional[Agent]:
        digest, now = token_digest(token), self._clock()

        def work(db: sqlite3.Connection) -> Optional[Agent]:
            row = db.execute(
                "SELECT agents.* FROM sessions JOIN agents ON agents.id = sessions.agent_id"
                " WHERE token_hash = ? AND expires_at > ?", (digest, now)).fetchone()
            if row is None:
                row = db.execute("SELECT * FROM agents WHERE api_token_hash = ?", (digest,)).fetchone()
            return self._agent(db, row)

        return await self._run(work)

    async def get_agent(self, agent_id: str) -> Agent:
        agent = await self._run(lambda db: self._agent(
            db, db.execute("SELECT * FROM agents WHERE id = ?", (agent_id,)).fetchone()))
        if agent is None:
            raise NotFound(f"No agent with id {agent_id!r}. GET /api/v1/agents lists them.")
        return agent

    async def list_agents(self) -> List[Agent]:
        def work(db: sqlite3.Connection) -> List[Agent]:
            rows = db.execute("SELECT * FROM agents ORDER BY name").fetchall()
            return [a for a in (self._agent(db, r) for r in rows) if a is not None]

        return await self._run(work)

    async def login(self, login: str, password: str) -> str:
        """Checks the password and opens a session; returns the session token."""
        now = self._clock()
        lock = await self._run(lambda db: db.execute(
            "SELECT * FROM login_failures WHERE login = ?", (login,)).fetchone())
        if lock and lock["locked_until"] > now:
            wait = int(lock["locked_until"] - now) + 1
            raise TooManyRequests(f"Too many failed logins for {login!r}; try again in {wait} s.", wait)
        row = await self._run(lambda db: db.execute("SELECT * FROM agents WHERE id = ?", (login,)).fetchone())
        if not verify_password(password, row["password_hash"] if row else None):
            await self._run(lambda db: self._record_failure(db, login, now))
            raise Unauthorized("Wrong login or password.")
        token = secrets.token_urlsafe(32)

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM login_failures WHERE login = ?", (login,))
            db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO sessions (token_hash, agent_id, expires_at) VALUES (?, ?, ?)",
                       (token_digest(token), login, now + SESSION_SECONDS))

        await self._run(work)
        return token

    @staticmethod
    def _record_failure(db: sqlite3.Connection, login: str, now: float) -> None:
        row = db.execute("SELECT failures FROM login_failures WHERE login = ?", (login,)).fetchone()
        failures = (row["failures"] if row else 0) + 1
        locked = now + min(2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS) if failures >= FREE_FAILURES else 0
        db.execute("INSERT INTO login_failures (login, failures, locked_until) VALUES (?, ?, ?)"
                   " ON CONFLICT (login) DO UPDATE SET failures = excluded.failures,"
                   " locked_until = excluded.locked_until", (login, failures, locked))

    async def logout(self, token: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_digest(token),)))

    async def set_presence(self, agent_id: str, presence: str) -> Agent:
        if presence not in PRESENCE:
            raise BadRequest(f"Field `status` must be one of: {', '.join(PRESENCE)}.")

        def work(db: sqlite3.Connection) -> Optional[Agent]:
            before = db.execute("SELECT presence FROM agents WHERE id = ?", (agent_id,)).fetchone()
            db.execute("UPDATE agents SET presence = ? WHERE id = ?", (presence, agent_id))
            agent = self._agent(db, db.execute("SELECT * FROM agents WHERE id = ?", (agent_id,)).fetchone())
            if agent is not None and before and before["presence"] != presence:
                self._emit(db, "agent.presence", {"agent_id": agent_id, "presence": presence})
            return agent

        agent = await self._run(work)
        if agent is None:
            raise NotFound(f"No agent with id {agent_id!r}.")
        return agent

    async def available_agents(self, queue: str) -> int:
        """Members of ``queue`` who are online and below capacity."""
        row = await self._run(lambda db: db.execute(
            "SELECT COUNT(*) AS n FROM agents JOIN memberships ON memberships.agent_id = agents.id"
            " WHERE memberships.queue = ? AND agents.presence = 'online' AND agents.capacity >"
            " (SELECT COUNT(*) FROM handoffs WHERE handoffs.agent_id = agents.id AND state = 'assigned')",
            (queue,)).fetchone())
        return int(row["n"])

    # -- administration (the CLI) -------------------------------------------

    async def add_agent(self, agent_id: str, name: str, title: str, role: str, password: str,
                        capacity: int, queues: List[str]) -> None:
        hashed = hash_password(password)

        def work(db: sqlite3.Connection) -> None:
            if db.execute("SELECT 1 FROM agents WHERE id = ?", (agent_id,)).fetchone():
                raise Conflict(f"Agent {agent_id!r} exists already.")
            db.execute("INSERT INTO agents (id, name, title, role, password_hash, capacity, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (agent_id, name, title, role, hashed, capacity, self._clock()))
            for queue in queues:
                self._add_member(db, agent_id, queue)

        await self._run(work)

    async def set_password(self, agent_id: str, password: str) -> None:
        hashed = hash_password(password)

        def work(db: sqlite3.Connection) -> None:
            if not db.execute("UPDATE agents SET password_hash = ? WHERE id = ?", (hashed, agent_id)).rowcount:
                raise NotFound(f"No agent with id {agent_id!r}.")
            db.execute("DELETE FROM sessions WHERE agent_id = ?", (agent_id,))

        await self._run(work)

    async def remove_agent(self, agent_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            busy = db.execute("SELECT COUNT(*) AS n FROM handoffs WHERE agent_id = ? AND state = 'assigned'",
                              (agent_id,)).fetchone()["n"]
            if busy:
                raise Conflict(f"Agent {agent_id!r} has {busy} open conversation(s); transfer or close them first.")
            if not db.execute("DELETE FROM agents WHERE id = ?", (agent_id,)).rowcount:
                raise NotFound(f"No agent with id {agent_id!r}.")

        await self._run(work)

    async def add_queue(self, name: str, team: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            if db.execute("SELECT 1 FROM queues WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"Queue {name!r} exists already.")
            db.execute("INSERT INTO queues (name, team) VALUES (?, ?)", (name, team))

        await self._run(work)

    async def list_queues(self) -> List[Dict[str, Any]]:
        return await self._run(lambda db: db.execute(
            "SELECT queues.name, queues.team, (SELECT COUNT(*) FROM handoffs WHERE handoffs.queue ="
            " queues.name AND state = 'queued') AS waiting FROM queues ORDER BY name").fetchall())

    async def team_of(self, queue: str) -> Optional[str]:
        row = await self._run(lambda db: db.execute("SELECT team FROM queues WHERE name = ?", (queue,)).fetchone())
        return row["team"] if row else None

    @staticmethod
    def _add_member(db: sqlite3.Connection, agent_id: str, queue: str) -> None:
        if not db.execute("SELECT 1 FROM queues WHERE name = ?", (queue,)).fetchone():
            raise NotFound(f"No queue named {queue!r}; add it first.")
        db.execute("INSERT OR IGNORE INTO memberships (agent_id, queue) VALUES (?, ?)", (agent_id, queue))

    async def add_member(self, agent_id: str, queue: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            if not db.execute("SELECT 1 FROM agents WHERE id = ?", (agent_id,)).fetchone():
                raise NotFound(f"No agent with id {agent_id!r}.")
            self._add_member(db, agent_id, queue)

        await self._run(work)

    async def remove_member(self, agent_id: str, queue: str) -> None:
        await self._run(lambda db: db.execute(
            "DELETE FROM memberships WHERE agent_id = ? AND queue = ?", (agent_id, queue)))
