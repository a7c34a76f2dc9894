"""Recovering what the user said while a part of the system was down.

Every user message is in Rasa's tracker before the relay action runs. When
the action server or the connector was down, the relay never reached the
connector; the messages are still in the tracker. The reconciler reads the
trackers of open handoffs and stores what is missing (by Rasa's message ids,
in Rasa's order, marked late), so the person sees everything the user said:

* when the connector starts, and when Rasa answers again after an outage:
  every open handoff;
* every ``reconcile_seconds``: the conversations people are working on
  (on one instance at a time);
* before a silent conversation is abandoned (waiting.py): that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Dict, Optional, Sequence

from handoff_connector.common.relay import user_messages_during
from handoff_connector.service.delivery import DeliveryError, RasaClient
from handoff_connector.service.redaction import Redaction
from handoff_connector.service.storage import Storage
from handoff_connector.service.storage.records import OPEN_STATES

logger = logging.getLogger(__name__)
LEASE = "reconcile"
CONCURRENCY = 4  # trackers read at once: Rasa keeps answering its users meanwhile


class Reconciler:
    def __init__(self, store: Storage, rasa: RasaClient, interval: float,
                 redaction: Optional[Redaction] = None) -> None:
        self._store = store
        self._redaction = redaction or Redaction()
        self._rasa = rasa
        self._interval = interval
        self._everything = asyncio.Event()
        self._task: "Optional[asyncio.Task[None]]" = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="handoff-reconcile")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def rasa_back(self) -> None:
        """Rasa answers again: look at every open handoff soon."""
        self._everything.set()

    async def handoff(self, handoff: Dict[str, Any]) -> int:
        """Stores what Rasa has and this handoff lacks; how many messages that was."""
        tracker = await self._rasa.tracker(handoff["sender_id"])
        said = self._redaction.stored_said(
            user_messages_during(handoff["sender_id"], tracker.get("events") or [], handoff["id"]))
        new = await self._store.messages.recover(handoff["id"], said) if said else 0
        if new:
            logger.warning("handoff.reconciled id=%s recovered=%s", handoff["id"], new)
        return new

    async def sweep(self, states: Sequence[str]) -> bool:
        """Reconciles every handoff in ``states``; False if Rasa could not be asked about some."""
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(handoff: Dict[str, Any]) -> bool:
            async with gate:
                try:
                    await self.handoff(handoff)
                    return True
                except DeliveryError as error:
                    logger.info("handoff.reconcile.skipped id=%s: %s", handoff["id"], error)
                    return error.permanent  # no such conversation: nothing to recover

        found = await self._store.handoffs.in_states(states)
        return all(await asyncio.gather(*(one(h) for h in found)))

    async def _run(self) -> None:
        everything = True  # the connector was down until now: look at every open handoff
        while True:
            try:
                if everything:
                    everything = not await self.sweep(OPEN_STATES)  # Rasa unreachable: again later
                elif await self._store.leases.hold(LEASE, max(5.0, 3 * self._interval)):
                    await self.sweep(("assigned",))
            except Exception:  # noqa: BLE001 - the next round may succeed
                logger.exception("handoff.reconcile.failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._everything.wait(), self._interval)
            everything = everything or self._everything.is_set()
            self._everything.clear()
