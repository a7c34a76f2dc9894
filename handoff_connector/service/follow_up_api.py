"""Follow-ups and transcripts that leave the chat (``docs/follow-ups.md``).

An agent makes a follow-up of a conversation (a note for the user, a due time,
an owner) and sends it in the chat, by email, or both; its link brings the user
back to the owner. A transcript goes by email to the user or to the configured
help desk. The store checks who may, inside each change's transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from aiohttp import web

from handoff_connector.service.agent_api import _as_agent, _sender, _visible_handoff, current_agent, render
from handoff_connector.service.errors import BadRequest, Conflict, NotFound, Unprocessable
from handoff_connector.service.export import transcript_text
from handoff_connector.service.history_api import load_record
from handoff_connector.service.insights_api import instant
from handoff_connector.service.keys import CONFIG, DISPATCHER, OUTBOX, STORE
from handoff_connector.service.outbound import valid_email
from handoff_connector.service.payloads import read_json, text_field
from handoff_connector.service.storage import Agent
from handoff_connector.service.storage.follow_ups import STATES

NOTE_MAX = 2000
YEAR = 366 * 86400


def _email_field(body: Dict[str, Any], key: str = "email") -> Optional[str]:
    value = text_field(body, key, required=False, max_len=254, blank=False)
    if value is not None and not valid_email(value.strip()):
        raise Unprocessable(f"Field `{key}` must be one email address, like name@example.org; "
                            f"got {value[:60]!r}.")
    return value.strip() if value else None


def _flag(body: Dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest(f"Field `{key}` must be true or false.")
    return value


def _due(body: Dict[str, Any], now: float, required: bool = True) -> Optional[float]:
    raw = body.get("due_at")
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("Field `due_at` is required: a time, ISO 8601 (2026-12-08T17:00:00Z).")
    due = instant(raw[:64], "due_at", what="Field")
    if not now - 86400 < due < now + YEAR:
        raise Unprocessable("Field `due_at` must be within the coming year.")
    return due


def _when(request: web.Request, queue: str, at: float) -> str:
    """The due time as the user reads it: in the queue's time zone (its hours'), else UTC."""
    found = request.app[CONFIG].queue(queue)
    zone = found.hours.zone if found is not None and found.hours is not None else "UTC"
    local = datetime.fromtimestamp(at, timezone.utc).astimezone(ZoneInfo(zone))
    return f"{local:%a %-d %b, %H:%M} " + (local.tzname() or zone)


async def create(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/follow-ups {note, due_at, owner_id?, email?, send_chat?, send_email?}."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    body = await read_json(request)
    config, store = request.app[CONFIG], request.app[STORE]
    # As stored (the config's redaction on store), and so as the user is told it.
    note = str(request.app[CONFIG].redaction.stored(str(text_field(body, "note", max_len=NOTE_MAX))))
    due = _due(body, store.db.clock())
    assert due is not None
    owner_id = str(text_field(body, "owner_id", required=False, max_len=100) or agent.id)
    email = _email_field(body)
    send_chat = _flag(body, "send_chat", handoff["state"] == "assigned")
    send_email = _flag(body, "send_email", email is not None)
    if send_email and email is None:
        raise Unprocessable("Field `email` is required to send the follow-up by email.")
    if send_email and config.outbound.email is None:
        raise Conflict("No mail server is set up (`email:` in the connector's config); send it in the chat.")
    try:
        owner = await store.accounts.get(owner_id, details=False) if owner_id != agent.id else agent
    except NotFound:
        raise Unprocessable(f"No agent {owner_id!r} to own the follow-up.") from None
    token = secrets.token_urlsafe(24)
    text = await _render(request, "follow_up", handoff, owner, note=note,
                         due=_when(request, handoff["queue"], due), link=f"{config.public_url}/follow-up/{token}")
    mail = None
    if send_email:
        mail = {"what": "follow_up", "to": email, "text": text + f"\n\n{owner.name}\n",
                "subject": await _render(request, "follow_up_subject", handoff, owner)}
    created = await store.follow_ups.create(
        agent.id, handoff["id"], owner_id, note, due, email, token,
        config.outbound.follow_up_link_days * 86400,
        chat={**_sender(agent), "text": text} if send_chat else None, mail=mail)
    request.app[OUTBOX].wake()
    request.app[DISPATCHER].wake()
    return web.json_response((await _with_emails(request, [created]))[0], status=201)


async def _render(request: web.Request, template: str, handoff: Dict[str, Any], owner: Agent, **values: str) -> str:
    return await render(request, template, handoff, **_as_agent(owner), **values)


async def _with_emails(request: web.Request, found: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Follow-ups as answered: each with its emails and whether it is overdue."""
    sent = await request.app[STORE].dispatches.of_follow_ups([f["id"] for f in found])
    now = request.app[STORE].db.clock()
    return [{**item, "emails": sent.get(item["id"], []), "overdue": item["state"] == "open" and item["due_at"] < now}
            for item in found]


