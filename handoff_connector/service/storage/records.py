"""Reading and writing the rows every handoff change touches, inside a transaction.

A change locks the handoff's row first (``FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), then checks, then writes its
transition, messages, outbox items and event together.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.errors import Forbidden, NotFound
from handoff_connector.service.storage.database import Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.outbox import enqueue
from handoff_connector.service.storage.schema import agents, handoffs, memberships, messages, transitions

OPEN_STATES = ("queued", "assigned")


# Built once: the statements every change runs (see Tx.execute).
_HANDOFF = sa.select(handoffs).where(handoffs.c.id == sa.bindparam("id"))
_HANDOFF_LOCKED = _HANDOFF.with_for_update()
_TRANSITION = transitions.insert()
_MESSAGE = messages.insert().returning(*messages.c)
_AGENT_WROTE = handoffs.update().where(handoffs.c.id == sa.bindparam("hid")).values(
    last_agent_at=sa.bindparam("now"))
# An agent's message answers the user: their wait for an answer ends (a note does not).
_AGENT_ANSWERED = handoffs.update().where(handoffs.c.id == sa.bindparam("hid")).values(
    last_agent_at=sa.bindparam("now"), waiting_since=None)
_ACTOR = sa.select(agents).where(agents.c.id == sa.bindparam("id"))
_MEMBER = sa.select(memberships.c.queue).where(memberships.c.agent_id == sa.bindparam("agent"),
                                               memberships.c.queue == sa.bindparam("queue"))


def no_such_handoff(handoff_id: str) -> NotFound:
    return NotFound(f"No handoff with id {handoff_id!r}. List the queue for valid ids.")


async def handoff_row(tx: Tx, handoff_id: str, lock: bool = False) -> Dict[str, Any]:
    handoff = await tx.one(_HANDOFF_LOCKED if lock else _HANDOFF, {"id": handoff_id})
    if handoff is None:
        raise no_such_handoff(handoff_id)
    return handoff


async def transition(tx: Tx, handoff_id: str, from_state: Optional[str], to_state: str, actor: str) -> None:
    await tx.run(_TRANSITION, {"handoff_id": handoff_id, "from_state": from_state, "to_state": to_state,
                               "actor": actor, "at": tx.now})


async def insert_message(tx: Tx, handoff_id: str, role: str, author: str, text: str,
                         client_id: Optional[str], sent_at: Optional[float] = None,
                         late: bool = False) -> Dict[str, Any]:
    row = await tx.one(_MESSAGE, {"handoff_id": handoff_id, "role": role, "author": author, "text": text,
                                  "client_id": client_id, "created_at": tx.now, "sent_at": sent_at,
                                  "late": int(late)})
    assert row is not None
    if role in ("agent", "note"):
        await tx.run(_AGENT_ANSWERED if role == "agent" else _AGENT_WROTE, {"hid": handoff_id, "now": tx.now})
    return {**row, "late": bool(row["late"])}


async def emit_handoff(events: EventLog, tx: Tx, kind: str, handoff: Dict[str, Any],
                       previous_agent_id: Optional[str] = None, **extra: Any) -> None:
    await events.emit(tx, kind, {"handoff": summary(handoff), **extra}, handoff_id=handoff["id"],
                      queue=handoff["queue"], agent_id=handoff["agent_id"],
                      previous_agent_id=previous_agent_id)


async def emit_message(events: EventLog, tx: Tx, handoff: Dict[str, Any], message: Dict[str, Any]) -> None:
    await events.emit(tx, "handoff.message", {"handoff_id": handoff["id"], "message": message},
                      handoff_id=handoff["id"], queue=handoff["queue"], agent_id=handoff["agent_id"])


async def agent_message(events: EventLog, tx: Tx, handoff: Dict[str, Any], agent_id: str,
                        payload: Dict[str, Any], client_id: Optional[str]) -> Dict[str, Any]:
    """An agent's message for the user: stored, queued for delivery, announced."""
    message = await insert_message(tx, handoff["id"], "agent", agent_id, payload["text"], client_id)
    await enqueue(tx, handoff, "message", {**payload, "message_id": message["id"]})
    await emit_message(events, tx, handoff, message)
    return message


