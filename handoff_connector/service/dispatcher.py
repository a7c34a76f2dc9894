"""Sends the dispatches (emails, webhook calls) of every instance's changes.

Each instance runs one sender: it takes due dispatches under a lease
(storage/dispatches.py), sends them, and marks each sent or failed. One
instance at a time (the ``webhook`` lease) feeds the webhook from the event log.
A change that writes a dispatch wakes the sender of its own instance; the others
find it on their next round (``ROUND_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Dict, Optional

import aiohttp
from aiohttp import web

from handoff_connector.service import mail, webhook
from handoff_connector.service.keys import CONFIG, DISPATCHER, STORE
from handoff_connector.service.mail import SendFailed
from handoff_connector.service.outbound import Outbound
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.dispatches import LEASE_SECONDS

logger = logging.getLogger(__name__)
ROUND_SECONDS = 2.0
FEED_LEASE = "webhook"
# A whole send (every SMTP step, or the webhook call) ends within this, well inside the
# row's lease (storage/dispatches.py LEASE_SECONDS), so no other instance takes it meanwhile.
SEND_SECONDS = LEASE_SECONDS / 2


class Dispatcher:
    def __init__(self, store: Storage, outbound: Outbound) -> None:
        self._store = store
        self._outbound = outbound
        self._wake = asyncio.Event()
        self._task: Optional[asyncio.Task[None]] = None
        self._session: Optional[aiohttp.ClientSession] = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # noqa: BLE001 - the sender must outlive a failing round
                logger.exception("handoff.dispatch.round_failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ROUND_SECONDS)
            self._wake.clear()

    async def round(self) -> int:
        """Feeds the webhook (if this instance holds the feed) and sends what is due; returns how many went.

        One row is taken (leased) at a time, right before it is sent: a slow server cannot
        make later rows outlive their lease while they wait, and be sent twice."""
        hook = self._outbound.webhook
        if hook is not None and await self._store.leases.hold(FEED_LEASE, 5 * ROUND_SECONDS):
            while await self._store.dispatches.feed(hook.events):
                pass
        sent = 0
        while True:
            due = await self._store.dispatches.take_due(limit=1)
            if not due:
                return sent
            sent += await self._send(due[0])

    async def _send(self, item: Dict[str, Any]) -> int:
        payload = item["payload"]
        try:
            try:
                await asyncio.wait_for(self._deliver(item["kind"], payload), SEND_SECONDS)
            except asyncio.TimeoutError:
                raise SendFailed(f"no answer within {SEND_SECONDS:.0f} s", False) from None
            except SendFailed:
                raise
            except Exception as error:  # noqa: BLE001 - a message that cannot be written is not tried again
                logger.exception("handoff.dispatch.unsendable id=%s", item["id"])
                raise SendFailed(f"cannot be sent: {type(error).__name__}: {error}", True) from error
        except SendFailed as error:
            state = await self._store.dispatches.failed(item["id"], item["tries"], str(error), error.final)
            logger.warning("handoff.dispatch.failed id=%s kind=%s tries=%s state=%s reason=%s",
                           item["id"], item["kind"], item["tries"], state, error)
            return 0
        await self._store.dispatches.sent(item["id"])
        logger.info("handoff.dispatch.sent id=%s kind=%s what=%s", item["id"], item["kind"], payload.get("what"))
        return 1

    async def _deliver(self, kind: str, payload: Dict[str, Any]) -> None:
        if kind == "email":
            if self._outbound.email is None:
                raise SendFailed("no `email` server is configured any more", True)
            await mail.send(self._outbound.email, payload)
        elif kind == "webhook":
            if self._outbound.webhook is None:
                raise SendFailed("no `webhook` is configured any more", True)
            assert self._session is not None
            await webhook.post(self._session, self._outbound.webhook, payload["body"])
        else:
            raise SendFailed(f"unknown kind {kind!r}", True)


async def dispatching(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the instance's sender, from start to shutdown."""
    dispatcher = Dispatcher(app[STORE], app[CONFIG].outbound)
    app[DISPATCHER] = dispatcher
    await dispatcher.start()
    yield
    await dispatcher.stop()

