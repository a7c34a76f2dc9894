"""Retention and redaction: what was said in old conversations deleted or redacted.

Deleting keeps the handoff's row and its figures (times, queue, trigger,
resolution, rating, the transcript's turns without their text) for insights,
and removes everything that holds what someone said or who they are:
messages and notes, the context's texts and slots, the close note, the
contact, the survey comment, the conversation's id (a phone number, on SMS),
and the copies in the event log and the outbox. Redacting replaces, in all of
those, what the patterns match. On SQLite the full-text tables follow by
triggers and are then merged (``optimize``) so that no deleted word stays in
their pages; on PostgreSQL the GIN indexes are over the rows themselves.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import sqlalchemy as sa

from handoff_connector.service.errors import Forbidden
from handoff_connector.service.redaction import Redaction
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.records import handoff_row
from handoff_connector.service.storage.schema import (
    agents,
    dispatches,
    events,
    follow_ups,
    handoffs,
    help_requests,
    leases,
    messages,
    outbox,
    surveys,
    urgency_changes,
)

ENDED = ("closed", "returned", "cancelled", "abandoned")
BATCH = 100
_KEPT = ("trigger", "reasons", "channel", "language", "queue", "resumed_from")
_ERASED = {"erased": True}


def stripped(context: Dict[str, Any]) -> Dict[str, Any]:
    """The context without anything said or personal: the turns' roles and times stay."""
    kept = {key: context[key] for key in _KEPT if key in context}
    kept["transcript"] = [{"role": t.get("role"), "timestamp": t.get("timestamp"), "text": None}
                          for t in context.get("transcript") or [] if isinstance(t, dict)]
    kept["recent_intents"] = [{k: v for k, v in i.items() if k in ("intent", "name", "confidence")}
                              for i in context.get("recent_intents") or [] if isinstance(i, dict)]
    return kept


def _counts() -> Dict[str, int]:
    return {"handoffs": 0, "messages": 0, "notes": 0, "contacts": 0, "survey_comments": 0, "matches": 0}


async def _delete(tx: Tx, ids: Sequence[str], counts: Dict[str, int]) -> None:
    said = await tx.all(sa.select(messages.c.role, sa.func.count().label("n")).where(
        messages.c.handoff_id.in_(ids)).group_by(messages.c.role))
    counts["notes"] += sum(r["n"] for r in said if r["role"] == "note")
    counts["messages"] += sum(r["n"] for r in said if r["role"] != "note")
    await tx.run(messages.delete().where(messages.c.handoff_id.in_(ids)))
    for row in await tx.all(sa.select(handoffs.c.id, handoffs.c.context, handoffs.c.contact)
                            .where(handoffs.c.id.in_(ids))):
        counts["contacts"] += row["contact"] is not None
        await tx.run(handoffs.update().where(handoffs.c.id == row["id"]).values(
            context=stripped(row["context"]), close_note=None, contact=None, sender_id=f"erased:{row['id']}",
            idempotency_key=f"erased:{row['id']}", request_digest=None, resume_token=None,
            resume_expires_at=None, erased_at=tx.now, erasure="deleted"))
    counts["survey_comments"] += await tx.run(surveys.update().where(
        surveys.c.handoff_id.in_(ids), surveys.c.comment.is_not(None)).values(comment=None))
    await tx.run(events.update().where(events.c.handoff_id.in_(ids)).values(payload=_ERASED))
    # A delivery's error names the conversation's address (its id) too.
    await tx.run(outbox.update().where(outbox.c.handoff_id.in_(ids)).values(
        payload=_ERASED, sender_id=sa.literal("erased:") + outbox.c.handoff_id, last_error=None))
    # What matched in the user's words, and what the agent asked a supervisor.
    await tx.run(urgency_changes.update().where(urgency_changes.c.handoff_id.in_(ids)).values(reason="[erased]"))
    await tx.run(help_requests.update().where(help_requests.c.handoff_id.in_(ids)).values(message="[erased]"))
    # Follow-ups: what the user was told and their address; emails not yet sent are not sent.
    await tx.run(follow_ups.update().where(follow_ups.c.handoff_id.in_(ids)).values(
        note="[erased]", email=None, link_token=None))
    await tx.run(dispatches.update().where(dispatches.c.handoff_id.in_(ids)).values(
        payload=_ERASED, last_error=None,
        state=sa.case((dispatches.c.state == "pending", "erased"), else_=dispatches.c.state)))
    counts["handoffs"] += len(ids)


