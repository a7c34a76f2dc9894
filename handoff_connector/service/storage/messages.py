"""What is said during a handoff: user and agent messages, internal notes, and its history."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import (
    OPEN_STATES,
    agent_message,
    check_may_see,
    emit_message,
    handoff_row,
    insert_message,
)
from handoff_connector.service.storage.schema import handoffs, messages, transitions


def _by_client_id(handoff_id: str, role: str, client_id: str) -> sa.Select[Any]:
    return sa.select(messages).where(messages.c.handoff_id == handoff_id, messages.c.role == role,
                                     messages.c.client_id == client_id)


class Messages:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def add_user_message(self, handoff_id: str, message_id: str,
                               text: str) -> Tuple[Dict[str, Any], bool, str]:
        """Stores a relayed user message once per ``message_id``; also says the handoff's state."""
        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool, str]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            existing = await tx.one(_by_client_id(handoff_id, "user", message_id))
            if existing:
                return existing, False, handoff["state"]
            if handoff["state"] not in OPEN_STATES:
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; user messages can only "
                               f"be relayed while it is queued or assigned.")
            message = await insert_message(tx, handoff_id, "user", handoff["sender_id"], text, message_id)
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id)
                         .values(last_user_at=message["created_at"]))
            await emit_message(self._events, tx, handoff, message)
            return message, True, handoff["state"]

        return await self._db.run_keyed(work)

    async def add_agent_message(
        self, handoff_id: str, agent_id: str, text: str, client_id: Optional[str],
        outbox_payload: Dict[str, Any],
    ) -> Tuple[Dict[str, Any], bool]:
        """Stores an agent message and queues its delivery, once per ``client_id``."""
        async def work(tx: Tx) -> Tuple[Dict[str, Any], bool]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_see(tx, agent_id, handoff)
            if client_id:
                existing = await tx.one(_by_client_id(handoff_id, "agent", client_id))
                if existing:
                    return existing, False
            if handoff["state"] != "assigned" or handoff["agent_id"] != agent_id:
                raise Conflict(
                    f"Handoff {handoff_id} is {handoff['state']}"
                    + (f" to {handoff['agent_id']}" if handoff["agent_id"] else "")
                    + "; only the assigned agent can send messages. Claim it first.")
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
        return await self._db.run(lambda tx: tx.all(
            sa.select(messages).where(messages.c.handoff_id == handoff_id).order_by(messages.c.id)))

    async def transitions(self, handoff_id: str) -> List[Dict[str, Any]]:
        return await self._db.run(lambda tx: tx.all(
            sa.select(transitions.c.from_state, transitions.c.to_state, transitions.c.actor, transitions.c.at)
            .where(transitions.c.handoff_id == handoff_id).order_by(transitions.c.id)))
