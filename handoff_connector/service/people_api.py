"""People under /api/v1/: profiles, and the supervisors' administration of agents and queues.

The same operations as the CLI (``agents``, ``queues``, ``members``), through the
same store (``storage/people.py``), which checks who acts inside the transaction
of each change: an agent edits their own name and title, a supervisor anyone's,
and only supervisors add agents, deactivate them, reset passwords, change roles,
capacity and queues, or add queues.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiohttp import web

from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.errors import BadRequest
from handoff_connector.service.keys import STORE
from handoff_connector.service.payloads import read_json, text_field
from handoff_connector.service.round_robin import auto_assign
from handoff_connector.service.storage.people import NAME_MAX, Changes

PASSWORD_MAX = 200
MAX_QUEUES = 50


def _capacity(body: Dict[str, Any], required: bool) -> Optional[int]:
    value = body.get("capacity")
    if value is None and not required:
        return None
    if isinstance(value, float) and value.is_integer():  # 3.0 is a whole number in JSON
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("Field `capacity` must be a whole number (conversations at once).")
    return value


def _queues(body: Dict[str, Any]) -> Optional[List[str]]:
    value = body.get("queues")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_QUEUES or not all(
            isinstance(v, str) and 0 < len(v) <= 100 for v in value):
        raise BadRequest(f"Field `queues` must be a list of at most {MAX_QUEUES} queue names.")
    return value


def _changes(body: Dict[str, Any], new: bool = False) -> Changes:
    return Changes(
        name=text_field(body, "name", required=new, max_len=NAME_MAX, blank=False),
        title=text_field(body, "title", required=False, max_len=NAME_MAX),
        role=text_field(body, "role", required=False, max_len=20),
        capacity=_capacity(body, required=False),
        queues=_queues(body),
    )


async def _agent_view(request: web.Request, agent_id: str) -> web.Response:
    return web.json_response((await request.app[STORE].accounts.get(agent_id)).as_dict())


async def add_agent(request: web.Request) -> web.Response:
    """POST /api/v1/agents {id, name, title?, role?, capacity?, queues?, password}: supervisors."""
    actor = await current_agent(request)
    body = await read_json(request)
    agent_id = str(text_field(body, "id", max_len=64))
    password = str(text_field(body, "password", max_len=PASSWORD_MAX))
    await request.app[STORE].people.add(actor.id, agent_id, _changes(body, new=True), password)
    response = await _agent_view(request, agent_id)
    response.set_status(201)
    return response


async def update_agent(request: web.Request) -> web.Response:
    """PATCH /api/v1/agents/{id} {name?, title?, role?, capacity?, queues?}: name and title by the
    agent or a supervisor; the rest by supervisors (``queues`` replaces the list)."""
    actor = await current_agent(request)
    agent_id = request.match_info["id"]
    changes = _changes(await read_json(request))
    store = request.app[STORE]
    await store.people.update(actor.id, agent_id, changes)
    if changes.administrative:  # more capacity or a new queue: room for the round robin
        await auto_assign(request.app, (await store.accounts.get(agent_id, details=False)).queues)
    return await _agent_view(request, agent_id)


async def deactivate(request: web.Request) -> web.Response:
    """POST /api/v1/agents/{id}/deactivate: supervisors; not oneself, not the last supervisor."""
    actor = await current_agent(request)
    agent_id = request.match_info["id"]
    await request.app[STORE].people.set_active(actor.id, agent_id, False)
    await auto_assign(request.app, (await request.app[STORE].accounts.get(agent_id, details=False)).queues)
    return await _agent_view(request, agent_id)


async def activate(request: web.Request) -> web.Response:
    """POST /api/v1/agents/{id}/activate: supervisors; they can sign in again."""
    actor = await current_agent(request)
    await request.app[STORE].people.set_active(actor.id, request.match_info["id"], True)
    return await _agent_view(request, request.match_info["id"])


async def reset_password(request: web.Request) -> web.Response:
    """PUT /api/v1/agents/{id}/password {password}: supervisors; the agent's sessions end."""
    actor = await current_agent(request)
    body = await read_json(request)
    password = str(text_field(body, "password", max_len=PASSWORD_MAX))
    await request.app[STORE].people.set_password(actor.id, request.match_info["id"], password)
    return web.json_response({"status": "Password changed; their sessions were ended and their API tokens "
                                        "revoked."})


async def add_queue(request: web.Request) -> web.Response:
    """POST /api/v1/queues {name, team}: supervisors."""
    actor = await current_agent(request)
    body = await read_json(request)
    name = str(text_field(body, "name", max_len=64))
    team = str(text_field(body, "team", max_len=NAME_MAX))
    store = request.app[STORE]
    await store.people.add_queue(actor.id, name, team)
    return web.json_response({"queues": await store.accounts.list_queues()}, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/agents", add_agent)
    app.router.add_patch("/api/v1/agents/{id}", update_agent)
    app.router.add_post("/api/v1/agents/{id}/deactivate", deactivate)
    app.router.add_post("/api/v1/agents/{id}/activate", activate)
    app.router.add_put("/api/v1/agents/{id}/password", reset_password)
    app.router.add_post("/api/v1/queues", add_queue)
