"""Live events for the desk: one WebSocket per open desk, with catch-up.

Every change is an event row written in the same transaction as the change,
so events are totally ordered by id. A desk connects with the last event id it
saw (``?after=N``) and gets exactly what it missed, then everything new, from
the same query: nothing is lost in between and nothing arrives twice.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import WSMsgType, web

from handoff_connector.service.agent_api import agent_from_token, current_agent
from handoff_connector.service.credentials import token_digest
from handoff_connector.service.errors import BadRequest, NotFound, Unauthorized
from handoff_connector.service.keys import BUS, STORE
from handoff_connector.service.payloads import bearer_token
from handoff_connector.service.storage import Agent, Storage

logger = logging.getLogger(__name__)
AGENT_REFRESH_SECONDS = 5.0  # a desk follows a change of the agent's queues, role or session this fast
SESSION_ENDED = 4001  # the close code when the socket's token no longer stands (or never did)
AUTH_TIMEOUT_SECONDS = 10.0  # a desk socket must say who it is this soon


class EventBus:
    """This instance's window on the event log: one read per wake-up, shared by every desk.

    A wake-up (a local commit on SQLite, a NOTIFY from any instance on
    PostgreSQL) makes the bus read the events after the last one it has, once,
    into a window of recent events; each socket sends from the window what it
    has not sent yet. A socket further behind than the window reads the log
    itself. Each socket waits on a waker of its own (``subscribe``), cleared
    before it looks: events that come in between set it, so none is missed,
    and a wake-up costs one resumption per socket, not a task each.
    """

    WINDOW = 5000

    def __init__(self) -> None:
        self.sockets: "set[web.WebSocketResponse]" = set()
        self.tokens: "Dict[web.WebSocketResponse, str]" = {}  # each socket's token digest
        self.wakers: "set[asyncio.Event]" = set()
        self.last_id = 0
        self._ids: List[int] = []
        self._events: List[Dict[str, Any]] = []
        self._texts: Dict[int, str] = {}  # each window event's frame, encoded once for every socket
        self._wake = asyncio.Event()
        self._task: "Optional[asyncio.Task[None]]" = None
        self._sessions: "Optional[asyncio.Task[None]]" = None

    async def start(self, store: Storage) -> None:
        self.last_id = await store.events.last_id()
        self._task = asyncio.create_task(self._follow(store), name="handoff-event-bus")
        self._sessions = asyncio.create_task(self._check_sessions(store), name="handoff-desk-sessions")

    async def stop(self) -> None:
        for task in (self._task, self._sessions):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _check_sessions(self, store: Storage) -> None:
        """Every few seconds, one query for all of this instance's sockets: a socket
        whose token no longer stands (logout, expiry, a new password, the account
        removed) is closed with ``SESSION_ENDED``; the desk goes back to the login."""
        while True:
            await asyncio.sleep(AGENT_REFRESH_SECONDS)
            try:
                held = dict(self.tokens)
                standing = await store.accounts.standing(set(held.values())) if held else set()
            except Exception:  # noqa: BLE001 - the database may be back next round
                logger.exception("handoff.ws.session_check_failed")
                continue
            for ws, digest in held.items():
                if digest not in standing and not ws.closed:
                    logger.info("handoff.ws.session_ended")
                    with contextlib.suppress(Exception):
                        await ws.close(code=SESSION_ENDED, message=b"session ended; sign in again")

    async def close_all(self) -> None:
        """On shutdown: desks reconnect (to another instance, or after restart)."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")

    def notify(self) -> None:
        """New events were committed (by this instance or, on PostgreSQL, any)."""
        self._wake.set()

    async def _follow(self, store: Storage) -> None:
        while True:
            self._wake.clear()  # before the read: a commit during it wakes the next round
            try:
                new = await store.events.after(self.last_id)
            except Exception:  # noqa: BLE001 - the database may be back next round
                logger.exception("handoff.events.read_failed")
                await asyncio.sleep(1)
                continue
            if new:
                self._add(new)
            if len(new) < 500:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 15)  # and a read every 15 s regardless

    def _add(self, new: List[Dict[str, Any]]) -> None:
        self._ids += [e["id"] for e in new]
        self._events += new
        if len(self._ids) > 2 * self.WINDOW:
            self._ids, self._events = self._ids[-self.WINDOW:], self._events[-self.WINDOW:]
            first = self._ids[0]
            self._texts = {k: v for k, v in self._texts.items() if k >= first}
        self.last_id = new[-1]["id"]
        for waker in self.wakers:
            waker.set()

    def since(self, after: int) -> Optional[List[Dict[str, Any]]]:
        """The events after ``after`` from the window; None if it does not reach back that far."""
        if after >= self.last_id:
            return []
        if not self._ids or self._ids[0] > after + 1:
            return None
        return self._events[bisect.bisect_right(self._ids, after):]

    def frame(self, event: Dict[str, Any]) -> str:
        """The event as its socket frame; a window event's is encoded once for all sockets."""
        text = self._texts.get(event["id"])
        if text is None:
            text = json.dumps(wire(event))
            if self._ids and event["id"] >= self._ids[0]:
                self._texts[event["id"]] = text
        return text

    def subscribe(self) -> asyncio.Event:
        """A socket's waker: set when events come into the window (``unsubscribe`` when done)."""
        waker = asyncio.Event()
        self.wakers.add(waker)
        return waker

    def unsubscribe(self, waker: asyncio.Event) -> None:
        self.wakers.discard(waker)


def visible(agent: Agent, event: Dict[str, Any]) -> bool:
    """Supervisors see everything; agents their queues and their conversations."""
    if agent.is_supervisor or event["type"].startswith("agent."):
        return True
    return (event["queue"] in agent.queues or agent.id in (event["agent_id"], event["previous_agent_id"]))


