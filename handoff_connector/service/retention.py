"""Retention: once a day, on one instance, old conversations' texts deleted or redacted.

``retention: {days: 365, action: delete|redact}`` in the config turns it on;
``python -m handoff_connector.service retention run [--dry-run]`` runs it by
hand. The day's mark is a row of the leases table: the instance that takes it
runs retention, the others wait for the next day; a run cut short is finished
the next day (a conversation gone over is marked and not done again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncIterator, Dict, Optional

from aiohttp import web

from handoff_connector.service.config import Config
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.storage import Storage

logger = logging.getLogger(__name__)
DAY = 86400.0
MARK = "retention-daily"
CHECK_SECONDS = 60.0  # how often an instance looks whether the day's run is due


async def run(store: Storage, config: Config, dry_run: bool = False, now: Optional[float] = None) -> Dict[str, Any]:
    """One run; with ``dry_run`` only says how many conversations are due."""
    if config.retention is None:
        return {"enabled": False, "due": 0}
    before = (now if now is not None else time.time()) - config.retention.days * DAY
    due = await store.erasure.due(before)
    answer: Dict[str, Any] = {"enabled": True, "action": config.retention.action, "days": config.retention.days,
                              "closed_before": before, "due": len(due), "dry_run": dry_run}
    if not dry_run and due:
        answer["changed"] = await store.erasure.apply(due, config.retention.action, config.redaction)
        logger.info("handoff.retention.done action=%s %s", config.retention.action, answer["changed"])
    return answer


async def daily(app: web.Application) -> None:
    while True:
        try:
            if await app[STORE].erasure.take_daily(MARK, DAY):
                await run(app[STORE], app[CONFIG])
        except Exception:  # noqa: BLE001 - tomorrow's run (or the CLI) does it
            logger.exception("handoff.retention.failed")
        await asyncio.sleep(CHECK_SECONDS)


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(daily(app), name="handoff-retention") if app[CONFIG].retention else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
