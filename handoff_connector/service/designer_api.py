"""The bot designer's view under /api/v1/insights/bot: where the bot hands over, and why.

Over every bot conversation (Rasa's event broker, see ``broker.py``), not only
the escalated ones. A period is ``from`` (inclusive) to ``to`` (exclusive), each
a date (``2026-03-01``, UTC; a date as ``to`` takes in that whole day) or
seconds since the epoch; by default the last 7 days. Supervisors only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.bot_events import PATH_STEPS, path_key
from handoff_connector.service.errors import BadRequest, Unprocessable
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.conversations import GROUPS, example, top

DEFAULT_DAYS = 7
TRIGGERS = ("explicit", "frustration", "cant_help")
BEFORE_TROUBLE = ("frustration", "cant_help")  # the responses view: the bot said something that did not help
MAX_LIMIT = 50
DATE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
SECONDS = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
MAX_SECONDS = 1e11


def _moment(request: web.Request, name: str, end: bool) -> Optional[float]:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if SECONDS.match(raw):
        value = float(raw)
        if not 0 <= value <= MAX_SECONDS:
            raise BadRequest(f"Query `{name}` must be seconds since the epoch up to {MAX_SECONDS:.0f}.")
        return value
    if not DATE.match(raw):
        raise BadRequest(f"Query `{name}` must be a date (YYYY-MM-DD, UTC) or seconds since the epoch.")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(f"Query `{name}`: there is no such day as {raw}.") from None
    return float(calendar.timegm(day.timetuple())) + (86400.0 if end else 0.0)


def _period(request: web.Request) -> Tuple[float, float]:
    """The period asked for, by default the last 7 days."""
    found = _some_period(request)
    assert found is not None
    return found


def _some_period(request: web.Request, first: str = "from", last: str = "to",
                 default: bool = True) -> Optional[Tuple[float, float]]:
    since, until = _moment(request, first, end=False), _moment(request, last, end=True)
    if since is None and until is None and not default:
        return None
    if not default and (since is None or until is None):
        raise Unprocessable(f"Give both `{first}` and `{last}` to compare with a second period.")
    until = time.time() if until is None else until
    since = until - DEFAULT_DAYS * 86400 if since is None else since
    if since >= until:
        raise Unprocessable(f"Query `{first}` must come before `{last}`.")
    return since, until


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _period_view(period: Tuple[float, float]) -> Dict[str, Any]:
    return {"from": _iso(period[0]), "to": _iso(period[1]), "from_ts": period[0], "to_ts": period[1]}


def _choice(request: web.Request, name: str, allowed: Tuple[str, ...]) -> Optional[str]:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise BadRequest(f"Query `{name}` must be one of {', '.join(allowed)}.")
    return raw


def _whole(request: web.Request, name: str, default: int, most: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise BadRequest(f"Query `{name}` must be a whole number from 1 to {most}.")
    return int(raw)


async def bot_figures(request: web.Request) -> web.Response:
    """GET /api/v1/insights/bot: escalation and containment, offers; per ``by``; against a second period."""
    agent = await current_agent(request)
    period = _period(request)
    compare = _some_period(request, "compare_from", "compare_to", default=False)
    by = _choice(request, "by", GROUPS)
    store = request.app[STORE].conversations
    body: Dict[str, Any] = {"period": _period_view(period), "by": by,
                            **await store.figures(agent.id, *period, by)}
    body.setdefault("groups", [])
    if compare is not None:
        other = await store.figures(agent.id, *compare, by)
        other.setdefault("groups", [])
        body["compare"] = {"period": _period_view(compare), **other,
                           "change": _change(body["totals"], other["totals"])}
    return web.json_response(body)


def _change(now: Dict[str, Any], then: Dict[str, Any]) -> Dict[str, Any]:
    """This period minus the compared one (null where either has no conversations)."""
    def minus(key: str) -> Optional[float]:
        if now[key] is None or then[key] is None:
            return None
        return round(now[key] - then[key], 4)

    return {"conversations": now["conversations"] - then["conversations"],
            "escalated": now["escalated"] - then["escalated"],
            "escalation_rate": minus("escalation_rate"), "containment_rate": minus("containment_rate"),
            "offer_acceptance_rate": (None if now["offers"]["acceptance_rate"] is None
                                      or then["offers"]["acceptance_rate"] is None
                                      else round(now["offers"]["acceptance_rate"]
                                                 - then["offers"]["acceptance_rate"], 4))}


async def bot_turns(request: web.Request) -> web.Response:
    """GET /api/v1/insights/bot/turns: at which user turn the handoffs began."""
    agent = await current_agent(request)
    period = _period(request)
    trigger = _choice(request, "trigger", TRIGGERS)
    found = await request.app[STORE].conversations.turns(agent.id, *period, trigger)
    return web.json_response({"period": _period_view(period), "trigger": trigger, **found})


async def bot_paths(request: web.Request) -> web.Response:
    """GET /api/v1/insights/bot/paths: the most common last intents and actions into a handoff."""
    agent = await current_agent(request)
    period = _period(request)
    trigger = _choice(request, "trigger", TRIGGERS)
    steps = _whole(request, "steps", PATH_STEPS, PATH_STEPS)
    limit = _whole(request, "limit", 10, MAX_LIMIT)
    rows = await request.app[STORE].conversations.handoff_rows(
        agent.id, *period, None if trigger is None else [trigger])
    for row in rows:
        row["last"] = list(row["path"] or [])[-steps:]
        row["last_key"] = path_key(row["last"])
    paths = [{"path": group[0]["last"], "key": key, "count": len(group), "share": _share(len(group), len(rows)),
              "triggers": _triggers(group), "examples": [example(r) for r in group[:3]]}
             for key, group in top(rows, "last_key", limit)]
    return web.json_response({"period": _period_view(period), "trigger": trigger, "steps": steps,
                              "escalated": len(rows), "paths": paths})


async def bot_responses(request: web.Request) -> web.Response:
    """GET /api/v1/insights/bot/responses: the bot's responses most often right before a
    frustration or can't-help handoff (``trigger`` narrows it to one trigger)."""
    agent = await current_agent(request)
    period = _period(request)
    trigger = _choice(request, "trigger", TRIGGERS)
    limit = _whole(request, "limit", 10, MAX_LIMIT)
    triggers = list(BEFORE_TROUBLE) if trigger is None else [trigger]
    rows = await request.app[STORE].conversations.handoff_rows(agent.id, *period, triggers)
    said = [r for r in rows if r["response_before"]]
    responses = [{"response": key, "text": (group[0]["fold"] or {}).get("response_text"), "count": len(group),
                  "share": _share(len(group), len(rows)), "triggers": _triggers(group),
                  "examples": [example(r) for r in group[:3]]}
                 for key, group in top(said, "response_before", limit)]
    return web.json_response({"period": _period_view(period), "triggers": triggers, "escalated": len(rows),
                              "without_response": len(rows) - len(said), "responses": responses})


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _triggers(rows: List[Dict[str, Any]]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row["trigger"]] = counts.get(row["trigger"], 0) + 1
    return dict(sorted(counts.items()))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/insights/bot", bot_figures)
    app.router.add_get("/api/v1/insights/bot/turns", bot_turns)
    app.router.add_get("/api/v1/insights/bot/paths", bot_paths)
    app.router.add_get("/api/v1/insights/bot/responses", bot_responses)