def wire(event: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": event["id"], "type": event["type"], "at": event["created_at"], **event["payload"]}


def _after(request: web.Request) -> Optional[int]:
    raw = request.query.get("after")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise BadRequest("Query `after` must be an event id (a whole number).") from error
    if not 0 <= value < 2**63:
        raise BadRequest("Query `after` must be an event id from 0 to 2^63 - 1.")
    return value


async def _visible_after(
    request: web.Request, agent: Agent, after: int
) -> Tuple[List[Dict[str, Any]], int]:
    """The agent's events after ``after``, and the id to continue from."""
    log = request.app[STORE].events
    await log.settle()  # what committed before the call, on PostgreSQL too
    events = await log.after(after)
    return [e for e in events if visible(agent, e)], (events[-1]["id"] if events else after)


async def list_events(request: web.Request) -> web.Response:
    """GET /api/v1/events?after=N: missed events, for clients without a WebSocket."""
    agent = await current_agent(request)
    after = _after(request)
    if after is None:
        return web.json_response({"events": [], "last_id": await request.app[STORE].events.last_id()})
    events, last = await _visible_after(request, agent, after)
    return web.json_response({"events": [wire(e) for e in events], "last_id": last})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """GET /api/v1/events/ws?after=N: the desk's live feed.

    The token never goes in the address (addresses end up in logs and
    proxies): a browser sends ``{"type": "auth", "token": ...}`` as its first
    frame, any other client may send ``Authorization: Bearer`` instead.
    """
    if "token" in request.query:
        raise Unauthorized("Don't put the token in the address (it gets logged): send "
                           '{"type": "auth", "token": ...} as the first frame, or an Authorization header.')
    after = _after(request)
    header = request.headers.get("Authorization")
    agent = await current_agent(request) if header is not None else None
    store, bus = request.app[STORE], request.app[BUS]
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
    await ws.prepare(request)
    if agent is None:
        agent, token = await _first_frame_auth(request, ws)
        if agent is None:
            return ws
    else:
        token = bearer_token(request)
    last = after if after is not None else await store.events.last_id()
    socket_id, opened = uuid.uuid4().hex, False
    bus.sockets.add(ws)
    bus.tokens[ws] = token_digest(token)
    reader = asyncio.create_task(_drain_client(ws))
    waker = bus.subscribe()
    reader.add_done_callback(lambda _task: waker.set())  # the desk left: stop waiting
    try:
        # Counted for presence before the desk hears hello, and always forgotten in `finally`.
        await store.accounts.socket_opened(socket_id, agent.id, store.instance)
        opened = True
        await ws.send_json({"type": "hello", "agent": (await store.accounts.get(agent.id)).as_dict(),
                            "last_id": last})
        checked = time.monotonic()
        while not ws.closed and not reader.done():
            waker.clear()  # before looking: events that come in while this sends set it again
            events = bus.since(last)
            if events is None:  # further behind than the window: from the log
                events = await store.events.after(last)
            if time.monotonic() - checked > AGENT_REFRESH_SECONDS:
                # Queues or role may have changed (or the account gone: NotFound).
                # Whether the token still stands, the bus checks for every socket at once.
                agent, checked = await store.accounts.get(agent.id, details=False), time.monotonic()
            for event in events:
                if visible(agent, event):
                    await ws.send_str(bus.frame(event))
            last = events[-1]["id"] if events else last
            if not events:
                # No timer: the bus sets the waker for new events, the reader's end for a
                # desk that left, and the bus checks every socket's session on its own.
                await waker.wait()
    except NotFound:
        logger.info("handoff.ws.account_removed agent=%s", agent.id)
        with contextlib.suppress(Exception):
            await ws.close(code=SESSION_ENDED, message=b"account removed")
    except (ConnectionResetError, RuntimeError):
        logger.info("handoff.ws.dropped agent=%s", agent.id)
    finally:
        bus.sockets.discard(ws)
        bus.tokens.pop(ws, None)
        bus.unsubscribe(waker)
        reader.cancel()
        # The agent's last desk anywhere closed: they can no longer take conversations.
        if opened:
            with contextlib.suppress(Exception):
                await store.accounts.socket_closed(socket_id, agent.id)
        await ws.close()
    return ws


async def _first_frame_auth(request: web.Request,
                            ws: web.WebSocketResponse) -> Tuple[Optional[Agent], str]:
    """Waits for ``{"type": "auth", "token": ...}``; closes the socket (4001) if it does not come or fails."""
    reason = "send {\"type\": \"auth\", \"token\": ...} first"
    try:
        message = await ws.receive(timeout=AUTH_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        message = None
    if message is not None and message.type == WSMsgType.TEXT:
        try:
            frame = json.loads(message.data)
        except ValueError:
            frame = None
        token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
        if isinstance(token, str) and token and len(token) <= 512 and token.isprintable():
            agent = await agent_from_token(request, token)
            if agent is not None:
                return agent, token
            reason = "unknown or expired token; sign in again"
    if not ws.closed:
        await ws.send_json({"type": "error", "error": reason[:1].upper() + reason[1:] + "."})
        await ws.close(code=SESSION_ENDED, message=reason.encode()[:120])
    return None, ""


async def _drain_client(ws: web.WebSocketResponse) -> None:
    """Reads (and ignores) what the desk sends; ends when it disconnects."""
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            with contextlib.suppress(ValueError):
                json.loads(message.data)
        elif message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/events", list_events)
    app.router.add_get("/api/v1/events/ws", websocket)
