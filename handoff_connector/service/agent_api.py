"""Agent API under /api/v1/: sign-in, queue, conversations, transfers, closing.

Agents authenticate with a session token (``POST /api/v1/login``) or an API
token (``tokens create``; each expires). An agent sees the queues they belong to and the
conversations assigned to them; a supervisor sees and acts on everything.
Who may act is checked by the store, inside the transaction of the change.
"""

from __future__ import annotations

import secrets
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from handoff_connector.common.wording import article
from handoff_connector.service.errors import BadRequest, Conflict, Forbidden, Unauthorized
from handoff_connector.service.keys import CONFIG, OUTBOX, PLACE_NEWS, RASA, STORE
from handoff_connector.service.payloads import bearer_token, page_cursor, page_limit, read_json, text_field
from handoff_connector.service.round_robin import auto_assign
from handoff_connector.service.storage import Agent, summary
from handoff_connector.service.storage.outbox import undelivered as undelivered_view

CLOSE_INTENT = "EXTERNAL_handoff_closed"


async def agent_from_token(request: web.Request, token: str) -> Optional[Agent]:
    return await request.app[STORE].accounts.for_token(token)


async def current_agent(request: web.Request) -> Agent:
    agent = await agent_from_token(request, bearer_token(request))
    if agent is None:
        raise Unauthorized("Unknown or expired token; sign in again (POST /api/v1/login).")
    return agent


async def _visible_handoff(request: web.Request, agent: Agent) -> Dict[str, Any]:
    """The handoff, for reading; a change checks again inside its own transaction."""
    return await request.app[STORE].handoffs.get_visible(request.match_info["id"], agent.id)


def _must_own(agent: Agent, handoff: Dict[str, Any], action: str) -> None:
    """Fails early with 403 (the store checks again inside the change's transaction)."""
    if handoff["agent_id"] not in (None, agent.id) and not agent.is_supervisor:
        raise Forbidden(f"Handoff {handoff['id']} is assigned to {handoff['agent_id']}; "
                        f"only they or a supervisor can {action} it.")


def _sender(agent: Agent) -> Dict[str, Any]:
    """Who speaks, as the web chat shows them beside the message (their photo's URL, or None)."""
    return {"agent_id": agent.id, "agent_name": agent.name, "agent_title": agent.title,
            "agent_photo": agent.photo_url}


async def render(request: web.Request, template: str, handoff: Dict[str, Any], **values: str) -> str:
    """A template for the user of ``handoff``; {user_name} and {team} are always there."""
    config = request.app[CONFIG]
    team = await request.app[STORE].accounts.team_of(handoff["queue"]) or handoff["queue"]
    return config.templates[template].format_map(
        {"user_name": config.user_name(handoff["context"]), "team": team, **values})


def _as_agent(agent: Agent) -> Dict[str, str]:
    return {"agent_name": agent.name, "agent_role": article(agent.title), "agent_title": agent.title}


async def login(request: web.Request) -> web.Response:
    """POST /api/v1/login {login, password} -> {token, agent}."""
    body = await read_json(request)
    name = str(text_field(body, "login", max_len=100))
    password = str(text_field(body, "password", max_len=200))
    accounts = request.app[STORE].accounts
    token = await accounts.login(name, password, request.remote or "")
    agent = await accounts.get(name)
    return web.json_response({"token": token, "agent": agent.as_dict()})


async def logout(request: web.Request) -> web.Response:
    await current_agent(request)
    await request.app[STORE].accounts.logout(bearer_token(request))
    return web.json_response({"status": "signed out"})


async def me(request: web.Request) -> web.Response:
    agent = await request.app[STORE].accounts.get((await current_agent(request)).id)  # with load and ratings
    config = request.app[CONFIG]
    return web.json_response({**agent.as_dict(), "resolutions": config.resolutions,
                              # The urgency levels an agent may set by hand, least urgent first.
                              "urgency_levels": [level.name for level in config.urgency.levels],
                              # A user waiting this long for an answer is highlighted in the desk.
                              "remind_agent_after_seconds": config.remind_agent_after_seconds,
                              # Follow-ups and transcripts by email: a mail server, a help desk address.
                              "email_enabled": config.outbound.email is not None,
                              "helpdesk_email": bool(config.outbound.email and config.outbound.email.helpdesk_address)})


