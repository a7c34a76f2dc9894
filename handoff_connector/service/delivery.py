"""Delivery to Rasa through its HTTP API, through a persistent outbox.

Agent messages become ``bot`` events appended with
``execute_side_effects=true&output_channel=latest``: they reach the user's own
channel and land in the tracker. Closing triggers ``EXTERNAL_handoff_closed``.
While Rasa is down, items wait and are retried in order per conversation.
Every instance runs a worker; the outbox's leases give each item to one of
them. An item with an earlier try (a failure, or an instance that died
mid-delivery) is checked against the tracker before it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from handoff_connector.service.storage import Storage

# A try (the tracker check and the request) renews the item's 15 s lease when it
# starts and gives up after 7 s, so it ends long before the lease does: no other
# instance takes an item while this one may still be sending it.
TRY_SECONDS = 7.0
RASA_TIMEOUT_SECONDS = TRY_SECONDS

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """Rasa could not be reached or refused the request.

    ``permanent``: Rasa itself refused this request for good (its own error
    answer with a 4xx about the request); sending it again cannot help. Not
    permanent: credentials refused (401/403: the connector's configuration, not
    the item), timeouts, conflicts, too many requests, and a 4xx that is not
    Rasa's own answer (a route Rasa does not serve: started without --enable-api?).
    """

    def __init__(self, message: str, status: Optional[int] = None, rasa_refused: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = (rasa_refused and status is not None and 400 <= status < 500
                          and status not in (401, 403, 408, 409, 425, 429))


def is_rasa_error(text: str) -> bool:
    """Rasa's own error answer ({"status": "failure", "reason": ...}), not a web server's."""
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "failure" and "reason" in body


class RasaClient:
    """Thin client for the parts of Rasa's HTTP API the connector uses."""

    def __init__(self, base_url: str, token: Optional[str], timeout: float = RASA_TIMEOUT_SECONDS) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _params(self, **extra: str) -> Dict[str, str]:
        params = dict(extra)
        if self._token:
            params["token"] = self._token
        return params

    async def _request(self, method: str, path: str, params: Dict[str, str], json: Any = None) -> Any:
        assert self._session is not None, "RasaClient.start() was not called"
        url = f"{self._base}{path}"
        try:
            async with self._session.request(method, url, params=params, json=json) as response:
                if response.status >= 300:
                    text = (await response.text())[:2000]
                    raise DeliveryError(f"Rasa answered {response.status} to {method} {path}: {text[:300]}",
                                        response.status, rasa_refused=is_rasa_error(text))
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DeliveryError(f"Rasa unreachable at {url}: {type(error).__name__} {error}") from error

    async def answers(self) -> bool:
        """Whether Rasa's server answers at all (its root says hello, no token needed)."""
        assert self._session is not None, "RasaClient.start() was not called"
        try:
            async with self._session.get(f"{self._base}/", timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status < 500
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        return await self._request(
            "GET", f"/conversations/{quote(sender_id, safe='')}/tracker", self._params()
        )

    async def append_bot_message(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> None:
        await self._request(
            "POST",
            f"/conversations/{quote(sender_id, safe='')}/tracker/events",
            self._params(output_channel="latest", execute_side_effects="true"),
            json=[{"event": "bot", "text": text, "metadata": metadata}],
        )

    async def append_events(self, sender_id: str, events: List[Dict[str, Any]]) -> None:
        await self._request(
            "POST", f"/conversations/{quote(sender_id, safe='')}/tracker/events", self._params(),
            json=events)

    async def show_typing(self, url: str, secret: Optional[str], body: Dict[str, Any]) -> bool:
        """Best effort: the web chat channel's typing endpoint (a short timeout)."""
        assert self._session is not None, "RasaClient.start() was not called"
        try:
            async with self._session.post(
                url, json=body, headers={"Authorization": f"Bearer {secret or ''}"},
                timeout=aiohttp.ClientTimeout(total=3),
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def trigger_intent(self, sender_id: str, intent: str, entities: Dict[str, Any]) -> None:
        await self._request(
            "POST",
            f"/conversations/{quote(sender_id, safe='')}/trigger_intent",
            self._params(output_channel="latest"),
            json={"name": intent, "entities": entities},
        )


UNEXPECTED_TRIES = 3  # an item that keeps failing in an unforeseen way is set aside after this


class OutboxWorker:
    """Background task that drains the outbox into Rasa.

    Conversations go concurrently, each in order: the worker keeps up to
    ``in_flight`` items on their way, at most one per conversation (the lease on
    a conversation's oldest item holds its later ones back). Whenever tries end,
    the delivered ones are marked in one transaction and the next items are
    taken in another, so the database work per item shrinks as load grows.

    An item Rasa refuses for good, or one that keeps failing in a way nobody
    foresaw, is set aside (dead): the desks and the log say so, and the
    conversation's later items go on. While Rasa is unreachable the worker asks
    it every poll whether it is back, and then sends at once, not after the
    backoff; ``on_rasa_back`` runs then too.
    """

    def __init__(self, store: Storage, rasa: RasaClient, retry_max_seconds: float = 30.0,
                 poll_seconds: float = 1.0, in_flight: int = 200,
                 on_rasa_back: Optional[Callable[[], Awaitable[None]]] = None) -> None:
        self._store = store
        self._rasa = rasa
        self._retry_max = retry_max_seconds
        self._poll = poll_seconds
        self._in_flight = in_flight
        self._on_rasa_back = on_rasa_back
        self._wake = asyncio.Event()
        self._task: Optional[asyncio.Task[None]] = None
        self._tries: Dict[int, "asyncio.Task[None]"] = {}
        self._delivered: List[Dict[str, Any]] = []  # tried well, not marked yet
        self._marking: Optional["asyncio.Task[None]"] = None
        self._marking_now: List[Dict[str, Any]] = []
        self.rasa_down = False
        # Told each delivery's outcome (item kind; delivered, retry or set_aside): the metrics.
        self.observers: List[Callable[[str, str], None]] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="handoff-outbox")

    def _tell(self, item: Dict[str, Any], outcome: str) -> None:
        for observer in self.observers:
            observer(item["kind"], outcome)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._tries.values()):
            task.cancel()
        await asyncio.gather(*self._tries.values(), return_exceptions=True)
        if self._marking is not None:
            await asyncio.gather(self._marking, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._mark()  # what arrived is not sent again
        # What this instance held goes back to the others at once; a try that was
        # cut short counts, so whoever takes it over asks the tracker first.
        with contextlib.suppress(Exception):
            await self._store.outbox.release()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                if self.rasa_down:
                    await self._check_rasa()
                await self._take()
            except Exception:  # noqa: BLE001 - the worker must outlive any bad item
                logger.exception("handoff.outbox.crashed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()

    async def _take(self) -> None:
        room = self._in_flight - len(self._tries)
        if room <= 0:
            return
        mine = [*self._tries, *self._marked_soon]
        for item in await self._store.outbox.take_due(limit=room, mine=mine):
            self._tries[item["id"]] = asyncio.create_task(self._one(item), name=f"handoff-outbox-{item['id']}")

    async def _one(self, item: Dict[str, Any]) -> None:
        try:
            if await self._deliver(item):
                self._delivered.append(item)
                if self._marking is None:
                    self._marking = asyncio.create_task(self._mark_soon(), name="handoff-outbox-mark")
        except Exception:  # noqa: BLE001 - the store failed on the way: the lease runs out, it is retried
            logger.exception("handoff.outbox.try_failed id=%s", item["id"])
        finally:
            self._tries.pop(item["id"], None)
            self.wake()  # room for more, or the conversation's next item (once marked)

    async def _mark_soon(self) -> None:
        try:
            while self._delivered:
                await self._mark()
                self.wake()
        except Exception:  # noqa: BLE001 - unmarked items are retried after the tracker check
            logger.exception("handoff.outbox.mark_failed")
        finally:
            self._marking = None

    @property
    def _marked_soon(self) -> List[int]:
        return [item["id"] for item in [*self._delivered, *self._marking_now]]

    async def _mark(self) -> None:
        """Marks every try that ended well as delivered, in one transaction."""
        items, self._delivered = self._delivered, []
        if not items:
            return
        self._marking_now = items
        try:
            held = await self._store.outbox.delivered([item["id"] for item in items])
        finally:
            self._marking_now = []
        if held < len(items):
            logger.warning("handoff.outbox.lease_lost count=%s", len(items) - held)
        for item in items:
            self._tell(item, "delivered")
            if item["kind"] == "close":
                await self._store.handoffs.mark_returned(item["handoff_id"])

    async def _check_rasa(self) -> None:
        if not await self._rasa.answers():
            return
        self.rasa_down = False
        due = await self._store.outbox.retry_now()
        logger.info("handoff.outbox.rasa_back due_now=%s", due)
        if self._on_rasa_back is not None:
            await self._on_rasa_back()

    async def _deliver(self, item: Dict[str, Any]) -> bool:
        """One try (the item was leased and its try counted when taken); True if it arrived."""
        tries = item["tries"]
        try:
            await asyncio.wait_for(self._try(item, tries), TRY_SECONDS)
        except DeliveryError as error:
            if error.permanent:
                await self._set_aside(item, str(error))
            else:
                # Unreachable (no answer at all): ask every poll whether it is back.
                # A slow or failing Rasa waits out the backoff instead.
                self.rasa_down = self.rasa_down or error.status is None
                await self._failed(item, str(error))
            return False
        except asyncio.TimeoutError:
            await self._failed(item, "took too long")
            return False
        except Exception as error:  # noqa: BLE001 - one bad item must not stop the others
            logger.exception("handoff.outbox.unexpected id=%s try=%s", item["id"], tries)
            if tries >= UNEXPECTED_TRIES:
                await self._set_aside(item, f"{type(error).__name__}: {error}")
            else:
                await self._failed(item, f"{type(error).__name__}: {error}")
            return False
        return True

    async def _failed(self, item: Dict[str, Any], error: str) -> None:
        retry_in = min(self._retry_max, 0.5 * 2 ** item["attempts"])
        logger.warning("handoff.outbox.failed id=%s attempt=%s retry_in=%.1fs: %s",
                       item["id"], item["attempts"] + 1, retry_in, error)
        await self._store.outbox.failed(item["id"], error, retry_in)
        self._tell(item, "retry")

    async def _set_aside(self, item: Dict[str, Any], error: str) -> None:
        logger.error("handoff.outbox.dead id=%s handoff=%s kind=%s: %s",
                     item["id"], item["handoff_id"], item["kind"], error)
        await self._store.outbox.dead(item["id"], error)
        self._tell(item, "set_aside")

    async def _try(self, item: Dict[str, Any], tries: int) -> None:
        if tries > 1 and await self._already_delivered(item):
            logger.info("handoff.outbox.deduplicated id=%s", item["id"])
        elif item["kind"] == "message":
            await self._send_message(item)
        elif item["kind"] in ("close", "intent"):
            # The handoff named in the intent: the return action ties the survey to it.
            await self._rasa.trigger_intent(item["sender_id"], item["payload"]["intent"],
                                            {"handoff_id": item["handoff_id"]})
        elif item["kind"] == "slots":
            await self._rasa.append_events(item["sender_id"], [
                {"event": "slot", "name": name, "value": value}
                for name, value in item["payload"].items()])
        else:
            raise DeliveryError(f"unknown outbox kind {item['kind']!r}")

    async def _send_message(self, item: Dict[str, Any]) -> None:
        payload = item["payload"]
        metadata = {
            "handoff_id": item["handoff_id"],
            "outbox_id": item["id"],
            # Stable for the message, whoever delivers it how often: channels drop repeats.
            "message_id": payload.get("message_id"),
            "agent_id": payload.get("agent_id"),
            "agent_name": payload.get("agent_name"),
            "agent_title": payload.get("agent_title"),
            "agent_photo": payload.get("agent_photo"),
            "system": bool(payload.get("system")),
        }
        await self._rasa.append_bot_message(item["sender_id"], payload["text"], metadata)

    async def _already_delivered(self, item: Dict[str, Any]) -> bool:
        """After an ambiguous failure, asks the tracker whether Rasa got it."""
        tracker = await self._rasa.tracker(item["sender_id"])
        events = tracker.get("events") or []
        if item["kind"] == "message":
            return any(
                e.get("event") == "bot" and (e.get("metadata") or {}).get("outbox_id") == item["id"]
                for e in events
            )
        if item["kind"] == "slots":
            slots = tracker.get("slots") or {}
            return all(slots.get(k) == v for k, v in item["payload"].items())
        intent = item["payload"].get("intent")
        return any(
            e.get("event") == "user"
            and ((e.get("parse_data") or {}).get("intent") or {}).get("name") == intent
            and e.get("timestamp", 0) >= item["created_at"]
            for e in events
        )
