"""Handoffs: created, claimed, transferred, closed, turned into follow-ups, resumed.

A claim is atomic: ``UPDATE ... WHERE state = 'queued'`` lets exactly one agent
win. Every change also appends a live event (see ``db.Database._emit``).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Dict, List, Optional, Tuple

from handoff_connector.common.wording import iso_utc
from handoff_connector.service.errors import Conflict, NotFound
from handoff_connector.service.records import OPEN_STATES, find_message, handoff_row, summary
from handoff_connector.service.waiting_store import WaitingStore

__all__ = ["Store", "summary"]


class Store(WaitingStore):
    """The connector's storage. Every public method is a coroutine."""

    async def create_handoff(
        self, key: str, sender_id: str, channel: Optional[str], queue: str,
        trigger: str, reasons: List[str], context: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Creates a queued handoff; with a known ``key`` returns the first one."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            existing = db.execute(
                "SELECT * FROM handoffs WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if existing:
                return existing, False
            now, handoff_id = self._clock(), uuid.uuid4().hex
            db.execute(
                "INSERT INTO handoffs (id, idempotency_key, sender_id, channel, queue,"
                " state, trigger, reasons, context, created_at, last_user_at)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (handoff_id, key, sender_id, channel, queue, trigger,
                 json.dumps(reasons), json.dumps(context), now, now),
            )
            self._transition(db, handoff_id, None, "requested", "bot", now)
            self._transition(db, handoff_id, "requested", "queued", "bot", now)
            handoff = handoff_row(db, handoff_id)
            self._emit_handoff(db, "handoff.created", handoff)
            return handoff, True

        return await self._run(work)

    async def get_handoff(self, handoff_id: str) -> Dict[str, Any]:
        return await self._run(lambda db: handoff_row(db, handoff_id))

    async def open_handoff_for(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The sender's open handoff, if any."""
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM handoffs WHERE sender_id = ? AND state IN ('queued', 'assigned')"
                " ORDER BY created_at DESC LIMIT 1",
                (sender_id,),
            ).fetchone()
        )

    async def list_assigned(self, agent_id: Optional[str]) -> List[Dict[str, Any]]:
        """Assigned handoffs, of one agent or (``None``) of everyone."""

        def work(db: sqlite3.Connection) -> List[Dict[str, Any]]:
            sql, args = "SELECT * FROM handoffs WHERE state = 'assigned'", []
            if agent_id is not None:
                sql, args = sql + " AND agent_id = ?", [agent_id]
            return db.execute(sql + " ORDER BY claimed_at", args).fetchall()

        return await self._run(work)

    async def queue_position(self, handoff: Dict[str, Any]) -> int:
        """1 for the first in line; 0 when no longer waiting."""
        if handoff["state"] != "queued":
            return 0
        row = await self._run(
            lambda db: db.execute(
                "SELECT COUNT(*) AS n FROM handoffs WHERE state = 'queued' AND queue = ?"
                " AND (created_at < ? OR (created_at = ? AND id <= ?))",
                (handoff["queue"], handoff["created_at"], handoff["created_at"], handoff["id"]),
            ).fetchone()
        )
        return int(row["n"])

    async def claim(self, handoff_id: str, agent_id: str,
                    introduction: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Assigns a queued handoff; exactly one of concurrent claims wins.

        ``introduction`` (an outbox payload) is queued for the user in the same
        transaction, so the agent is introduced exactly once.
        """

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            now = self._clock()
            handoff = handoff_row(db, handoff_id)
            if handoff["state"] != "queued":
                owner = f" to {handoff['agent_id']}" if handoff["agent_id"] else ""
                raise Conflict(
                    f"This conversation is already {handoff['state']}{owner}; only a waiting "
                    f"one can be claimed."
                )
            self._check_capacity(db, agent_id)
            db.execute(
                "UPDATE handoffs SET state = 'assigned', agent_id = ?, claimed_at = ?,"
                " first_wait = COALESCE(first_wait, ? - created_at) WHERE id = ? AND state = 'queued'",
                (agent_id, now, now, handoff_id),
            )
            self._transition(db, handoff_id, "queued", "assigned", f"agent:{agent_id}", now)
            handoff = handoff_row(db, handoff_id)
            if introduction is not None:
                self._agent_message(db, handoff, agent_id, introduction, None)
            self._emit_handoff(db, "handoff.assigned", handoff)
            return handoff

        return await self._run(work)

    async def transfer(
        self, handoff_id: str, actor: Dict[str, Any], note: Optional[str],
        to_agent: Optional[str] = None, to_queue: Optional[str] = None,
        messages: Optional[List[Tuple[str, Dict[str, Any]]]] = None,
    ) -> Dict[str, Any]:
        """Moves an assigned handoff to another agent or back to a queue, atomically.

        ``messages`` are (author id, outbox payload) pairs for the user: the
        outgoing agent's message and, to an agent, the incoming one's
        introduction. On any failure nothing changes.
        """

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            now = self._clock()
            handoff = handoff_row(db, handoff_id)
            if handoff["state"] != "assigned":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only an assigned "
                               f"handoff can be transferred.")
            previous = handoff["agent_id"]
            if to_agent is not None:
                target = db.execute("SELECT * FROM agents WHERE id = ?", (to_agent,)).fetchone()
                if target is None:
                    raise NotFound(f"No agent with id {to_agent!r}.")
                if to_agent == previous:
                    raise Conflict(f"Handoff {handoff_id} is already with {to_agent}.")
                if target["presence"] != "online":
                    raise Conflict(f"{target['name']} is {target['presence']}; transfer to someone "
                                   f"online, or to a queue.")
                self._check_capacity(db, to_agent)
                db.execute("UPDATE handoffs SET agent_id = ?, claimed_at = ? WHERE id = ?",
                           (to_agent, now, handoff_id))
                end_state = "assigned"
            else:
                if not db.execute("SELECT 1 FROM queues WHERE name = ?", (to_queue,)).fetchone():
                    raise NotFound(f"No queue named {to_queue!r}.")
                db.execute("UPDATE handoffs SET state = 'queued', agent_id = NULL, queue = ?,"
                           " claimed_at = NULL WHERE id = ?", (to_queue, handoff_id))
                end_state = "queued"
            actor_name = f"agent:{actor['id']}"
            self._transition(db, handoff_id, "assigned", "transferred", actor_name, now)
            self._transition(db, handoff_id, "transferred", end_state, actor_name, now)
            if note:
                self._insert_message(db, handoff_id, "note", actor["id"], note, None)
            for author, payload in messages or []:
                self._agent_message(db, handoff, author, payload, None)
            moved = handoff_row(db, handoff_id)
            self._emit_handoff(db, "handoff.transferred", moved, previous_agent_id=previous,
                               from_agent=previous, to_agent=to_agent, to_queue=to_queue, note=note)
            return moved

        return await self._run(work)

    async def close_handoff(
        self, handoff_id: str, actor: str, resolution: str, note: Optional[str],
        outbox_payload: Dict[str, Any], messages: Optional[List[Tuple[str, Dict[str, Any]]]] = None,
        resume_token: Optional[str] = None, resume_seconds: float = 7 * 24 * 3600,
    ) -> Dict[str, Any]:
        """Closes an assigned handoff and queues the return to the bot.

        A follow-up ticket (``no_agent``) closes too, with nothing sent: its
        user is not waiting in the chat. ``messages`` go to the user first.
        """

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            handoff = handoff_row(db, handoff_id)
            if handoff["state"] not in ("assigned", "no_agent"):
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}; only an assigned "
                    f"handoff or a follow-up can be closed."
                )
            now = self._clock()
            db.execute(
                "UPDATE handoffs SET state = 'closed', resolution = ?, close_note = ?,"
                " closed_at = ?, resume_token = ?, resume_expires_at = ? WHERE id = ?",
                (resolution, note, now, resume_token, now + resume_seconds if resume_token else None,
                 handoff_id),
            )
            self._transition(db, handoff_id, handoff["state"], "closed", actor, now)
            if handoff["state"] == "assigned":
                for author, payload in messages or []:
                    self._agent_message(db, handoff, author, payload, None)
                self._enqueue(db, handoff, "close", outbox_payload, now)
            closed = handoff_row(db, handoff_id)
            self._emit_handoff(db, "handoff.closed", closed)
            return closed

        return await self._run(work)

    async def to_ticket(self, handoff_id: str, contact: str) -> Dict[str, Any]:
        """Nobody could take it: a follow-up ticket with the user's contact."""

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            handoff = handoff_row(db, handoff_id)
            if handoff["state"] == "no_agent" and handoff["contact"] == contact:
                return handoff  # a retry
            if handoff["state"] != "queued":
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only a waiting "
                               f"handoff can become a follow-up.")
            now = self._clock()
            db.execute("UPDATE handoffs SET state = 'no_agent', contact = ? WHERE id = ?", (contact, handoff_id))
            self._transition(db, handoff_id, "queued", "no_agent", "user", now)
            ticket = handoff_row(db, handoff_id)
            self._emit_handoff(db, "handoff.ticket", ticket)
            return ticket

        return await self._run(work)

    async def list_tickets(self, queues: Optional[List[str]]) -> List[Dict[str, Any]]:
        def work(db: sqlite3.Connection) -> List[Dict[str, Any]]:
            sql, args = "SELECT * FROM handoffs WHERE state = 'no_agent'", []
            if queues is not None:
                sql += f" AND queue IN ({','.join('?' * len(queues))})"
                args = list(queues)
            return db.execute(sql + " ORDER BY created_at", args).fetchall()

        return await self._run(work)

    async def resumable(self, token: str) -> Optional[Dict[str, Any]]:
        """The closed handoff behind a live link, with its agent's name; else None."""
        now = self._clock()
        return await self._run(lambda db: db.execute(
            "SELECT handoffs.id, agents.name AS agent_name FROM handoffs"
            " LEFT JOIN agents ON agents.id = handoffs.agent_id"
            " WHERE resume_token = ? AND resume_expires_at >= ?", (token, now)).fetchone())

    async def resume(self, token: str) -> Dict[str, Any]:
        """Opens a new handoff from a closed one's link, with the same agent.

        The agent gets it directly ("assigned to you") when they exist and are
        not offline; otherwise it waits in the same queue. Single use.
        """

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            now = self._clock()
            old = db.execute("SELECT * FROM handoffs WHERE resume_token = ?", (token,)).fetchone()
            if old is None or (old["resume_expires_at"] or 0) < now:
                raise NotFound("This link is unknown or has expired. You can still ask the assistant "
                               "for a person.")
            db.execute("UPDATE handoffs SET resume_token = NULL WHERE id = ?", (old["id"],))
            earlier = db.execute("SELECT role, author, text, created_at FROM messages WHERE handoff_id = ?"
                                 " AND role IN ('user', 'agent') ORDER BY id", (old["id"],)).fetchall()
            context = {**old["context"], "resumed_from": old["id"], "transcript": (
                old["context"].get("transcript") or []) + [
                {"role": m["role"], "author": m["author"], "text": m["text"],
                 "timestamp": iso_utc(m["created_at"])} for m in earlier]}
            agent = db.execute("SELECT * FROM agents WHERE id = ?", (old["agent_id"],)).fetchone()
            assign = agent is not None and agent["presence"] != "offline"
            handoff_id = uuid.uuid4().hex
            db.execute(
                "INSERT INTO handoffs (id, idempotency_key, sender_id, channel, queue, state, trigger,"
                " reasons, context, agent_id, created_at, claimed_at, last_user_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'resume', ?, ?, ?, ?, ?, ?)",
                (handoff_id, f"resume:{token}", old["sender_id"], old["channel"], old["queue"],
                 "assigned" if assign else "queued", json.dumps(["resume_link"]), json.dumps(context),
                 old["agent_id"] if assign else None, now, now if assign else None, now))
            self._transition(db, handoff_id, None, "requested", "user", now)
            self._transition(db, handoff_id, "requested", "queued", "user", now)
            if assign:
                self._transition(db, handoff_id, "queued", "assigned", "link", now)
            handoff = handoff_row(db, handoff_id)
            team = db.execute("SELECT team FROM queues WHERE name = ?", (old["queue"],)).fetchone()
            # Rasa must know before the user's next message: it goes to the agent.
            self._enqueue(db, handoff, "slots", {"handoff_id": handoff_id,
                                                 "handoff_team": team["team"] if team else None}, now)
            self._emit_handoff(db, "handoff.assigned" if assign else "handoff.created", handoff)
            return handoff

        return await self._run(work)

    async def mark_returned(self, handoff_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            now = self._clock()
            if db.execute(
                "UPDATE handoffs SET state = 'returned' WHERE id = ? AND state = 'closed'",
                (handoff_id,),
            ).rowcount:
                self._transition(db, handoff_id, "closed", "returned", "bot", now)
                self._emit_handoff(db, "handoff.returned", handoff_row(db, handoff_id))

        await self._run(work)

    async def add_user_message(
        self, handoff_id: str, message_id: str, text: str
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores a relayed user message once per ``message_id``."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            handoff = handoff_row(db, handoff_id)
            existing = find_message(db, handoff_id, "user", message_id)
            if existing:
                return existing, False
            if handoff["state"] not in OPEN_STATES:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}; user messages can only "
                    f"be relayed while it is queued or assigned."
                )
            message = self._insert_message(db, handoff_id, "user", handoff["sender_id"], text, message_id)
            db.execute("UPDATE handoffs SET last_user_at = ? WHERE id = ?", (message["created_at"], handoff_id))
            self._emit_message(db, handoff, message)
            return message, True

        return await self._run(work)

    async def add_agent_message(
        self, handoff_id: str, agent_id: str, text: str, client_id: Optional[str],
        outbox_payload: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores an agent message and queues its delivery, once per ``client_id``."""

        def work(db: sqlite3.Connection) -> Tuple[Dict[str, Any], bool]:
            handoff = handoff_row(db, handoff_id)
            if client_id:
                existing = find_message(db, handoff_id, "agent", client_id)
                if existing:
                    return existing, False
            if handoff["state"] != "assigned" or handoff["agent_id"] != agent_id:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}"
                    + (f" to {handoff['agent_id']}" if handoff["agent_id"] else "")
                    + "; only the assigned agent can send messages. Claim it first."
                )
            return self._agent_message(db, handoff, agent_id, {**outbox_payload, "text": text}, client_id), True

        return await self._run(work)

    async def add_note(self, handoff_id: str, agent_id: str, text: str) -> Dict[str, Any]:
        """An internal note: stored and shown to agents, never sent to the user."""

        def work(db: sqlite3.Connection) -> Dict[str, Any]:
            handoff = handoff_row(db, handoff_id)
            note = self._insert_message(db, handoff_id, "note", agent_id, text, None)
            self._emit_message(db, handoff, note)
            return note

        return await self._run(work)

    async def messages(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute(
                "SELECT * FROM messages WHERE handoff_id = ? ORDER BY id", (handoff_id,)
            ).fetchall()
        )

    async def transitions(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._run(
            lambda db: db.execute(
                "SELECT from_state, to_state, actor, at FROM transitions"
                " WHERE handoff_id = ? ORDER BY id",
                (handoff_id,),
            ).fetchall()
        )
