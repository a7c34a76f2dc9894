"""Agent API under /api/v1/: queue, handoff detail, claim, message, close.

Agents authenticate with a bearer token. An agent sees the queues they belong
to and the handoffs assigned to them; a supervisor sees everything.
"""

from __future__ import annotations

import hmac
from typing import Any, Dict, List, Optional

from aiohttp import web

from handoff_connector.service.config import AgentConfig
from handoff_connector.service.errors import BadRequest, Forbidden, Unauthorized
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE
from handoff_connector.service.payloads import bearer_token, read_json, text_field

CLOSE_INTENT = "EXTERNAL_handoff_closed"


def current_agent(request: web.Request) -> AgentConfig:
    token = bearer_token(request)
    for agent in request.app[CONFIG].agents:
        if hmac.compare_digest(agent.token.encode(), token.encode()):
            return agent
    raise Unauthorized("Unknown agent token; use the token from the connector config.")


def _visible_queues(agent: AgentConfig) -> Optional[List[str]]:
    return None if agent.role == "supervisor" else list(agent.queues)


def _can_see(agent: AgentConfig, handoff: Dict[str, Any]) -> bool:
    return (
        agent.role == "supervisor"
        or handoff["agent_id"] == agent.id
        or handoff["queue"] in agent.queues
    )


def summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """The handoff as listed in the queue (no transcript)."""
    context = handoff["context"]
    return {
        "id": handoff["id"],
        "state": handoff["state"],
        "queue": handoff["queue"],
        "trigger": handoff["trigger"],
        "reasons": handoff["reasons"],
        "sender_id": handoff["sender_id"],
        "channel": handoff["channel"],
        "agent_id": handoff["agent_id"],
        "created_at": handoff["created_at"],
        "claimed_at": handoff["claimed_at"],
        "closed_at": handoff["closed_at"],
        "resolution": handoff["resolution"],
        "last_user_text": next(
            (t["text"] for t in reversed(context.get("transcript") or []) if t.get("role") == "user"),
            None,
        ),
    }


async def _visible_handoff(request: web.Request, agent: AgentConfig) -> Dict[str, Any]:
    handoff = await request.app[STORE].get_handoff(request.match_info["id"])
    if not _can_see(agent, handoff):
        raise Forbidden(
            f"Handoff {handoff['id']} is not in your queues nor assigned to you."
        )
    return handoff


async def me(request: web.Request) -> web.Response:
    agent = current_agent(request)
    return web.json_response(
        {"id": agent.id, "name": agent.name, "title": agent.title, "role": agent.role,
         "queues": agent.queues, "resolutions": request.app[CONFIG].resolutions}
    )


async def list_queue(request: web.Request) -> web.Response:
    """GET /api/v1/queue: waiting handoffs, oldest first."""
    agent = current_agent(request)
    queues = _visible_queues(agent)
    wanted = request.query.get("queue")
    if wanted:
        if queues is not None and wanted not in queues:
            raise Forbidden(f"You are not a member of queue {wanted!r}.")
        queues = [wanted]
    handoffs = await request.app[STORE].list_queue(queues)
    return web.json_response({"handoffs": [summary(h) for h in handoffs]})


async def list_mine(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/assigned: handoffs assigned to me (all, for a supervisor)."""
    agent = current_agent(request)
    agent_id = None if agent.role == "supervisor" else agent.id
    handoffs = await request.app[STORE].list_assigned(agent_id)
    return web.json_response({"handoffs": [summary(h) for h in handoffs]})


async def get_handoff(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}: context, transcript and history."""
    agent = current_agent(request)
    handoff = await _visible_handoff(request, agent)
    store = request.app[STORE]
    live = await store.messages(handoff["id"])
    before = [
        {"role": t["role"], "text": t["text"], "timestamp": t["timestamp"], "author": t["role"]}
        for t in handoff["context"].get("transcript") or []
    ]
    during = [
        {"id": m["id"], "role": m["role"], "text": m["text"], "author": m["author"],
         "created_at": m["created_at"]}
        for m in live
    ]
    return web.json_response(
        {
            **summary(handoff),
            "context": handoff["context"],
            "close_note": handoff["close_note"],
            "transcript": before + during,
            "messages": during,
            "transitions": await store.transitions(handoff["id"]),
            "survey": await store.survey(handoff["id"]),
        }
    )


async def claim(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/claim: atomic; the loser of a race gets 409."""
    agent = current_agent(request)
    await _visible_handoff(request, agent)
    handoff = await request.app[STORE].claim(request.match_info["id"], agent.id)
    return web.json_response(summary(handoff))


async def send_message(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/messages: reaches the user through Rasa."""
    agent = current_agent(request)
    handoff = await _visible_handoff(request, agent)
    if handoff["agent_id"] not in (None, agent.id):
        raise Forbidden(f"Handoff {handoff['id']} is assigned to {handoff['agent_id']}; "
                        f"only they can answer it.")
    body = await read_json(request)
    text = text_field(body, "text")
    client_id = text_field(body, "client_id", required=False, max_len=200)
    payload = {"text": text, "agent_id": agent.id, "agent_name": agent.name,
               "agent_title": agent.title}
    message, created = await request.app[STORE].add_agent_message(
        request.match_info["id"], agent.id, str(text), client_id, payload
    )
    request.app[OUTBOX].wake()
    return web.json_response(
        {"id": message["id"], "text": message["text"], "created_at": message["created_at"],
         "duplicate": not created},
        status=201 if created else 200,
    )


async def close(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/close: with a resolution category; the bot returns."""
    agent = current_agent(request)
    handoff = await _visible_handoff(request, agent)
    body = await read_json(request)
    resolution = text_field(body, "resolution", max_len=100)
    resolutions = request.app[CONFIG].resolutions
    if resolution not in resolutions:
        raise BadRequest(f"Field `resolution` must be one of: {', '.join(resolutions)}.")
    note = text_field(body, "note", required=False)
    if handoff["state"] == "assigned" and handoff["agent_id"] != agent.id and agent.role != "supervisor":
        raise Forbidden(f"Handoff {handoff['id']} is assigned to {handoff['agent_id']}.")
    closed = await request.app[STORE].close_handoff(
        handoff["id"], f"agent:{agent.id}", str(resolution), note, {"intent": CLOSE_INTENT}
    )
    request.app[OUTBOX].wake()
    return web.json_response(summary(closed))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/me", me)
    app.router.add_get("/api/v1/queue", list_queue)
    app.router.add_get("/api/v1/handoffs/assigned", list_mine)
    app.router.add_get("/api/v1/handoffs/{id}", get_handoff)
    app.router.add_post("/api/v1/handoffs/{id}/claim", claim)
    app.router.add_post("/api/v1/handoffs/{id}/messages", send_message)
    app.router.add_post("/api/v1/handoffs/{id}/close", close)
