"""The record under /api/v1/: search the history, one conversation's whole record, redaction.

Supervisors see every conversation; an agent those of their queues and those
assigned to them. The store decides inside the read's own transaction.
Exports and the transcript file are in ``export.py``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

from aiohttp import web

from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.config import Config
from handoff_connector.service.errors import BadRequest
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.payloads import page_cursor, page_limit
from handoff_connector.service.storage import summary
from handoff_connector.service.storage.history import Filters, snippets, terms

PAGE = 50
MAX_PAGE = 500
MAX_QUERY = 500
STATES = ("queued", "assigned", "closed", "returned", "cancelled", "abandoned", "no_agent")
TRIGGERS = ("explicit", "cant_help", "frustration", "resume", "follow_up")
EPOCH = r"^[0-9]{1,11}(\.[0-9]{1,6})?$"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
                   r"([Zz]|[+-]\d{2}:\d{2})?)?")


def resolutions(config: Config) -> List[str]:
    """What a handoff's resolution can be: the config's, and abandonment's."""
    return [*config.resolutions, *([] if "abandoned" in config.resolutions else ["abandoned"])]


def parse_time(raw: str, key: str, end_of_day: bool = False) -> float:
    """Seconds since the epoch, a date (UTC; as ``to``, through its end) or an ISO 8601 time."""
    if re.fullmatch(EPOCH, raw):
        return float(raw)
    found = _DATE.fullmatch(raw)
    try:
        if found is None:
            raise ValueError(raw)
        year, month, day, hour, minute, second, fraction, offset = found.groups()
        zone = timezone.utc
        if offset and offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        # A leap second (":60") is read as the second before it.
        at = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      min(int(second or 0), 59), tzinfo=zone)
    except ValueError:
        raise BadRequest(f"Query `{key}` must be a date (2026-01-31), an ISO 8601 time "
                         f"(2026-01-31T09:30:00Z) or seconds since the epoch.") from None
    value = at.timestamp() + float(fraction or 0)
    if end_of_day and hour is None:
        value += 86400
    return value


def _choice(query: Mapping[str, str], key: str, allowed: List[str]) -> Optional[str]:
    value = query.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise BadRequest(f"Query `{key}` must be one of: {', '.join(allowed)}.")
    return value


def _text(query: Mapping[str, str], key: str, max_len: int = 100) -> Optional[str]:
    value = query.get(key) or None
    if value is not None and len(value) > max_len:
        raise BadRequest(f"Query `{key}` must be at most {max_len} characters.")
    return value


def parse_filters(query: Mapping[str, str], config: Config) -> Filters:
    """The filters of GET /api/v1/history and the exports; every wrong value is a 400."""
    rating = query.get("rating")
    if rating is not None and rating not in ("1", "2", "3", "4", "5"):
        raise BadRequest("Query `rating` must be a whole number from 1 to 5.")
    since, until = query.get("from"), query.get("to")
    return Filters(
        since=parse_time(since, "from") if since is not None else None,
        until=parse_time(until, "to", end_of_day=True) if until is not None else None,
        queue=_text(query, "queue"), agent=_text(query, "agent"), channel=_text(query, "channel"),
        trigger=_choice(query, "trigger", list(TRIGGERS)), state=_choice(query, "state", list(STATES)),
        resolution=_choice(query, "resolution", resolutions(config)),
        rating=int(rating) if rating is not None else None,
        words=tuple(terms(_text(query, "q", MAX_QUERY) or "")),
    )


def listed(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """A handoff as the history lists it."""
    return {**summary(handoff), "rating": handoff.get("rating"), "erasure": handoff.get("erasure")}


async def search(request: web.Request) -> web.Response:
    """GET /api/v1/history: handoffs by filters and words, newest first, a page at a time."""
    agent = await current_agent(request)
    filters = parse_filters(request.query, request.app[CONFIG])
    limit = page_limit(request.query.get("limit"), PAGE, MAX_PAGE)
    page, total = await request.app[STORE].history.search(agent.id, filters, limit + 1,
                                                          page_cursor(request.query.get("after"), "history"))
    more = len(page) > limit
    page = page[:limit]
    found = [{**listed(h), "matches": snippets(h, filters.words) if filters.words else []} for h in page]
    after = f"{page[-1]['created_at']!r}~{page[-1]['id']}" if more else None
    return web.json_response({"handoffs": found, "total": total, "next": after})


def transcript_entries(context: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"role": t.get("role"), "text": t.get("text"), "timestamp": t.get("timestamp"),
             "author": t.get("author") or t.get("role")} for t in context.get("transcript") or []]


def message_view(message: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": message["id"], "role": message["role"], "author": message["author"], "text": message["text"],
            "created_at": message["created_at"], "sent_at": message["sent_at"], "late": bool(message["late"])}


async def load_record(request: web.Request, handoff_id: str) -> Dict[str, Any]:
    agent = await current_agent(request)
    found = await request.app[STORE].history.record(agent.id, handoff_id)
    handoff = found["handoff"]
    survey = found["survey"]
    return {
        **summary(handoff),
        "team": found["team"],
        "context": handoff["context"],
        "user_name": request.app[CONFIG].known_user_name(handoff["context"]),
        "close_note": handoff["close_note"],
        "erased_at": handoff["erased_at"],
        "erasure": handoff["erasure"],
        "transcript": transcript_entries(handoff["context"]),
        "messages": [message_view(m) for m in found["messages"]],
        "transitions": found["transitions"],
        "survey": {**survey, "skipped": bool(survey["skipped"])} if survey else None,
        "redactions": found["redactions"],
        "previous": [summary(h) for h in found["previous"]],
    }


async def record(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}/record: the conversation's all, and the user's other conversations."""
    return web.json_response(await load_record(request, request.match_info["id"]))


async def redact(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/redact: the config's patterns over one conversation (supervisors)."""
    agent = await current_agent(request)
    counts = await request.app[STORE].erasure.redact_one(
        request.match_info["id"], f"agent:{agent.id}", request.app[CONFIG].redaction, actor_id=agent.id)
    return web.json_response({"handoff_id": request.match_info["id"], "redacted": counts})


def add_routes(app: web.Application) -> None:
    from handoff_connector.service import export

    app.router.add_get("/api/v1/history", search)
    app.router.add_get("/api/v1/handoffs/{id}/record", record)
    app.router.add_post("/api/v1/handoffs/{id}/redact", redact)
    export.add_routes(app)
