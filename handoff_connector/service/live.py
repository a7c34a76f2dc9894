"""Live events for the desk: one WebSocket per open desk, with catch-up.

Every change is an event row written in the same transaction as the change,
so events are totally ordered by id. A desk connects with the last event id it
saw (``?after=N``) and gets exactly what it missed, then everything new, from
the same query: nothing is lost in between and nothing arrives twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import WSMsgType, web

from handoff_connector.service.agent_api import agent_from_token, current_agent
from handoff_connector.service.errors import BadRequest, NotFound, Unauthorized
from handoff_connector.service.keys import BUS, STORE
from handoff_connector.service.storage import Agent

logger = logging.getLogger(__name__)


class EventBus:
    """Wakes every waiting desk connection of this instance when events were committed.

    ``generation`` counts wake-ups: a desk reads it before it queries, and
    ``wait`` returns at once if a wake-up came in between, so none is lost.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.generation = 0
        self.sockets: "set[web.WebSocketResponse]" = set()

    async def close_all(self) -> None:
        """On shutdown: desks reconnect (to another instance, or after restart)."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")

    def notify(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> None:
        """Returns after the next wake-up following generation ``seen`` (or ``timeout``)."""
        if self.generation != seen:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


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
    if value < 0:
        raise BadRequest("Query `after` must be >= 0.")
    return value


async def _visible_after(
    request: web.Request, agent: Agent, after: int
) -> Tuple[List[Dict[str, Any]], int]:
    """The agent's events after ``after``, and the id to continue from."""
    events = await request.app[STORE].events.after(after)
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
    """GET /api/v1/events/ws?token=T&after=N: the desk's live feed."""
    token = request.query.get("token", "")
    agent = await agent_from_token(request, token) if token else None
    if agent is None:
        raise Unauthorized("Open the WebSocket with ?token=<session token>.")
    after = _after(request)
    store, bus = request.app[STORE], request.app[BUS]
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    last = after if after is not None else await store.events.last_id()
    socket_id, opened = uuid.uuid4().hex, False
    bus.sockets.add(ws)
    reader = asyncio.create_task(_drain_client(ws))
    try:
        # Counted for presence before the desk hears hello, and always forgotten in `finally`.
        await store.accounts.socket_opened(socket_id, agent.id, store.instance)
        opened = True
        await ws.send_json({"type": "hello", "agent": agent.as_dict(), "last_id": last})
        while not ws.closed and not reader.done():
            seen = bus.generation
            # Refresh the agent each round: queues or role may have changed.
            agent = await store.accounts.get(agent.id)
            events, last = await _visible_after(request, agent, last)
            for event in events:
                await ws.send_json(wire(event))
            if not events:
                waiter = asyncio.create_task(bus.wait(seen, 15))
                await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
    except NotFound:
        logger.info("handoff.ws.account_removed agent=%s", agent.id)
    except (ConnectionResetError, RuntimeError):
        logger.info("handoff.ws.dropped agent=%s", agent.id)
    finally:
        bus.sockets.discard(ws)
        reader.cancel()
        # The agent's last desk anywhere closed: they can no longer take conversations.
        if opened:
            with contextlib.suppress(Exception):
                await store.accounts.socket_closed(socket_id, agent.id)
        await ws.close()
    return ws


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
