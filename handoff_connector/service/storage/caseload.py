"""The assignment of a waiting conversation, inside another change's transaction.

Shared by the stores that end or move an assignment: a claim takes it (or takes
it anyway), an agent going offline lets theirs lapse. The assignment itself
(a supervisor's, or the round robin's) is in ``assignments.py``.
"""

from __future__ import annotations

from typing import Any, Dict, List

import sqlalchemy as sa

from handoff_connector.service.storage.database import Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import emit_handoff, handoff_row
from handoff_connector.service.storage.schema import assignments, handoffs

_LOG = assignments.insert()
_CLEAR = dict(assigned_to=None, assigned_by=None, assigned_at=None)


async def log_assignment(tx: Tx, handoff_id: str, action: str, agent_id: Any, actor: str) -> None:
    await tx.run(_LOG, {"handoff_id": handoff_id, "action": action, "agent_id": agent_id, "actor": actor,
                        "at": tx.now})


async def clear_assignment(tx: Tx, handoff: Dict[str, Any], claimer: str) -> bool:
    """The claim of an assigned conversation ends its assignment; True if someone else
    than the assigned agent took it (logged as ``taken_anyway``)."""
    if handoff.get("assigned_to") is None:
        return False
    await tx.run(handoffs.update().where(handoffs.c.id == handoff["id"]).values(**_CLEAR))
    if handoff["assigned_to"] == claimer:
        await log_assignment(tx, handoff["id"], "claimed", claimer, f"agent:{claimer}")
        return False
    await log_assignment(tx, handoff["id"], "taken_anyway", handoff["assigned_to"], f"agent:{claimer}")
    return True


async def lapse_assignments(tx: Tx, events: EventLog, agent_id: str, actor: str = "presence") -> List[str]:
    """The agent went offline (or was removed: ``actor``): what waits assigned to them is plain
    queued again, each with an event. Returns the queues it was in."""
    rows = await tx.all(sa.select(handoffs.c.id).where(handoffs.c.assigned_to == agent_id,
                                                       handoffs.c.state == "queued")
                        .order_by(handoffs.c.id).with_for_update())
    touched: List[str] = []
    for row in rows:
        await tx.run(handoffs.update().where(handoffs.c.id == row["id"]).values(**_CLEAR))
        await log_assignment(tx, row["id"], "lapsed", agent_id, actor)
        handoff = await handoff_row(tx, row["id"])
        await emit_handoff(events, tx, "handoff.assignment", handoff, action="lapsed", agent_id=agent_id,
                           previous_agent_id=agent_id)
        if handoff["queue"] not in touched:
            touched.append(handoff["queue"])
    return touched