async def set_presence(request: web.Request) -> web.Response:
    """PUT /api/v1/me/presence {status: online|away|offline}."""
    agent = await current_agent(request)
    body = await read_json(request)
    updated = await request.app[STORE].accounts.set_presence(agent.id, str(text_field(body, "status", max_len=20)))
    # Online: room for the round robin; offline: what was assigned to them lapsed, for the others.
    await auto_assign(request.app, updated.queues)
    return web.json_response(updated.as_dict())


async def list_agents(request: web.Request) -> web.Response:
    await current_agent(request)
    agents = await request.app[STORE].accounts.list()
    return web.json_response({"agents": [a.as_dict() for a in agents]})


async def list_queues(request: web.Request) -> web.Response:
    await current_agent(request)
    return web.json_response({"queues": await request.app[STORE].accounts.list_queues()})


QUEUE_PAGE = 100  # waiting handoffs per page unless ?limit= says otherwise
MAX_QUEUE_PAGE = 500


def queue_cursor(raw: Optional[str]) -> Optional[Tuple[int, float, str]]:
    """The queue's ``after``: "<urgency>~<created_at>~<id>" (an older desk's "<created_at>~<id>"
    is a place among the not urgent)."""
    if raw is None:
        return None
    urgency, _, rest = raw.partition("~")
    if "~" not in rest:
        urgency, rest = "0", raw
    place = page_cursor(rest, "queue")
    if not urgency.isdigit() or len(urgency) > 4 or place is None:
        raise BadRequest("Query `after` must be the `next` of an earlier page of the queue.")
    return int(urgency), place[0], place[1]


async def list_queue(request: web.Request) -> web.Response:
    """GET /api/v1/queue[?queue=name][&limit=N][&after=cursor]: waiting handoffs, oldest first,
    a page at a time; ``next`` is the cursor of the next page (null on the last), ``total``
    how many wait in all."""
    agent = await current_agent(request)
    queues: Optional[List[str]] = None if agent.is_supervisor else list(agent.queues)
    wanted = request.query.get("queue")
    if wanted:
        if queues is not None and wanted not in queues:
            raise Forbidden(f"You are not a member of queue {wanted!r}.")
        queues = [wanted]
    limit = page_limit(request.query.get("limit"), QUEUE_PAGE, MAX_QUEUE_PAGE)
    after = queue_cursor(request.query.get("after"))
    # Their own caseload first: what a supervisor (or the round robin) assigned to them.
    page, total = await request.app[STORE].handoffs.list_queue(queues, limit + 1, after, first_for=agent.id)
    own = sum(1 for h in page if h["assigned_to"] == agent.id)
    more = len(page) > limit + own
    page = page[:limit + own]
    cursor = f"{page[-1]['urgency']}~{page[-1]['created_at']!r}~{page[-1]['id']}" if more else None
    return web.json_response({"handoffs": [summary(h) for h in page], "total": total, "next": cursor})


