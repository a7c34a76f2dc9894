"""Reminders: a user waiting too long for the agent's answer.

``handoffs.waiting_since`` is the user's first message since the agent's last one
(set by the relay, cleared by the agent's next message). Past one threshold the
agent is reminded (a ``handoff.reminder`` event; the desk highlights the
conversation); past the other the user hears that someone is still on it. Each at
most once per wait: the row records when (``reminded_at``, ``still_here_at``) and
the check is made again inside the change's transaction, with the row locked.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import emit_handoff, handoff_row, system_message
from handoff_connector.service.storage.schema import handoffs

LIMIT = 200  # a round's most; the next round takes the rest


def _due(column: Any, now: float, after: float) -> Any:
    """Assigned, waiting since before ``now - after``, and not yet done in this wait."""
    return sa.and_(handoffs.c.state == "assigned", handoffs.c.waiting_since <= now - after,
                   sa.or_(column.is_(None), column < handoffs.c.waiting_since))


class Reminders:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def due(self, kind: str, after: float) -> List[Dict[str, Any]]:
        """The handoffs due a reminder (``kind`` "agent") or a "still here" ("user")."""
        column = handoffs.c.reminded_at if kind == "agent" else handoffs.c.still_here_at
        return await self._db.run(lambda tx: tx.all(
            sa.select(handoffs.c.id, handoffs.c.agent_id, handoffs.c.queue, handoffs.c.context)
            .where(_due(column, tx.now, after)).order_by(handoffs.c.waiting_since).limit(LIMIT)))

    async def remind_agent(self, handoff_id: str, after: float) -> Optional[Dict[str, Any]]:
        """Reminds the agent (an event), if still due; the handoff, or None."""
        async def work(tx: Tx) -> Optional[Dict[str, Any]]:
            if not await self._lock_if_due(tx, handoff_id, handoffs.c.reminded_at, after):
                return None
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(reminded_at=tx.now))
            handoff = await handoff_row(tx, handoff_id)
            await emit_handoff(self._events, tx, "handoff.reminder", handoff,
                               waiting_since=handoff["waiting_since"])
            return handoff

        return await self._db.run(work)

    async def tell_still_here(self, handoff_id: str, after: float, text: str) -> bool:
        """Tells the user someone is still on it (a system message on the outbox), if still due."""
        async def work(tx: Tx) -> bool:
            if not await self._lock_if_due(tx, handoff_id, handoffs.c.still_here_at, after):
                return False
            await tx.run(handoffs.update().where(handoffs.c.id == handoff_id).values(still_here_at=tx.now))
            handoff = await handoff_row(tx, handoff_id)
            await system_message(self._events, tx, handoff, text)
            return True

        return await self._db.run(work)

    async def _lock_if_due(self, tx: Tx, handoff_id: str, column: Any, after: float) -> bool:
        row = await tx.one(sa.select(handoffs.c.id).where(handoffs.c.id == handoff_id, _due(column, tx.now, after))
                           .with_for_update(skip_locked=True))  # busy now (a reply?): next round
        return row is not None
