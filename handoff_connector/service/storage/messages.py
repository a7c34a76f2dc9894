"""What is said during a handoff: user and agent messages, internal notes, and its history."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict, Forbidden, Unprocessable
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import (
    OPEN_STATES,
    agent_message,
    check_may_see,
    emit_message,
    handoff_row,
    insert_message,
    no_such_handoff,
)
from handoff_connector.service.storage.schema import handoffs, messages, transitions
from handoff_connector.service.storage.urgency import Change
from handoff_connector.service.storage.urgency import apply as apply_urgency

# The handoff, locked, with the id of its message of this role and client id if there is one
# (a retry): one round trip where a lock and a look-up were two.
_ECHO = (sa.select(messages.c.id).where(messages.c.handoff_id == handoffs.c.id,
                                        messages.c.role == sa.bindparam("role"),
                                        messages.c.client_id == sa.bindparam("client_id"))
         .scalar_subquery().label("echo_id"))
_HANDOFF_AND_ECHO = (sa.select(handoffs, _ECHO).where(handoffs.c.id == sa.bindparam("id"))
                     .with_for_update(of=handoffs))
_MESSAGE_BY_ID = sa.select(messages).where(messages.c.id == sa.bindparam("id"))
# The user spoke at ``spoke`` (a late message may be older than the last): now waiting for an answer.
_USER_SPOKE = handoffs.update().where(handoffs.c.id == sa.bindparam("hid")).values(
    last_user_at=sa.case((handoffs.c.last_user_at > sa.bindparam("spoke"), handoffs.c.last_user_at),
                         else_=sa.bindparam("spoke")),
    waiting_since=sa.func.coalesce(handoffs.c.waiting_since, sa.bindparam("spoke")))


async def _locked_with_echo(tx: Tx, handoff_id: str, role: str,
                            client_id: Optional[str]) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """The handoff (locked; NotFound if none) and its ``role`` message with ``client_id``, if stored."""
    row = await tx.one(_HANDOFF_AND_ECHO, {"id": handoff_id, "role": role, "client_id": client_id})
    if row is None:
        raise no_such_handoff(handoff_id)
    echo_id = row.pop("echo_id")
    return row, (await tx.one(_MESSAGE_BY_ID, {"id": echo_id}) if echo_id is not None else None)


async def _user_message(events: EventLog, tx: Tx, handoff: Dict[str, Any], message_id: str, text: str,
                        sent_at: Optional[float], late: bool) -> Dict[str, Any]:
    message = await insert_message(tx, handoff["id"], "user", handoff["sender_id"], text, message_id,
                                   sent_at=sent_at, late=late)
    spoke = min(sent_at or tx.now, tx.now)
    await tx.run(_USER_SPOKE, {"hid": handoff["id"], "spoke": spoke})
    await emit_message(events, tx, handoff, message)
    return message


async def _store_missing(events: EventLog, tx: Tx, handoff: Dict[str, Any],
                         said: Sequence[Dict[str, Any]]) -> int:
    """Stores, in order and marked late, those of ``said`` this handoff does not have yet."""
    ids = [str(m["message_id"]) for m in said if m.get("message_id")]
    if not ids:
        return 0
    known = {row["client_id"] for row in await tx.all(
        sa.select(messages.c.client_id).where(messages.c.handoff_id == handoff["id"], messages.c.role == "user",
                                              messages.c.client_id.in_(ids)))}
    new = 0
    for message in said:
        message_id = str(message.get("message_id") or "")
        if not message_id or message_id in known:
            continue
        known.add(message_id)
        await _user_message(events, tx, handoff, message_id, str(message.get("text") or ""),
                            _timestamp(message.get("timestamp")), late=True)
        new += 1
    return new


def _timestamp(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Messages:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def add_user_message(self, handoff_id: str, message_id: str, text: str,
                               sent_at: Optional[float] = None,
                               earlier: Sequence[Dict[str, Any]] = (),
                               urgency: Optional[Change] = None) -> Tuple[Dict[str, Any], bool, str]:
        """Stores a relayed user message once per ``message_id``; also says the handoff's state.

        ``earlier``: the user's previous messages of this handoff as Rasa has
        them (``message_id``, ``text``, ``timestamp``); any not stored yet are
        stored first, in their order, marked late. ``urgency``: what a signal found
        in the message, raised (never lowered) in the same transaction.
        """
        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool, str]:
            handoff, existing = await _locked_with_echo(tx, handoff_id, "user", message_id)
            if existing:
                return existing, False, handoff["state"]
            if handoff["state"] not in OPEN_STATES:
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; user messages can only "
                               f"be relayed while it is queued or assigned.")
            await _store_missing(self._events, tx, handoff, earlier)
            message = await _user_message(self._events, tx, handoff, message_id, text, sent_at, late=False)
            if urgency is not None:
                await apply_urgency(tx, self._events, handoff, urgency)
            return message, True, handoff["state"]

        return await self._db.run_keyed(work)

    async def recover(self, handoff_id: str, said: Sequence[Dict[str, Any]]) -> int:
        """Stores the user's messages Rasa has and this handoff lacks (late); how many were new."""
        async def work(tx: Tx) -> int:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            if handoff["state"] not in OPEN_STATES:
                return 0
            return await _store_missing(self._events, tx, handoff, said)

        return await self._db.run_keyed(work)

    async def add_agent_message(
        self, handoff_id: str, agent_id: str, text: str, client_id: Optional[str],
        outbox_payload: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores an agent message and queues its delivery, once per ``client_id`` of its author."""
        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool]:
            handoff, existing = await _locked_with_echo(tx, handoff_id, "agent", client_id or None)
            await check_may_see(tx, agent_id, handoff)
            if handoff["agent_id"] not in (None, agent_id):  # handed to someone else: not even a retry
                raise Forbidden(f"Handoff {handoff_id} is assigned to {handoff['agent_id']}; only they can "
                                f"answer it.")
            if existing is not None and existing["author"] == agent_id:
                return existing, False  # their retry (after a close, too): answered as done
            if handoff["state"] != "assigned" or handoff["agent_id"] != agent_id:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}"
                    + (f" to {handoff['agent_id']}" if handoff["agent_id"] else "")
                    + "; only the assigned agent can send messages. Claim it first.")
            if existing is not None:  # another agent's message: never answered as this one's
                raise Unprocessable(f"`client_id` {client_id!r} belongs to another agent's message in this "
                                    f"conversation; use a new one for a new message.")
            message = await agent_message(self._events, tx, handoff, agent_id,
                                          {**outbox_payload, "text": text}, client_id)
            return message, True

        return await self._db.run_keyed(work)

    async def add_note(self, handoff_id: str, agent_id: str, text: str) -> Dict[str, Any]:
        """An internal note: stored and shown to agents, never sent to the user."""
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id)
            await check_may_see(tx, agent_id, handoff)
            note = await insert_message(tx, handoff_id, "note", agent_id, text, None)
            await emit_message(self._events, tx, handoff, note)
            return note

        return await self._db.run(work)

    async def of(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._db.read(lambda tx: tx.all(
            sa.select(messages).where(messages.c.handoff_id == handoff_id).order_by(messages.c.id)))

    async def transitions(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._db.read(lambda tx: tx.all(
            sa.select(transitions.c.from_state, transitions.c.to_state, transitions.c.actor, transitions.c.at)
            .where(transitions.c.handoff_id == handoff_id).order_by(transitions.c.id)))