async def listing(request: web.Request) -> web.Response:
    """GET /api/v1/follow-ups?state=open|done&owner=me|<id>&handoff_id=: soonest due first."""
    agent = await current_agent(request)
    query = request.query
    state = query.get("state")
    if state is not None and state not in STATES:
        raise BadRequest(f"Query `state` must be one of {', '.join(STATES)}.")
    owner, handoff_id = query.get("owner"), query.get("handoff_id")
    for key, value in (("owner", owner), ("handoff_id", handoff_id)):
        if value is not None and len(value) > 100:
            raise BadRequest(f"Query `{key}` is {len(value)} characters; the limit is 100.")
    found = await request.app[STORE].follow_ups.listing(
        agent.id, agent.id if owner == "me" else owner, state, handoff_id)
    return web.json_response({"follow_ups": await _with_emails(request, found)})


def _id(request: web.Request) -> int:
    raw = request.match_info["follow_up_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"No follow-up with id {raw[:40]!r}. GET /api/v1/follow-ups lists them.")
    return int(raw)


async def show(request: web.Request) -> web.Response:
    """GET /api/v1/follow-ups/{follow_up_id}."""
    agent = await current_agent(request)
    found = await request.app[STORE].follow_ups.get(agent.id, _id(request))
    return web.json_response((await _with_emails(request, [found]))[0])


async def change(request: web.Request) -> web.Response:
    """PATCH /api/v1/follow-ups/{follow_up_id} {state?, note?, due_at?, owner_id?}: its owner or a supervisor."""
    agent = await current_agent(request)
    follow_up_id = _id(request)
    body = await read_json(request)
    changes: Dict[str, Any] = {}
    if "state" in body:
        if body["state"] not in STATES:
            raise BadRequest(f"Field `state` must be one of {', '.join(STATES)}.")
        changes["state"] = body["state"]
    if "note" in body:
        changes["note"] = request.app[CONFIG].redaction.stored(str(text_field(body, "note", max_len=NOTE_MAX)))
    if "due_at" in body:
        changes["due_at"] = _due(body, request.app[STORE].db.clock())
    if "owner_id" in body:
        changes["owner_id"] = str(text_field(body, "owner_id", max_len=100))
    found = await request.app[STORE].follow_ups.update(agent.id, follow_up_id, changes)
    return web.json_response((await _with_emails(request, [found]))[0])


async def email_transcript(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/transcript/email {to: user|helpdesk, email?, include_notes?}.

    Internal notes go to the help desk by default, to the user only when asked for:
    the desk told agents the user never sees them."""
    agent = await current_agent(request)
    body = await read_json(request)
    email_config = request.app[CONFIG].outbound.email
    to = body.get("to")
    if to not in ("user", "helpdesk"):
        raise BadRequest("Field `to` must be `user` (give `email`) or `helpdesk`.")
    if email_config is None:
        raise Conflict("No mail server is set up (`email:` in the connector's config).")
    address = _email_field(body) if to == "user" else email_config.helpdesk_address
    if address is None:
        raise (Unprocessable("Field `email` is required to send the transcript to the user.") if to == "user" else
               Conflict("No help desk address is set up (`email.helpdesk_address` in the config)."))
    notes = _flag(body, "include_notes", to == "helpdesk")
    record = await load_record(request, request.match_info["id"])
    team = record["team"] or record["queue"]
    payload = {
        "what": "transcript", "to": address,
        "subject": request.app[CONFIG].templates["transcript_subject"].format_map(
            {"team": team, "user_name": request.app[CONFIG].user_name(record["context"])}),
        "text": f"The conversation with our {team} is attached" +
                (", with the team's internal notes." if notes else ".") + "\n",
        "attachment": {"filename": f"conversation-{record['id']}.txt",
                       "text": transcript_text(record, internal=notes)}}
    sent = await request.app[STORE].dispatches.transcript(agent.id, record["id"], payload)
    request.app[DISPATCHER].wake()
    return web.json_response(sent, status=202)


async def emails(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}/emails: what was sent by email about the conversation, and how it went."""
    agent = await current_agent(request)
    handoff = await _visible_handoff(request, agent)
    return web.json_response({"emails": await request.app[STORE].dispatches.of_handoff(handoff["id"])})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/handoffs/{id}/follow-ups", create)
    app.router.add_get("/api/v1/follow-ups", listing)
    app.router.add_get("/api/v1/follow-ups/{follow_up_id}", show)
    app.router.add_patch("/api/v1/follow-ups/{follow_up_id}", change)
    app.router.add_post("/api/v1/handoffs/{id}/transcript/email", email_transcript)
    app.router.add_get("/api/v1/handoffs/{id}/emails", emails)
