"""Assignment and help requests under /api/v1/, and the round robin's triggers.

A supervisor assigns a waiting conversation to a named agent (or the queue's
round robin does, when its config says ``auto_assign: true``); an agent asks a
supervisor for help on a conversation they hold, and a supervisor marks it
handled or takes the conversation over with a transfer. Who may act is checked
by the store, inside the transaction of the change.
"""

from __future__ import annotations

from typing import Any, Dict

from aiohttp import web

from handoff_connector.service.agent_api import current_agent, transfer_messages
from handoff_connector.service.errors import BadRequest, Conflict, Forbidden, NotFound
from handoff_connector.service.keys import CONFIG, OUTBOX, STORE
from handoff_connector.service.payloads import read_json, text_field
from handoff_connector.service.round_robin import auto_assign
from handoff_connector.service.storage import summary
from handoff_connector.service.storage.database import Tx
from handoff_connector.service.storage.help import HELP_STATES

HELP_MESSAGE_MAX = 500  # a short note of what the agent needs; the conversation says the rest


async def assign(request: web.Request) -> web.Response:
    """PUT /api/v1/handoffs/{id}/assignment {agent_id}: supervisors only."""
    agent = await current_agent(request)
    body = await read_json(request)
    target = str(text_field(body, "agent_id", max_len=100))
    handoff = await request.app[STORE].assignments.assign(request.match_info["id"], agent.id, target)
    return web.json_response(summary(handoff))


async def unassign(request: web.Request) -> web.Response:
    """DELETE /api/v1/handoffs/{id}/assignment: plain queued again (the round robin may assign it anew)."""
    agent = await current_agent(request)
    handoff = await request.app[STORE].assignments.unassign(request.match_info["id"], agent.id)
    return web.json_response(summary(handoff))


def _help_view(row: Dict[str, Any]) -> Dict[str, Any]:
    return {key: row[key] for key in ("id", "handoff_id", "agent_id", "agent_name", "message", "state",
                                      "created_at", "handled_by", "handled_at", "sender_id", "queue",
                                      "handoff_state", "handoff_agent_id")}


async def ask_help(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/help {message}: the agent holding it asks a supervisor."""
    agent = await current_agent(request)
    body = await read_json(request)
    message = request.app[CONFIG].redaction.stored(str(text_field(body, "message", max_len=HELP_MESSAGE_MAX)))
    row, created = await request.app[STORE].help.ask(request.match_info["id"], agent.id, str(message))
    return web.json_response(_help_view(row), status=201 if created else 200)


async def list_help(request: web.Request) -> web.Response:
    """GET /api/v1/help-requests[?state=open|handled|taken_over|all]: everyone's to a supervisor,
    one's own to an agent, oldest first."""
    agent = await current_agent(request)
    state = request.query.get("state", "open")
    if state not in (*HELP_STATES, "all"):
        raise BadRequest(f"Query `state` must be one of: {', '.join((*HELP_STATES, 'all'))}.")
    rows = await request.app[STORE].help.list(agent.id, None if state == "all" else state)
    return web.json_response({"help_requests": [_help_view(r) for r in rows]})


def _request_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"No help request with id {raw!r}. GET /api/v1/help-requests lists them.")
    return int(raw)


async def handle_help(request: web.Request) -> web.Response:
    """POST /api/v1/help-requests/{id}/handled: a supervisor saw to it."""
    agent = await current_agent(request)
    row = await request.app[STORE].help.handle(_request_id(request), agent.id)
    return web.json_response(_help_view(row))


async def take_over(request: web.Request) -> web.Response:
    """POST /api/v1/help-requests/{id}/take-over: the supervisor takes the conversation (a transfer
    to themselves, recorded with them as its actor) and the request ends, in one transaction."""
    agent = await current_agent(request)
    if not agent.is_supervisor:
        raise Forbidden("Only a supervisor can take a conversation over from a help request.")
    store = request.app[STORE]
    request_id = _request_id(request)
    help_row = await store.help.get(request_id, agent.id)
    if help_row["state"] != "open":
        raise Conflict(f"Help request {request_id} is {help_row['state'].replace('_', ' ')} already.")
    handoff = await store.handoffs.get(help_row["handoff_id"])
    if handoff["state"] != "assigned" or not handoff["agent_id"]:
        raise Conflict(f"Handoff {handoff['id']} is {handoff['state']}; only a conversation with an agent "
                       f"can be taken over.")
    messages = await transfer_messages(request, handoff, await store.accounts.get(handoff["agent_id"]), agent.id)

    async def end_request(tx: Tx) -> None:
        await store.help.close_in(tx, request_id, agent.id, "taken_over")

    moved = await store.handoffs.transfer(handoff["id"], agent.id, f"Taken over from a help request: "
                                          f"{help_row['message']}", to_agent=agent.id,
                                          messages_for_user=messages, also=end_request)
    request.app[OUTBOX].wake()
    await auto_assign(request.app, (await store.accounts.get(handoff["agent_id"], details=False)).queues)
    return web.json_response(summary(moved))


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/v1/handoffs/{id}/assignment", assign)
    app.router.add_delete("/api/v1/handoffs/{id}/assignment", unassign)
    app.router.add_post("/api/v1/handoffs/{id}/help", ask_help)
    app.router.add_get("/api/v1/help-requests", list_help)
    app.router.add_post("/api/v1/help-requests/{id}/handled", handle_help)
    app.router.add_post("/api/v1/help-requests/{id}/take-over", take_over)
