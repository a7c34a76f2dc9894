"""Saved replies under /api/v1/saved-replies (``docs/saved-replies.md``).

Every agent keeps replies of their own; supervisors keep the team's. The form of
a reply (shortcut, lengths, placeholders) is checked here; who may change it, and
whether its shortcut is free, by the store in the change's transaction. A reply
is filled in for one conversation on the server (``.../preview``): the user's
name from the slot the designer named (``user_name_slot``), the agent's, the team's.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from aiohttp import web

from handoff_connector.common.wording import article
from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.config import Config
from handoff_connector.service.errors import BadRequest, NotFound
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.payloads import read_json, text_field
from handoff_connector.service.storage import Agent
from handoff_connector.service.storage.saved_replies import SCOPES, Draft
from handoff_connector.service.templates import SAVED_TEXT_MAX, SAVED_TITLE_MAX, saved_reply_problem


def reply_id(request: web.Request, key: str = "reply_id") -> int:
    raw = request.match_info[key]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"No saved reply with id {raw!r}; ids are whole numbers (GET /api/v1/saved-replies).")
    return int(raw)


def draft_of(body: Dict[str, Any], scope_default: Optional[str] = "personal") -> Draft:
    """The reply in a request body, checked for form; a 400 names the field and what is wrong.
    ``title``, ``scope`` and ``queue`` may be null (left out); ``scope`` then is ``scope_default``."""
    scope = text_field(body, "scope", required=False, max_len=20) or scope_default
    if scope is not None and scope not in SCOPES:
        raise BadRequest(f"Field `scope` must be one of {', '.join(SCOPES)}, got {scope!r}.")
    shortcut = str(text_field(body, "shortcut", max_len=100))
    title = (text_field(body, "title", required=False, max_len=SAVED_TITLE_MAX) or "").strip()
    text = str(text_field(body, "text", max_len=SAVED_TEXT_MAX)).strip()
    problem = saved_reply_problem(shortcut, title, text)
    if problem is not None:
        raise BadRequest(f"Field {problem}.")
    # A team reply's team (null: every team); a personal reply has none, whatever is sent.
    queue = text_field(body, "queue", required=False, max_len=100, blank=False)
    return Draft(scope, shortcut.lower(), title, text, queue)


async def list_replies(request: web.Request) -> web.Response:
    """GET /api/v1/saved-replies: the agent's own and their teams' replies, each with whether they may edit it."""
    agent = await current_agent(request)
    return web.json_response({"saved_replies": await request.app[STORE].saved_replies.visible(agent.id)})


async def create_reply(request: web.Request) -> web.Response:
    """POST /api/v1/saved-replies {scope?, shortcut, title?, text, queue?}."""
    agent = await current_agent(request)
    draft = draft_of(await read_json(request))
    reply = await request.app[STORE].saved_replies.create(agent.id, draft)
    return web.json_response(reply, status=201)


async def update_reply(request: web.Request) -> web.Response:
    """PUT /api/v1/saved-replies/{reply_id}: the whole reply again; its scope stays (another is a 409)."""
    agent = await current_agent(request)
    draft = draft_of(await read_json(request), scope_default=None)  # left out: it stays what it is
    reply = await request.app[STORE].saved_replies.update(reply_id(request), agent.id, draft)
    return web.json_response(reply)


async def delete_reply(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    number = reply_id(request)
    await request.app[STORE].saved_replies.delete(number, agent.id)
    return web.json_response({"deleted": number})


def fill(text: str, values: Dict[str, str]) -> str:
    """The placeholders of a checked text filled in (a text from before a check: left as written)."""
    try:
        return text.format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        return text


def values_for(config: Config, agent: Agent, handoff: Dict[str, Any], team: str | None) -> Dict[str, str]:
    """What a saved reply's placeholders become in this conversation, for this agent."""
    return {"user_name": config.user_name(handoff["context"]), "agent_name": agent.name,
            "agent_title": agent.title, "agent_role": article(agent.title),
            "team": team or handoff["queue"], "queue": handoff["queue"]}


async def preview(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/saved-replies/{reply_id}/preview: the reply filled in for
    this conversation, to put in the composer (nothing is sent)."""
    agent = await current_agent(request)
    reply, handoff, team = await request.app[STORE].saved_replies.for_handoff(
        request.match_info["id"], reply_id(request), agent.id)
    text = fill(reply["text"], values_for(request.app[CONFIG], agent, handoff, team))
    return web.json_response({"reply_id": reply["id"], "shortcut": reply["shortcut"], "text": text})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/saved-replies", list_replies)
    app.router.add_post("/api/v1/saved-replies", create_reply)
    app.router.add_put("/api/v1/saved-replies/{reply_id}", update_reply)
    app.router.add_delete("/api/v1/saved-replies/{reply_id}", delete_reply)
    app.router.add_post("/api/v1/handoffs/{id}/saved-replies/{reply_id}/preview", preview)
