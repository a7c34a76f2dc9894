"""Bot-facing API, called by the Rasa actions. Authenticated by a shared secret."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from aiohttp import web

from handoff_connector.common.contact import normalise_contact
from handoff_connector.service.config import Config
from handoff_connector.service.errors import BadRequest, NotFound, Unauthorized
from handoff_connector.service.keys import CONFIG, PLACE_NEWS, STORE
from handoff_connector.service.payloads import (
    bearer_token,
    header_text,
    list_of_strings,
    object_field,
    read_json,
    text_field,
)
from handoff_connector.service.round_robin import auto_assign
from handoff_connector.service.storage.urgency import signal_change
from handoff_connector.service.waiting import estimate_minutes

logger = logging.getLogger(__name__)

TRIGGERS = ("explicit", "cant_help", "frustration")


def _check_secret(request: web.Request) -> None:
    token = bearer_token(request)
    if not hmac.compare_digest(token.encode(), request.app[CONFIG].bot_secret.encode()):
        raise Unauthorized("Wrong bot secret; use the connector's `bot_secret`.")


async def route_queue(request: web.Request, context: Dict[str, Any]) -> str:
    """The queue for a handoff: an explicit `queue`, else the first matching route."""
    config: Config = request.app[CONFIG]
    requested = context.get("queue")
    if requested is not None:
        if not isinstance(requested, str) or await request.app[STORE].accounts.team_of(requested) is None:
            queues = await request.app[STORE].accounts.list_queues()
            raise BadRequest(
                f"Unknown queue {requested!r}; known queues: "
                f"{', '.join(q['name'] for q in queues)} (or leave `queue` out to route by slots)."
            )
        return requested
    slots = context.get("slots") or {}
    for route in config.routing:
        if str(slots.get(route.slot)) == route.value:
            return route.queue
    return config.default_queue


def opening(config: Config, queue: str) -> Tuple[bool, Optional[datetime]]:
    """(open now, next opening) for a queue; a queue without hours is always open."""
    settings = config.queue(queue)
    if settings is None or settings.hours is None:
        return True, None
    now = datetime.now(timezone.utc)
    if settings.hours.is_open(now):
        return True, None
    return False, settings.hours.next_open(now)


def opens_text(config: Config, queue: str, opens_at: Optional[datetime]) -> Optional[str]:
    """'today at 9:00 AM', 'tomorrow at 9:00 AM', 'on Monday at 9:00 AM', in the queue's zone."""
    settings = config.queue(queue)
    if opens_at is None or settings is None or settings.hours is None:
        return None
    zone = ZoneInfo(settings.hours.zone)
    local, today = opens_at.astimezone(zone), datetime.now(zone).date()
    clock = local.strftime("%I:%M %p").lstrip("0")
    days = (local.date() - today).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {local.strftime('%A')} at {clock}"


