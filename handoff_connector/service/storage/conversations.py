"""Every bot conversation, from Rasa's event broker: folding events in, and the designer's figures.

``ingest`` folds a batch of broker rows and moves the source's cursor in the
same transaction, so a batch counts once even when two instances race for it
(the cursor's row is locked; a batch at or before the cursor is skipped).
``ingest_unique`` does the same for messages without an id (Rasa's Pika
broker): each message's digest is stored with the fold, and a digest already
there is a redelivery, passed over.
The figures count conversations that *started* in the period and in which the
user said something (a session opened and left is no bot conversation).
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from handoff_connector.service.bot_events import (
    OFFER_KINDS,
    fold,
    new_conversation,
    settle_handoff,
    starts_conversation,
)
from handoff_connector.service.errors import Forbidden, Unauthorized
from handoff_connector.service.storage.database import Database, Tx
from handoff_connector.service.storage.schema import (
    agents,
    bot_conversations,
    bot_event_cursors,
    bot_event_digests,
    handoffs,
)

BrokerRow = Tuple[int, str, Dict[str, Any]]  # (id, sender_id, event)
Message = Tuple[str, str, Dict[str, Any]]  # (digest, sender_id, event): a broker message without an id
GROUPS = ("trigger", "queue", "channel", "day", "hour")
EXAMPLES = 3  # example conversations per path or response

C = bot_conversations.c
_LATEST = (sa.select(bot_conversations).where(C.sender_id == sa.bindparam("sender"))
           .order_by(C.id.desc()).limit(1))
_HANDOFF = sa.select(handoffs.c.trigger, handoffs.c.reasons, handoffs.c.queue, handoffs.c.channel).where(
    handoffs.c.id == sa.bindparam("id"))
_COUNTERS = [f"{count}_{kind}" for count in ("offers", "accepted", "declined") for kind in OFFER_KINDS]
_WRITTEN = [c.name for c in bot_conversations.c if c.name != "id"]


class Conversations:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def position(self, source: str) -> int:
        """The last broker row of ``source`` folded in (0: none yet)."""
        found = await self._db.run(lambda tx: tx.scalar(
            sa.select(bot_event_cursors.c.position).where(bot_event_cursors.c.source == source)))
        return int(found or 0)

    async def ingest(self, source: str, rows: Sequence[BrokerRow], up_to: int) -> int:
        """Folds ``rows`` (ordered by id) and sets the cursor to ``up_to``; returns how many were new."""
        async def work(tx: Tx) -> int:
            position = await self._lock(tx, source)
            fresh = [row for row in rows if row[0] > position]
            await self._fold(tx, fresh)
            if up_to > position:
                await tx.run(bot_event_cursors.update().where(bot_event_cursors.c.source == source)
                             .values(position=up_to, updated_at=tx.now))
            return len(fresh)

        return await self._db.run(work)

    async def ingest_unique(self, source: str, messages: Sequence[Message]) -> int:
        """Folds ``messages`` (in the order they came) whose digest was not folded before;
        returns how many were new. The source's cursor row, locked, counts them and keeps
        two instances' folds one after the other."""
        async def work(tx: Tx) -> int:
            position = await self._lock(tx, source)
            digests = list({digest for digest, _, _ in messages})
            seen = {r["digest"] for r in await tx.all(
                sa.select(bot_event_digests.c.digest).where(bot_event_digests.c.digest.in_(digests)))}
            fresh: List[BrokerRow] = []
            for digest, sender, event in messages:
                if digest not in seen:
                    seen.add(digest)  # the same message twice in one batch (Rasa published it again)
                    fresh.append((0, sender, event))
                    await tx.run(bot_event_digests.insert().values(digest=digest, seen_at=tx.now))
            await self._fold(tx, fresh)
            if fresh:
                await tx.run(bot_event_cursors.update().where(bot_event_cursors.c.source == source)
                             .values(position=position + len(fresh), updated_at=tx.now))
            return len(fresh)

        return await self._db.run(work)

    async def forget_digests(self, before: float) -> int:
        """Drops the digests of messages folded before ``before``; returns how many."""
        return await self._db.run(lambda tx: tx.run(
            bot_event_digests.delete().where(bot_event_digests.c.seen_at < before)))

    @staticmethod
    async def _lock(tx: Tx, source: str) -> int:
        await tx.upsert(bot_event_cursors, {"source": source, "position": 0, "updated_at": tx.now}, ["source"])
        cursor = sa.select(bot_event_cursors.c.position).where(bot_event_cursors.c.source == source)
        return int(await tx.scalar(cursor.with_for_update() if tx.postgres else cursor))

    async def _fold(self, tx: Tx, rows: Sequence[BrokerRow]) -> None:
        by_sender: Dict[str, List[Dict[str, Any]]] = {}
        for _, sender, event in rows:
            by_sender.setdefault(sender, []).append(event)
        for sender, events in by_sender.items():
            current = await tx.one(_LATEST, {"sender": sender})
            for event in events:
                if starts_conversation(current, event):
                    if current is not None:
                        await _save(tx, current)
                    current = new_conversation(sender, _start_of(event, tx.now))
                assert current is not None
                began = fold(current, event)
                if began is not None:
                    settle_handoff(current, await tx.one(_HANDOFF, {"id": began}))
            if current is not None:
                await _save(tx, current)

    async def figures(self, viewer: str, since: float, until: float, by: Optional[str]) -> Dict[str, Any]:
        """Rates and counts of the period, and per ``by`` (one of GROUPS) if given."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _supervisor(tx, viewer)
            period = _in_period(since, until)
            total = await tx.one(_tally(sa.select()).where(*period))
            assert total is not None
            result: Dict[str, Any] = {"totals": _figures(total, int(total["conversations"]))}
            if by is not None:
                result["groups"] = await _groups(tx, by, period, int(total["conversations"]))
            return result

        return await self._db.run(work)

    async def turns(self, viewer: str, since: float, until: float, trigger: Optional[str]) -> Dict[str, Any]:
        """How many handoffs began at each user turn."""
        async def work(tx: Tx) -> Dict[str, Any]:
            await _supervisor(tx, viewer)
            rows = await tx.all(sa.select(C.handoff_turn.label("turn"), sa.func.count().label("count"))
                                .where(*_escalated(since, until, trigger)).group_by(C.handoff_turn)
                                .order_by(C.handoff_turn))
            values = [r["turn"] for r in rows for _ in range(int(r["count"]))]
            return {"escalated": len(values), "turns": [{"turn": r["turn"], "count": int(r["count"])} for r in rows],
                    "median": statistics.median(values) if values else None,
                    "mean": round(statistics.fmean(values), 2) if values else None}

        return await self._db.run(work)

    async def handoff_rows(self, viewer: str, since: float, until: float,
                           triggers: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
        """The escalated conversations of the period, latest first (for paths and responses)."""
        async def work(tx: Tx) -> List[Dict[str, Any]]:
            await _supervisor(tx, viewer)
            where = _escalated(since, until, None)
            if triggers is not None:
                where.append(C.trigger.in_(list(triggers)))
            return await tx.all(sa.select(C.id, C.sender_id, C.handoff_id, C.trigger, C.path, C.path_key,
                                          C.response_before, C.fold, C.handoff_at)
                                .where(*where).order_by(C.handoff_at.desc(), C.id.desc()))

        return await self._db.run(work)


def _start_of(event: Dict[str, Any], now: float) -> float:
    timestamp = event.get("timestamp")
    return float(timestamp) if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) else now


async def _save(tx: Tx, conversation: Dict[str, Any]) -> None:
    values = {name: conversation[name] for name in _WRITTEN}
    if conversation["id"] is None:
        conversation["id"] = await tx.scalar(bot_conversations.insert().values(**values).returning(C.id))
    else:
        await tx.run(bot_conversations.update().where(C.id == conversation["id"]).values(**values))


async def _supervisor(tx: Tx, viewer: str) -> None:
    """Checked in the reading transaction: the figures are the supervisors'."""
    role = await tx.scalar(sa.select(agents.c.role).where(agents.c.id == viewer))
    if role is None:
        raise Unauthorized("Unknown agent; sign in again (POST /api/v1/login).")
    if role != "supervisor":
        raise Forbidden("The bot's insights are for supervisors.")


