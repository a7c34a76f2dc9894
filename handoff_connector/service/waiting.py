"""While the user waits: estimated wait, place-in-line updates, abandonment.

The estimate comes from how long the latest conversations of the same queue
really waited (median of the last 20 claims in the past week) times the place
in line. With fewer than 3 such waits there is no estimate, and the user is not
given an invented one.

Housekeeping runs on one instance of the cluster at a time (a lease); every
instance keeps its own desk sockets marked alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
import time
from typing import List, Optional, Set

from aiohttp import web

from handoff_connector.common.wording import wait_phrase
from handoff_connector.service.config import Config
from handoff_connector.service.delivery import DeliveryError
from handoff_connector.service.keys import CONFIG, OUTBOX, PLACE_NEWS, RECONCILER, STORE
from handoff_connector.service.reminders import remind
from handoff_connector.service.round_robin import auto_assign_all

logger = logging.getLogger(__name__)
HISTORY_SECONDS = 7 * 24 * 3600
MIN_SAMPLES = 3
ABANDON_INTENT = "EXTERNAL_handoff_abandoned"
HOUSEKEEPING_LEASE = "housekeeping"
HEARTBEAT_SECONDS = 10.0  # each instance marks its desk sockets alive this often
SOCKETS_SILENT_SECONDS = 3 * HEARTBEAT_SECONDS  # not marked for this long: their instance died
RECONCILE_BEFORE_ABANDON = 50  # trackers read per round before abandoning (the rest: next round)
# Place-in-line news after claims: one pass over a queue at most this often. A pass
# ranks the whole queue; claims back to back would otherwise rank it without pause.
PLACE_NEWS_GAP_SECONDS = 1.0


async def estimate_minutes(app: web.Application, queue: str, position: int) -> Optional[int]:
    waits = await app[STORE].line.recent_waits(queue, since=time.time() - HISTORY_SECONDS)
    if len(waits) < MIN_SAMPLES or position < 1:
        return None
    return max(1, math.ceil(statistics.median(waits) * position / 60))


async def update_positions(app: web.Application, queues: Optional[List[str]] = None) -> int:
    """Tells waiting users who moved up (of ``queues``; None: all); at most once per interval each,
    unless now first."""
    store, config = app[STORE], app[CONFIG]
    due = await store.line.moved_up(queues, time.time(), config.position_update_seconds)
    teams = {queue: await store.accounts.team_of(queue) or "" for queue in {h["queue"] for h in due}}
    for handoff in due:
        position = handoff["position"]
        minutes = await estimate_minutes(app, handoff["queue"], position)
        text = config.templates["queue_update"].format_map(
            {"position": position, "wait": wait_phrase(minutes), "team": teams[handoff["queue"]],
             "user_name": config.user_name(handoff["context"])})
        await store.line.tell_position(handoff, position, text)
    if due:
        app[OUTBOX].wake()
    return len(due)


class PlaceNews:
    """Place-in-line news after claims, off the claim's request: claims close
    together make one pass over their queues, not one each. After an idle spell
    the pass starts at once; while claims keep coming, at most one a
    ``PLACE_NEWS_GAP_SECONDS``."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._queues: Set[str] = set()
        self._task: "Optional[asyncio.Task[None]]" = None

    def poke(self, queue: str) -> None:
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="handoff-place-news")

    async def _run(self) -> None:
        while self._queues:
            started = time.monotonic()
            queues, self._queues = sorted(self._queues), set()
            try:
                await update_positions(self._app, queues)
            except Exception:  # noqa: BLE001 - housekeeping tells them on its next round
                logger.exception("handoff.place_news.failed queues=%s", queues)
            if self._queues:
                await asyncio.sleep(max(0.0, PLACE_NEWS_GAP_SECONDS - (time.monotonic() - started)))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def housekeeping_lease_seconds(config: Config) -> float:
    """How long a dead holder keeps the others from housekeeping."""
    return max(5.0, 3 * config.housekeeping_seconds)


async def housekeeping_once(app: web.Application) -> bool:
    """One round, if this instance holds the cluster's lease; returns whether it ran."""
    config, store = app[CONFIG], app[STORE]
    if not await store.leases.hold(HOUSEKEEPING_LEASE, housekeeping_lease_seconds(config)):
        return False
    await store.accounts.reap_sockets(SOCKETS_SILENT_SECONDS)
    # The user may have spoken while their messages could not reach us: ask Rasa first.
    silent = (await store.line.stale(config.abandon_after_seconds,
                                     config.abandon_assigned_after_seconds))[:RECONCILE_BEFORE_ABANDON]
    for handoff in silent:
        with contextlib.suppress(DeliveryError):
            await app[RECONCILER].handoff(handoff)
    ended = await store.line.abandon_stale([h["id"] for h in silent], config.abandon_after_seconds,
                                           config.abandon_assigned_after_seconds, {"intent": ABANDON_INTENT})
    for handoff in ended:
        logger.info("handoff.abandoned id=%s", handoff["id"])
    await update_positions(app)
    await remind(app)
    await auto_assign_all(app)  # whatever a trigger missed (a desk closed elsewhere, a failed round)
    if ended:
        app[OUTBOX].wake()
    return True


async def housekeeping(app: web.Application) -> None:
    """Runs every few seconds for the life of the app."""
    while True:
        try:
            await housekeeping_once(app)
        except Exception:  # noqa: BLE001 - keep running; the next round may succeed
            logger.exception("handoff.housekeeping.failed")
        await asyncio.sleep(app[CONFIG].housekeeping_seconds)


async def heartbeat(app: web.Application) -> None:
    """This instance is alive: its desk sockets still count (on every instance, lease or not)."""
    store = app[STORE]
    while True:
        try:
            await store.accounts.sockets_seen(store.instance)
        except Exception:  # noqa: BLE001 - keep beating; the next one may succeed
            logger.exception("handoff.heartbeat.failed")
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def housekeeping_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    app[PLACE_NEWS] = PlaceNews(app)
    tasks = [asyncio.create_task(housekeeping(app), name="handoff-housekeeping"),
             asyncio.create_task(heartbeat(app), name="handoff-heartbeat")]
    yield
    await app[PLACE_NEWS].close()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(Exception):  # another instance may take over at once
        await app[STORE].leases.release(HOUSEKEEPING_LEASE)
