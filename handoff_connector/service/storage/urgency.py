"""How urgent a handoff is: raised by a signal in what the user said, or by an agent by hand.

Urgent handoffs go first in line (``records.oldest_first``). Each change is logged in
``urgency_changes`` in the change's own transaction, and announced as
``handoff.urgency``; a raise to a level with a message for the user queues that
message (the crisis line's number, say) on the outbox, in order with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.errors import Conflict
from handoff_connector.service.signals import Match
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import (
    OPEN_STATES,
    check_may_see,
    emit_handoff,
    handoff_row,
    system_message,
)
from handoff_connector.service.storage.schema import handoffs, urgency_changes


@dataclass(frozen=True)
class Change:
    """A handoff's new urgency: ``rank`` 0 clears it. ``message``: what the user hears."""

    rank: int
    level: str
    label: Optional[str]
    reason: str
    actor: str  # "signal" or agent:<id>
    message: Optional[str] = None


async def apply(tx: Tx, events: EventLog, handoff: Dict[str, Any], change: Change,
                announce: bool = True) -> Dict[str, Any]:
    """Sets and logs ``change`` on ``handoff`` (locked by the caller); the row after it.

    A signal only ever raises (a later, milder match changes nothing); an agent may
    also lower or clear it.
    """
    if change.actor == "signal" and change.rank <= handoff["urgency"]:
        return handoff
    if change.rank == handoff["urgency"] and change.label == handoff["urgency_label"]:
        return handoff
    await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(
        urgency=change.rank, urgency_level=change.level if change.rank else None,
        urgency_label=change.label if change.rank else None))
    await tx.run(urgency_changes.insert().values(
        handoff_id=handoff["id"], urgency=change.rank, level=change.level, label=change.label,
        reason=change.reason, actor=change.actor, at=tx.now))
    after = await handoff_row(tx, handoff["id"])
    if change.message and change.rank > handoff["urgency"]:
        await system_message(events, tx, after, change.message)
    if announce:
        await emit_handoff(events, tx, "handoff.urgency", after, urgency_level=change.level,
                           urgency_reason=change.reason, urgency_actor=change.actor)
    return after


class UrgencyStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    async def set_by_hand(self, handoff_id: str, actor_id: str, change: Change) -> Dict[str, Any]:
        """An agent who may see the handoff (checked here, in the change's transaction) sets it."""
        async def work(tx: Tx) -> Dict[str, Any]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            await check_may_see(tx, actor_id, handoff)
            if handoff["state"] not in OPEN_STATES:
                raise Conflict(f"Handoff {handoff_id} is {handoff['state']}; only an open one's urgency "
                               f"can change.")
            return await apply(tx, self._events, handoff, change)

        return await self._db.run(work)

    async def changes(self, handoff_id: str) -> List[Dict[str, Any]]:
        """The handoff's urgency log, oldest first."""
        return await self._db.read(lambda tx: tx.all(
            sa.select(urgency_changes.c.urgency, urgency_changes.c.level, urgency_changes.c.label,
                      urgency_changes.c.reason, urgency_changes.c.actor, urgency_changes.c.at)
            .where(urgency_changes.c.handoff_id == handoff_id).order_by(urgency_changes.c.id)))


def signal_change(match: Optional[Match]) -> Optional[Change]:
    """A signal's match as a change (with its level's message for the user); None for none."""
    if match is None:
        return None
    return Change(match.level.rank, match.level.name, match.label, f"matched {match.found!r}", "signal",
                  match.level.message)