def _in_period(since: float, until: float) -> List[Any]:
    return [C.started_at >= since, C.started_at < until, C.turns > 0]


def _escalated(since: float, until: float, trigger: Optional[str]) -> List[Any]:
    where = [*_in_period(since, until), C.handoff_id.is_not(None)]
    if trigger is not None:
        where.append(C.trigger == trigger)
    return where


def _tally(select: sa.Select[Any]) -> sa.Select[Any]:
    return select.add_columns(
        sa.func.count().label("conversations"),
        sa.func.count(C.handoff_id).label("escalated"),
        sa.func.coalesce(sa.func.sum(C.handoffs), 0).label("handoffs"),
        *[sa.func.coalesce(sa.func.sum(getattr(C, name)), 0).label(name) for name in _COUNTERS],
    ).select_from(bot_conversations)


def _offers(row: Dict[str, Any], kinds: Sequence[str] = OFFER_KINDS) -> Dict[str, Any]:
    made, accepted, declined = (sum(int(row[f"{count}_{kind}"]) for kind in kinds)
                                for count in ("offers", "accepted", "declined"))
    return {"made": made, "accepted": accepted, "declined": declined,
            "unanswered": made - accepted - declined, "acceptance_rate": _rate(accepted, made)}


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _figures(row: Dict[str, Any], conversations: int) -> Dict[str, Any]:
    escalated = int(row["escalated"])
    rate = _rate(escalated, conversations)
    return {"conversations": conversations, "escalated": escalated, "contained": conversations - escalated,
            "escalation_rate": rate, "containment_rate": None if rate is None else round(1 - rate, 4),
            "handoffs": int(row["handoffs"]), "offers": _offers(row),
            "offers_by_trigger": {kind: _offers(row, [kind]) for kind in OFFER_KINDS}}