async def system_message(events: EventLog, tx: Tx, handoff: Dict[str, Any], text: str) -> Dict[str, Any]:
    """A message from the connector itself for the user (place in line, urgency, still
    here): stored, queued for delivery in order with the rest, announced."""
    message = await insert_message(tx, handoff["id"], "system", "system", text, None)
    await enqueue(tx, handoff, "message", {"text": text, "system": True, "message_id": message["id"]})
    await emit_message(events, tx, handoff, message)
    return message


async def check_may_see(tx: Tx, actor_id: str, handoff: Dict[str, Any]) -> Dict[str, Any]:
    """The actor's row, if they may see ``handoff`` now: a supervisor, its agent, or in its queue."""
    actor = await tx.one(_ACTOR, {"id": actor_id})
    if actor is None or not actor["active"]:
        raise Forbidden(f"Agent {actor_id!r} no longer exists or was deactivated; sign in again.")
    if actor["role"] == "supervisor" or handoff["agent_id"] == actor_id:
        return actor
    member = await tx.one(_MEMBER, {"agent": actor_id, "queue": handoff["queue"]})
    if member is None:
        raise Forbidden(f"Handoff {handoff['id']} is not in your queues nor assigned to you.")
    return actor


async def check_may_act(tx: Tx, actor_id: str, handoff: Dict[str, Any], action: str) -> None:
    """Only its agent or a supervisor may act on an assigned handoff."""
    actor = await check_may_see(tx, actor_id, handoff)
    if handoff["agent_id"] not in (None, actor_id) and actor["role"] != "supervisor":
        raise Forbidden(f"Handoff {handoff['id']} is assigned to {handoff['agent_id']}; "
                        f"only they or a supervisor can {action} it.")


def oldest_first(state: str, names: Optional[List[str]] = None) -> sa.Select[Any]:
    """Handoffs in ``state`` (of the queues ``names``; None: all), oldest first: the line's order."""
    statement = sa.select(handoffs).where(handoffs.c.state == state)
    if names is not None:
        statement = statement.where(handoffs.c.queue.in_(names))
    # The most urgent first, then the longest waiting.
    return statement.order_by(handoffs.c.urgency.desc(), handoffs.c.created_at, handoffs.c.id)


def summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """The handoff as listed in a queue and in events (no transcript)."""
    context = handoff["context"]
    return {
        "id": handoff["id"],
        "state": handoff["state"],
        "queue": handoff["queue"],
        "trigger": handoff["trigger"],
        "reasons": handoff["reasons"],
        "sender_id": handoff["sender_id"],
        "channel": handoff["channel"],
        "agent_id": handoff["agent_id"],
        "created_at": handoff["created_at"],
        "claimed_at": handoff["claimed_at"],
        "closed_at": handoff["closed_at"],
        "resolution": handoff["resolution"],
        "contact": handoff.get("contact"),
        # Who a supervisor (or the round robin) asked to take it while it waits.
        "assigned_to": handoff.get("assigned_to"),
        "assigned_by": handoff.get("assigned_by"),
        "assigned_at": handoff.get("assigned_at"),
        # How urgent (docs/urgency.md): 0 none, else the level's rank; its name and why.
        "urgency": handoff.get("urgency") or 0,
        "urgency_level": handoff.get("urgency_level"),
        "urgency_label": handoff.get("urgency_label"),
        # Since when the user waits for the agent's answer (null: answered, or not yet spoken).
        "waiting_since": handoff.get("waiting_since"),
        "last_user_text": next(
            (t["text"] for t in reversed(context.get("transcript") or []) if t.get("role") == "user"),
            None,
        ),
    }
