"""When the round robin runs: after a handoff was queued, and when an agent got room.

Only queues with ``auto_assign: true`` in the config take part. The assigning
itself, safe with several instances, is the store's (``storage/assignments.py``).
"""

from __future__ import annotations

import logging
from typing import Iterable

from aiohttp import web

from handoff_connector.service.keys import CONFIG, STORE

logger = logging.getLogger(__name__)


async def auto_assign(app: web.Application, queues: Iterable[str]) -> None:
    """Runs the round robin of those of ``queues`` that have it on (after a handoff was
    queued or an agent got room). Best effort: housekeeping runs it again every round."""
    config, store = app[CONFIG], app[STORE]
    for name in dict.fromkeys(queues):
        queue = config.queue(name)
        if queue is None or not queue.auto_assign:
            continue
        try:
            done = await store.assignments.round_robin(name)
        except Exception:  # noqa: BLE001 - the change that triggered it is committed; retried by housekeeping
            logger.exception("handoff.assignment.round_robin_failed queue=%s", name)
            continue
        if done:
            logger.info("handoff.assignment.auto queue=%s assigned=%d", name, len(done))


async def auto_assign_all(app: web.Application) -> None:
    await auto_assign(app, [q.name for q in app[CONFIG].queues if q.auto_assign])