async def _groups(tx: Tx, by: str, period: List[Any], total: int) -> List[Dict[str, Any]]:
    """Per trigger or queue: the share of all conversations that went to a person that way;
    per channel, day or hour: each group's own conversations."""
    column = getattr(C, by)
    where = [*period, C.handoff_id.is_not(None)] if by in ("trigger", "queue") else period
    rows = await tx.all(_tally(sa.select(column.label("key"))).where(*where).group_by(column))
    rows.sort(key=lambda r: (r["key"] is None, r["key"] or 0))  # by key, none last (on both databases)
    escalations = sum(int(r["escalated"]) for r in rows)
    reasons: Dict[Any, Counter[str]] = {}
    offered: Dict[str, Any] = {}
    if by == "trigger":
        offered = await tx.one(_tally(sa.select()).where(*period)) or {}
        for row in await tx.all(sa.select(C.trigger, C.reasons).where(*where)):
            reasons.setdefault(row["trigger"], Counter()).update(row["reasons"] or [])
    found = []
    for row in rows:
        whole = total if by in ("trigger", "queue") else int(row["conversations"])
        figures = _figures(row, whole)
        group = {"key": row["key"], "conversations": whole, "escalated": figures["escalated"],
                 "escalation_rate": figures["escalation_rate"],
                 "containment_rate": None if by in ("trigger", "queue") else figures["containment_rate"],
                 "share_of_escalations": _rate(figures["escalated"], escalations), "offers": figures["offers"]}
        if by == "trigger":
            group["reasons"] = dict(sorted(reasons.get(row["key"], Counter()).items()))
            # Offers belong to the trigger that made them, escalated or not (none: explicit).
            group["offers"] = _offers(offered, [row["key"]]) if row["key"] in OFFER_KINDS else None
        found.append(group)
    return found


def top(rows: List[Dict[str, Any]], key: str, limit: int) -> List[Tuple[Any, List[Dict[str, Any]]]]:
    """Rows grouped by ``key``, the largest groups first (ties: the latest example first)."""
    groups: Dict[Any, List[Dict[str, Any]]] = {}
    for row in rows:  # latest first, so each group's first rows are its latest examples
        groups.setdefault(row[key], []).append(row)
    ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
    return ranked[:limit]


def example(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"conversation_id": row["id"], "handoff_id": row["handoff_id"], "sender_id": row["sender_id"],
            "handoff_at": row["handoff_at"]}
