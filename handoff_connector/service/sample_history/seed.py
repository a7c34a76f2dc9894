"""Writes the sample history into an empty database: ``seed-history``, and ``make demo`` once.

The handoffs go through the stores, as the views call them, on a clock set to
each planned moment (``Database.clock``), so their transitions, messages,
surveys and events carry realistic times in the past. Then every conversation's
Rasa events go through the broker's fold (``Conversations.ingest``) under a
source of their own, ``sample_history``: Rasa's own broker table and its
cursor are not touched, and the fold links each conversation to its handoff by
the ``handoff_id`` slot, as it does for real ones.

It never mixes into a real line's data: it writes only into a database with
no handoff and no bot conversation yet, and a database it seeded before is
left as it is. The outbox items the history made are marked delivered: nothing
of it is ever sent to Rasa.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from handoff_connector.service.config import Config
from handoff_connector.service.errors import HandoffError
from handoff_connector.service.sample_history.drive import Drive
from handoff_connector.service.sample_history.events import render
from handoff_connector.service.sample_history.model import DAY, History
from handoff_connector.service.sample_history.plans import DEPLOYED_ON_DAY, MODELS, build
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.conversations import BrokerRow
from handoff_connector.service.storage.schema import bot_conversations, bot_event_cursors, handoffs, outbox

logger = logging.getLogger(__name__)

SOURCE = "sample_history"  # its cursor row marks a database this seeded
BATCH = 1000
QUEUES = ("general", "food", "housing", "utilities")
AGENTS = ("sarah", "miguel", "dana")
RESOLUTIONS = ("resolved", "referred", "callback_scheduled", "not_resolved")


class SampleHistoryError(HandoffError):
    """The sample history cannot go into this database (it says why)."""


class Clock:
    """The time the stores write: each planned moment in turn."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def history_end(now: float) -> float:
    """The history ends at the midnight (UTC) before ``now``."""
    return float(now - now % DAY)


async def status(storage: Storage) -> str:
    """``empty``, ``seeded`` (by this), ``interrupted`` (a seeding that did not finish) or ``in_use``."""
    async def work(tx: Any) -> str:
        position = await tx.scalar(sa.select(bot_event_cursors.c.position)
                                   .where(bot_event_cursors.c.source == SOURCE))
        if position is not None:
            return "seeded" if position > 0 else "interrupted"
        used = await tx.scalar(sa.select(sa.func.count()).select_from(sa.select(handoffs.c.id).limit(1).subquery()))
        talked = await tx.scalar(sa.select(sa.func.count()).select_from(
            sa.select(bot_conversations.c.id).limit(1).subquery()))
        return "in_use" if used or talked else "empty"

    return str(await storage.db.run(work))


async def seed(storage: Storage, config: Config, now: Optional[float] = None) -> Dict[str, Any]:
    """Writes the two weeks before ``now`` (default: the time now); says what it wrote.

    Raises:
        SampleHistoryError: the database holds a line's own data, an earlier
            seeding was interrupted, or the line is not the demo's.
    """
    began = time.monotonic()
    found = await status(storage)
    if found == "seeded":
        return {"seeded": False, "status": "This database already holds the sample history; nothing was added."}
    if found == "interrupted":
        raise SampleHistoryError("An earlier seed-history did not finish; start from a new database "
                                 "(delete the file, or drop and create it) and run it again.")
    if found == "in_use":
        raise SampleHistoryError("This database already has handoffs or bot conversations of its own; the "
                                 "sample history goes only into an empty one, so it never mixes with a "
                                 "real line's figures.")
    await _check_line(storage, config)
    history = build(history_end(time.time() if now is None else now))
    clock = Clock(history.start)
    previous = storage.db.clock
    storage.db.clock = clock
    try:
        await storage.conversations.ingest(SOURCE, [], 0)  # the mark: begun
        ids = await Drive(storage, config, clock).handoffs(history)
        clock.now = time.time() if now is None else now
        events = await _fold(storage, history, ids, {q.name: q.team for q in config.queues})
        await _delivered(storage, list(ids.values()))
    finally:
        storage.db.clock = previous
    logger.info("handoff.sample_history.seeded conversations=%s handoffs=%s", len(history.conversations), len(ids))
    return _summary(history, len(ids), events, time.monotonic() - began)


async def _check_line(storage: Storage, config: Config) -> None:
    """The history is the demo's line: its queues, agents and resolutions must be there."""
    queues = {q["name"] for q in await storage.accounts.list_queues()}
    agents = {a.id for a in await storage.accounts.list()}
    missing = [f"queue {q}" for q in QUEUES if q not in queues] + [f"agent {a}" for a in AGENTS if a not in agents]
    missing += [f"resolution {r}" for r in RESOLUTIONS if r not in config.resolutions]
    if missing:
        raise SampleHistoryError("The sample history is the demo's help line (connector.yml); this line lacks "
                                 + ", ".join(missing) + ".")


async def _fold(storage: Storage, history: History, ids: Dict[int, str], teams: Dict[str, str]) -> int:
    """Every conversation's events, in the order Rasa would have published them, through the fold."""
    events: List[Dict[str, Any]] = []
    for conversation in history.conversations:
        events.extend(render(conversation, ids.get(conversation.index), teams, MODELS))
    events.sort(key=lambda e: e["timestamp"])
    rows: List[BrokerRow] = [(n, e["sender_id"], e) for n, e in enumerate(events, start=1)]
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        await storage.conversations.ingest(SOURCE, chunk, chunk[-1][0])
    return len(rows)


async def _delivered(storage: Storage, handoff_ids: List[str]) -> None:
    """What the history queued for Rasa counts as delivered long ago: nothing of it is sent."""
    async def work(tx: Any) -> None:
        await tx.run(outbox.update().where(outbox.c.handoff_id.in_(handoff_ids), outbox.c.delivered_at.is_(None))
                     .values(delivered_at=outbox.c.created_at))

    if handoff_ids:
        await storage.db.run(work)


def _summary(history: History, handoffs_made: int, events: int, seconds: float) -> Dict[str, Any]:
    def day(at: float) -> str:
        return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d")

    return {"seeded": True, "from": day(history.start), "to": day(history.end - 1),
            "from_ts": history.start, "to_ts": history.end, "deployed": day(history.day_start(DEPLOYED_ON_DAY)),
            "conversations": len(history.conversations), "handoffs": handoffs_made, "broker_events": events,
            "seconds": round(seconds, 1), "story": story(history)}


def story(history: History) -> Dict[str, Any]:
    """The findings built in, counted from the plans (what the demo prints)."""
    def escalations(trigger: str, model: int) -> int:
        return sum(1 for c in history.conversations
                   if c.handoff is not None and c.handoff.trigger == trigger and c.model == model)

    frustrated = [c for c in history.conversations if c.handoff is not None and c.handoff.trigger == "frustration"]
    after_utility = sum(1 for c in frustrated if c.response_before() == "utter_utility_help")
    return {"cant_help_before": escalations("cant_help", 1), "cant_help_after": escalations("cant_help", 2),
            "frustration": len(frustrated), "frustration_after_utter_utility_help": after_utility}