async def _redact(tx: Tx, ids: Sequence[str], redaction: Redaction, counts: Dict[str, int],
                  mark: bool) -> None:
    for message in await tx.all(sa.select(messages.c.id, messages.c.role, messages.c.text)
                                .where(messages.c.handoff_id.in_(ids))):
        text, found = redaction.text(message["text"])
        if found:
            counts["matches"] += found
            counts["notes" if message["role"] == "note" else "messages"] += 1
            await tx.run(messages.update().where(messages.c.id == message["id"]).values(text=text))
    for row in await tx.all(sa.select(handoffs).where(handoffs.c.id.in_(ids))):
        values: Dict[str, Any] = {"erased_at": tx.now, "erasure": "redacted"} if mark else {}
        for column in ("context", "close_note", "contact", "sender_id"):
            value, found = redaction.value(row[column])
            if found:
                counts["matches"] += found
                values[column] = value
        if "contact" in values:
            counts["contacts"] += 1
        if "sender_id" in values:  # the conversation's id was personal: it no longer links others
            values.update(sender_id=f"redacted:{row['id']}", idempotency_key=f"redacted:{row['id']}")
        if values:
            await tx.run(handoffs.update().where(handoffs.c.id == row["id"]).values(**values))
        survey = await tx.one(sa.select(surveys.c.comment).where(surveys.c.handoff_id == row["id"]))
        comment, found = redaction.value(survey["comment"] if survey else None)
        if found:
            counts["matches"] += found
            counts["survey_comments"] += 1
            await tx.run(surveys.update().where(surveys.c.handoff_id == row["id"]).values(comment=comment))
        await _redact_follow_ups(tx, row["id"], redaction, counts)
        for table in (events, outbox, dispatches):
            for item in await tx.all(sa.select(table.c.id, table.c.payload).where(table.c.handoff_id == row["id"])):
                payload, found = redaction.value(item["payload"])
                if found:
                    await tx.run(table.update().where(table.c.id == item["id"]).values(payload=payload))
        if "sender_id" in values:
            await tx.run(outbox.update().where(outbox.c.handoff_id == row["id"]).values(
                sender_id=values["sender_id"], last_error=None))
        counts["handoffs"] += 1


async def _redact_follow_ups(tx: Tx, handoff_id: str, redaction: Redaction, counts: Dict[str, int]) -> None:
    """What a follow-up told the user, and where it was sent."""
    for item in await tx.all(sa.select(follow_ups.c.id, follow_ups.c.note, follow_ups.c.email)
                             .where(follow_ups.c.handoff_id == handoff_id)):
        values: Dict[str, Any] = {}
        for column in ("note", "email"):
            value, found = redaction.value(item[column])
            if found:
                counts["matches"] += found
                values[column] = value
        if values:
            await tx.run(follow_ups.update().where(follow_ups.c.id == item["id"]).values(**values))


async def _merge_search(tx: Tx) -> None:
    """SQLite: FTS5 keeps a deleted word in its pages, marked deleted, until segments merge."""
    if not tx.postgres:
        await tx.execute(sa.text("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')"))
        await tx.execute(sa.text("INSERT INTO handoffs_fts (handoffs_fts) VALUES ('optimize')"))


class Erasure:
    def __init__(self, db: Database, events_log: EventLog, instance: str) -> None:
        self._db = db
        self._events = events_log
        self._instance = instance

    async def due(self, before: float) -> List[str]:
        """Ended handoffs closed before ``before`` that retention has not gone over, oldest first."""
        return [r["id"] for r in await self._db.run(lambda tx: tx.all(
            sa.select(handoffs.c.id).where(handoffs.c.closed_at < before, handoffs.c.state.in_(ENDED),
                                           handoffs.c.erased_at.is_(None))
            .order_by(handoffs.c.closed_at, handoffs.c.id)))]

    async def apply(self, ids: Sequence[str], action: str, redaction: Redaction) -> Dict[str, int]:
        """Deletes or redacts ``ids`` (those still due), a batch per transaction; what it changed."""
        counts = _counts()
        for start in range(0, len(ids), BATCH):
            chunk = list(ids[start:start + BATCH])

            async def work(tx: Tx, chunk: List[str] = chunk) -> None:
                due = [r["id"] for r in await tx.all(sa.select(handoffs.c.id).where(
                    handoffs.c.id.in_(chunk), handoffs.c.erased_at.is_(None)).with_for_update())]
                if not due:
                    return
                if tx.postgres:  # their rows locked: the events committed for them are all in the log now
                    await self._events.move(tx)
                if action == "delete":
                    await _delete(tx, due, counts)
                else:
                    await _redact(tx, due, redaction, counts, mark=True)
                await _merge_search(tx)

            await self._db.run(work)
        return counts

    async def redact_one(self, handoff_id: str, actor: str, redaction: Redaction,
                         actor_id: str | None = None) -> Dict[str, int]:
        """Redacts one conversation on request (a supervisor's, or ``actor`` "cli"), recorded as an event."""
        async def work(tx: Tx) -> Dict[str, int]:
            handoff = await handoff_row(tx, handoff_id, lock=True)
            if tx.postgres:  # its row locked: the events committed for it are all in the log now
                await self._events.move(tx)
            if actor_id is not None:
                who = await tx.one(sa.select(agents.c.role).where(agents.c.id == actor_id))
                if who is None or who["role"] != "supervisor":
                    raise Forbidden("Only a supervisor can redact a conversation.")
            counts = _counts()
            await _redact(tx, [handoff_id], redaction, counts, mark=False)
            await _merge_search(tx)
            await self._events.emit(tx, "handoff.redacted", {"handoff_id": handoff_id, "by": actor, **counts},
                                    handoff_id=handoff_id, queue=handoff["queue"], agent_id=handoff["agent_id"])
            return counts

        return await self._db.run(work)

    async def take_daily(self, name: str, seconds: float) -> bool:
        """True for one instance once per ``seconds``: the mark is taken only when it has run out."""
        async def work(tx: Tx) -> bool:
            await tx.upsert(leases, {"name": name, "owner": "", "until": 0.0}, ["name"])
            return bool(await tx.run(leases.update().where(leases.c.name == name, leases.c.until < tx.now)
                                     .values(owner=self._instance, until=tx.now + seconds)))

        return await self._db.run(work)