async def _handoff_answer(request: web.Request, handoff: Dict[str, Any], status: int) -> web.Response:
    store = request.app[STORE]
    position = await store.line.position(handoff)
    config = request.app[CONFIG]
    open_now, opens_at = opening(config, handoff["queue"])
    minutes = None
    if opens_at is not None:
        minutes = max(1, int((opens_at - datetime.now(timezone.utc)).total_seconds() // 60))
    online = await store.accounts.available(handoff["queue"]) > 0
    return web.json_response(
        {
            "open_now": open_now,
            "opens_at": opens_at.isoformat() if opens_at else None,
            "opens_in_minutes": minutes,
            "opens_text": opens_text(config, handoff["queue"], opens_at),
            "id": handoff["id"],
            "state": handoff["state"],
            "queue": handoff["queue"],
            "team": await store.accounts.team_of(handoff["queue"]) or handoff["queue"],
            "position": position,
            "estimated_wait_minutes": await estimate_minutes(request.app, handoff["queue"], position),
            "agents_available": open_now and online,
            "agent_id": handoff["agent_id"],
        },
        status=status,
    )


async def create_handoff(request: web.Request) -> web.Response:
    """POST /bot/v1/handoffs: idempotent by the `Idempotency-Key` header."""
    _check_secret(request)
    key = header_text(request, "Idempotency-Key").strip()
    if not key or len(key) > 200:
        raise BadRequest("Header `Idempotency-Key` is required (1-200 characters).")
    body = await read_json(request)
    sender_id = text_field(body, "sender_id", max_len=200)
    trigger = text_field(body, "trigger", max_len=40)
    if trigger not in TRIGGERS:
        raise BadRequest(f"Field `trigger` must be one of {', '.join(TRIGGERS)}.")
    reasons = list_of_strings(body, "reasons")
    channel = text_field(body, "channel", required=False, max_len=100)
    _check_context(body)
    queue = await route_queue(request, body)
    store, config = request.app[STORE], request.app[CONFIG]
    # Routed and scanned for urgency as sent; stored as the config's redaction says (`on_store`).
    handoff, created = await store.handoffs.create(
        key, str(sender_id), channel, queue, str(trigger), reasons, config.redaction.stored_context(body),
        urgency=signal_change(config.urgency.scan(*_said(body))),
    )
    if created:
        logger.info("handoff.created id=%s queue=%s trigger=%s", handoff["id"], queue, trigger)
        await store.line.note_position(handoff["id"], await store.line.position(handoff))
        await auto_assign(request.app, [queue])
        handoff = await store.handoffs.get(handoff["id"])
    return await _handoff_answer(request, handoff, 201 if created else 200)


async def relay_message(request: web.Request) -> web.Response:
    """POST /bot/v1/handoffs/{id}/messages: idempotent by `message_id`."""
    _check_secret(request)
    body = await read_json(request)
    message_id = text_field(body, "message_id", max_len=200)
    text = text_field(body, "text", required=False) or ""
    intent = text_field(body, "intent", required=False, max_len=100)
    text_field(body, "channel", required=False, max_len=100)  # informational; checked like the handoff's
    # The message itself is stored as sent, not as an earlier one that came late.
    earlier = [m for m in _earlier_messages(body) if m["message_id"] != message_id]
    store = request.app[STORE]
    handoff_id = request.match_info["id"]
    redaction = request.app[CONFIG].redaction
    # The earlier ones too: one that never reached the connector has not been looked through.
    said = [text] + [m["text"] for m in earlier]
    urgency = signal_change(request.app[CONFIG].urgency.scan(said, [intent] if intent else []))
    message, created, state = await store.messages.add_user_message(
        handoff_id, str(message_id), str(redaction.stored(text)), sent_at=_number(body, "timestamp"),
        earlier=redaction.stored_said(earlier), urgency=urgency)
    cancelled = state == "cancelled"
    if created and intent in request.app[CONFIG].cancel_intents and state == "queued":
        # Only while waiting: with a person on, "never mind" is for them to read.
        gone = await store.handoffs.cancel(handoff_id)
        cancelled = True
        request.app[PLACE_NEWS].poke(gone["queue"])
    return web.json_response(
        {"id": message["id"], "duplicate": not created, "cancelled": cancelled},
        status=201 if created else 200,
    )


def _said(body: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """What the user said before the handoff (the transcript's and the recent intents' texts)
    and the intents recognised: where urgency signals are looked for."""
    texts = [t["text"] for t in body.get("transcript") or []
             if isinstance(t, dict) and t.get("role") == "user" and isinstance(t.get("text"), str)]
    recent = [i for i in body.get("recent_intents") or [] if isinstance(i, dict)]
    texts += [i["text"] for i in recent if isinstance(i.get("text"), str)]
    return texts, [i["intent"] for i in recent if isinstance(i.get("intent"), str)]


EARLIER_LIMIT = 50
TRANSCRIPT_ROLES = ("user", "bot", "agent", "system")


def _check_context(body: Dict[str, Any]) -> None:
    """The parts of the bot's context the desk reads, checked at the door: a handoff
    stored with a malformed transcript would break every later read of it."""
    for key in ("slots", "frustration"):
        object_field(body, key)
    text_field(body, "language", required=False, max_len=100)
    recent = body.get("recent_intents")
    if recent is not None and (not isinstance(recent, list) or not all(isinstance(i, dict) for i in recent)):
        raise BadRequest("Field `recent_intents` must be a list of objects.")
    transcript = body.get("transcript")
    if transcript is None:
        return
    if not isinstance(transcript, list) or len(transcript) > 1000:
        raise BadRequest("Field `transcript` must be a list of at most 1000 entries.")
    for index, entry in enumerate(transcript):
        where = f"`transcript[{index}]`"
        if not isinstance(entry, dict):
            raise BadRequest(f"{where} must be an object with `role`, `text` and `timestamp`.")
        if entry.get("role") not in TRANSCRIPT_ROLES:
            raise BadRequest(f"{where}.role must be one of {', '.join(TRANSCRIPT_ROLES)}.")
        if "text" not in entry or (entry["text"] is not None and not isinstance(entry["text"], str)):
            raise BadRequest(f"{where}.text is required (a string, or null for a turn without text).")
        if not isinstance(entry.get("timestamp"), (str, int, float)) or isinstance(entry.get("timestamp"), bool):
            raise BadRequest(f"{where}.timestamp is required (an ISO 8601 time).")


def _number(body: Dict[str, Any], key: str) -> Optional[float]:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e11:
        raise BadRequest(f"Field `{key}` must be a time in seconds since the epoch.")
    return float(value)


def _earlier_messages(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """`earlier`: the user's previous messages of the handoff, as Rasa has them."""
    value = body.get("earlier")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > EARLIER_LIMIT:
        raise BadRequest(f"Field `earlier` must be a list of at most {EARLIER_LIMIT} messages.")
    found = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequest("Each of `earlier` must be an object with `message_id`, `text` and `timestamp`.")
        found.append({"message_id": text_field(item, "message_id", max_len=200),
                      "text": text_field(item, "text", required=False) or "",
                      "timestamp": _number(item, "timestamp")})
    return found


async def submit_survey(request: web.Request) -> web.Response:
    """POST /bot/v1/handoffs/{id}/survey: rating 1-5 and comment, or skipped."""
    _check_secret(request)
    body = await read_json(request)
    skipped = body.get("skipped", False)
    if not isinstance(skipped, bool):
        raise BadRequest("Field `skipped` must be true or false.")
    rating = body.get("rating")
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)  # JSON does not tell 4 from 4.0
    if (rating is not None or not skipped) and (
            not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5):
        raise BadRequest("Field `rating` must be a whole number from 1 to 5 (or null with `skipped`).")
    comment = text_field(body, "comment", required=False, max_len=2000)
    survey, created = await request.app[STORE].surveys.save(
        request.match_info["id"], None if skipped else rating,
        None if skipped else request.app[CONFIG].redaction.stored(comment), skipped
    )
    return web.json_response(survey, status=201 if created else 200)


async def request_callback(request: web.Request) -> web.Response:
    """POST /bot/v1/handoffs/{id}/callback {contact}: nobody could take it; call back."""
    _check_secret(request)
    body = await read_json(request)
    found = normalise_contact(text_field(body, "contact", max_len=254))  # the longest email address
    if found is None:
        raise BadRequest("Field `contact` must be a phone number (7-15 digits) or an email address.")
    ticket = await request.app[STORE].handoffs.to_ticket(request.match_info["id"], found[1])
    request.app[PLACE_NEWS].poke(ticket["queue"])
    return web.json_response({"id": ticket["id"], "state": ticket["state"], "contact": ticket["contact"],
                              "kind": found[0]})


async def cancel(request: web.Request) -> web.Response:
    """POST /bot/v1/handoffs/{id}/cancel: the user went back to the bot while waiting."""
    _check_secret(request)
    handoff = await request.app[STORE].handoffs.cancel(request.match_info["id"])
    request.app[PLACE_NEWS].poke(handoff["queue"])
    return web.json_response({"id": handoff["id"], "state": handoff["state"]})


async def open_handoff(request: web.Request) -> web.Response:
    """GET /bot/v1/conversations/{sender_id}/handoff: the open handoff, or 404."""
    _check_secret(request)
    handoff = await request.app[STORE].handoffs.open_for(request.match_info["sender_id"])
    if handoff is None:
        raise NotFound("No open handoff for this conversation.")
    return await _handoff_answer(request, handoff, 200)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/bot/v1/handoffs", create_handoff)
    app.router.add_post("/bot/v1/handoffs/{id}/messages", relay_message)
    app.router.add_post("/bot/v1/handoffs/{id}/survey", submit_survey)
    app.router.add_post("/bot/v1/handoffs/{id}/callback", request_callback)
    app.router.add_post("/bot/v1/handoffs/{id}/cancel", cancel)
    app.router.add_get("/bot/v1/conversations/{sender_id}/handoff", open_handoff)