async def list_mine(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/assigned: mine (everyone's, for a supervisor)."""
    agent = await current_agent(request)
    handoffs = await request.app[STORE].handoffs.list_assigned(None if agent.is_supervisor else agent.id)
    return web.json_response({"handoffs": [summary(h) for h in handoffs]})


async def get_handoff(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}: context, transcript (bot, user, agent, notes), history, and the
    user's previous conversations."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    store = request.app[STORE]
    before = [
        {"role": t["role"], "text": t["text"], "timestamp": t["timestamp"],
         "author": t.get("author") or t["role"]}
        for t in handoff["context"].get("transcript") or []
    ]
    # Agent messages Rasa refused for good: shown as not delivered, with why.
    undelivered = {d["message_id"]: d for d in map(undelivered_view, await store.outbox.dead_for(handoff["id"]))}
    during = [
        {"id": m["id"], "role": m["role"], "text": m["text"], "author": m["author"],
         "created_at": m["created_at"], "sent_at": m["sent_at"], "late": bool(m["late"]),
         "undelivered": (undelivered.get(m["id"]) or {}).get("error")}
        for m in await store.messages.of(handoff["id"])
    ]
    return web.json_response(
        {
            **summary(handoff),
            "team": await store.accounts.team_of(handoff["queue"]),
            "context": handoff["context"],
            # From the slot the designer named (`user_name_slot`); null when the bot learned no name.
            "user_name": request.app[CONFIG].known_user_name(handoff["context"]),
            "close_note": handoff["close_note"],
            "transcript": before + during,
            "messages": during,
            "transitions": await store.messages.transitions(handoff["id"]),
            # Each raise or clear of its urgency: the signal's match, or who and why.
            "urgency_changes": await store.urgency.changes(handoff["id"]),
            "survey": await store.surveys.of(handoff["id"]),
            # The same user's other conversations the caller may see, as the record has them.
            "previous": [summary(h) for h in await store.history.previous(agent.id, handoff)],
        }
    )


async def claim(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/claim [{take_anyway}]: atomic; the agent is introduced to the user.

    One assigned to someone else is a 409 unless ``take_anyway`` is true (recorded).
    """
    agent = await current_agent(request)
    take_anyway = False
    if request.body_exists:
        body = await read_json(request)
        take_anyway = body.get("take_anyway", False)
        if not isinstance(take_anyway, bool):
            raise BadRequest("Field `take_anyway` must be true or false.")
    waiting = await request.app[STORE].handoffs.get(request.match_info["id"])
    intro = await render(request, "introduction", waiting, agent_name=agent.name, agent_role=article(agent.title),
                         agent_title=agent.title)
    handoff = await request.app[STORE].handoffs.claim(request.match_info["id"], agent.id,
                                                      {**_sender(agent), "text": intro}, take_anyway)
    request.app[PLACE_NEWS].poke(handoff["queue"])  # the others in line moved up: told in the background
    request.app[OUTBOX].wake()
    return web.json_response(summary(handoff))


async def send_message(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/messages: reaches the user through Rasa."""
    agent = await current_agent(request)
    body = await read_json(request)
    # With `redaction.on_store`, the user receives what is stored: the redacted text.
    text = str(request.app[CONFIG].redaction.stored(str(text_field(body, "text"))))
    client_id = text_field(body, "client_id", required=False, max_len=200, blank=False)
    # Who may see it, and whether it is theirs, are checked in the message's own transaction.
    message, created = await request.app[STORE].messages.add_agent_message(
        request.match_info["id"], agent.id, text, client_id, _sender(agent))
    request.app[OUTBOX].wake()
    return web.json_response(
        {"id": message["id"], "text": message["text"], "created_at": message["created_at"],
         "duplicate": not created},
        status=201 if created else 200,
    )


async def add_note(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/notes: internal, never sent to the user."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    body = await read_json(request)
    text = request.app[CONFIG].redaction.stored(str(text_field(body, "text")))
    note = await request.app[STORE].messages.add_note(handoff["id"], agent.id, str(text))
    return web.json_response(note, status=201)


async def transfer(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/transfer {agent_id | queue, note?}: warm and atomic."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    _must_own(agent, handoff, "transfer")
    body = await read_json(request)
    to_agent = text_field(body, "agent_id", required=False, max_len=100)
    to_queue = text_field(body, "queue", required=False, max_len=100)
    if bool(to_agent) == bool(to_queue):
        raise BadRequest("Give exactly one of `agent_id` (a person) or `queue` (a team).")
    note = request.app[CONFIG].redaction.stored(text_field(body, "note", required=False))
    store = request.app[STORE]
    speaker = await store.accounts.get(handoff["agent_id"]) if handoff["agent_id"] else agent
    messages = await transfer_messages(request, handoff, speaker, to_agent, to_queue)
    moved = await store.handoffs.transfer(handoff["id"], agent.id, note, to_agent=to_agent,
                                          to_queue=to_queue, messages_for_user=messages)
    request.app[OUTBOX].wake()
    # The agent it left has room; one sent to a queue waits there.
    await auto_assign(request.app, [*speaker.queues, *([to_queue] if to_queue else [])])
    return web.json_response(summary(moved))


async def transfer_messages(request: web.Request, handoff: Dict[str, Any], speaker: Agent,
                            to_agent: Optional[str], to_queue: Optional[str] = None) -> List[Any]:
    """What the user hears on a transfer: the outgoing agent's message and, to an agent, the
    incoming one's introduction."""
    store = request.app[STORE]
    if to_agent:
        target = await store.accounts.get(to_agent)
        messages = [
            (speaker.id, {**_sender(speaker), "text": await render(
                request, "transfer_out_agent", handoff, to_name=target.name, to_role=article(target.title),
                **_as_agent(speaker))}),
            (target.id, {**_sender(target), "text": await render(
                request, "transfer_in", handoff, from_name=speaker.name, **_as_agent(target))}),
        ]
    else:
        team = await store.accounts.team_of(str(to_queue)) or str(to_queue)
        messages = [(speaker.id, {**_sender(speaker), "text": await render(
            request, "transfer_out_queue", handoff, team=team, **_as_agent(speaker))})]
    return messages


async def close(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/close {resolution, note?, resume_link?}: the bot returns.

    With ``resume_link`` the user is first sent a link to continue later with
    the same agent.
    """
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    body = await read_json(request)
    resolution = text_field(body, "resolution", max_len=100)
    config = request.app[CONFIG]
    if resolution not in config.resolutions:
        raise BadRequest(f"Field `resolution` must be one of: {', '.join(config.resolutions)}.")
    note = config.redaction.stored(text_field(body, "note", required=False))
    resume = body.get("resume_link", False)
    if not isinstance(resume, bool):
        raise BadRequest("Field `resume_link` must be true or false.")
    if handoff["state"] == "assigned":
        _must_own(agent, handoff, "close")
    token, messages = None, []
    if resume and handoff["state"] == "assigned":
        token = secrets.token_urlsafe(24)
        speaker = await request.app[STORE].accounts.get(handoff["agent_id"])
        messages = [(speaker.id, {**_sender(speaker), "text": await render(
            request, "resume_link", handoff, link=f"{config.public_url}/resume/{token}", **_as_agent(speaker))})]
    closed = await request.app[STORE].handoffs.close(
        handoff["id"], agent.id, str(resolution), note, {"intent": CLOSE_INTENT},
        messages_for_user=messages, resume_token=token, resume_seconds=config.resume_link_days * 86400,
    )
    request.app[OUTBOX].wake()
    if handoff["agent_id"]:  # the agent has room for one more
        await auto_assign(request.app, (await request.app[STORE].accounts.get(handoff["agent_id"],
                                                                               details=False)).queues)
    answer = summary(closed)
    if token:
        answer["resume_url"] = f"{config.public_url}/resume/{token}"
    return web.json_response(answer)


async def typing(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/typing {active}: best effort, web chat users only."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    if handoff["state"] == "assigned" and handoff["agent_id"] != agent.id:
        raise Forbidden(f"Handoff {handoff['id']} is assigned to {handoff['agent_id']}; "
                        f"only their typing is shown to the user.")
    if handoff["state"] != "assigned":
        raise Conflict("Only the assigned agent's typing is shown to the user; claim it first.")
    body = await read_json(request)
    active = body.get("active")
    if not isinstance(active, bool):
        raise BadRequest("Field `active` must be true or false.")
    config = request.app[CONFIG]
    if handoff["channel"] != "webchat" or not config.webchat_typing_url:
        return web.json_response({"delivered": False, "reason": f"the {handoff['channel']} channel "
                                                                "shows no typing indicator"})
    delivered = await request.app[RASA].show_typing(
        config.webchat_typing_url, config.webchat_typing_secret,
        {"sender": handoff["sender_id"], "active": active, "agent_name": agent.name},
    )
    return web.json_response({"delivered": delivered})


async def list_tickets(request: web.Request) -> web.Response:
    """GET /api/v1/tickets: follow-ups (callbacks) nobody could take live, oldest first."""
    agent = await current_agent(request)
    tickets = await request.app[STORE].handoffs.list_tickets(None if agent.is_supervisor else list(agent.queues))
    return web.json_response({"handoffs": [summary(t) for t in tickets]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/login", login)
    app.router.add_post("/api/v1/logout", logout)
    app.router.add_get("/api/v1/me", me)
    app.router.add_put("/api/v1/me/presence", set_presence)
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_get("/api/v1/queues", list_queues)
    app.router.add_get("/api/v1/queue", list_queue)
    app.router.add_get("/api/v1/handoffs/assigned", list_mine)
    app.router.add_get("/api/v1/handoffs/{id}", get_handoff)
    app.router.add_post("/api/v1/handoffs/{id}/claim", claim)
    app.router.add_post("/api/v1/handoffs/{id}/messages", send_message)
    app.router.add_post("/api/v1/handoffs/{id}/notes", add_note)
    app.router.add_post("/api/v1/handoffs/{id}/transfer", transfer)
    app.router.add_post("/api/v1/handoffs/{id}/close", close)
    app.router.add_post("/api/v1/handoffs/{id}/typing", typing)
    app.router.add_get("/api/v1/tickets", list_tickets)
