"""The supervisor's figures under /api/v1/insights/ (issue 12), and /metrics.

``GET /api/v1/insights/live``: the line now. ``GET /api/v1/insights/people``:
figures over a period, per agent, queue or trigger, optionally beside a second
period with the change. Supervisors see every queue; an agent the queues they
belong to (read in the same transaction as the figures).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

from aiohttp import web

from handoff_connector.service import metrics
from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.errors import BadRequest, Unprocessable
from handoff_connector.service.keys import CONFIG, STORE
from handoff_connector.service.storage.insights import GROUPINGS, change, compare_groups

DEFAULT_DAYS = 7
MAX_DAYS = 366  # one report reads at most this much history
LATEST = 1e11  # seconds since the epoch: year 5138, beyond any real time


# RFC 3339 (what OpenAPI's date-time is), which fromisoformat does not all read: lower-case
# t and z, a leap second. Other ISO 8601 forms (a date alone) go to fromisoformat.
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def instant(raw: str, name: str, what: str = "Query") -> float:
    """A query time (or, ``what="Field"``, a body's): seconds since the epoch (0 to 1e11),
    or ISO 8601 / RFC 3339 (UTC unless it says)."""
    try:
        value = float(raw)
    except ValueError:
        return _iso_instant(raw.strip(), name, what)
    if not math.isfinite(value) or not 0 <= value < LATEST:
        raise BadRequest(f"{what} `{name}` is out of range: seconds since the epoch from 0 to 1e11.")
    return value


def _iso_instant(raw: str, name: str, what: str) -> float:
    leap = 0.0
    parts = _RFC3339.fullmatch(raw)
    if parts:
        day, minutes, seconds, fraction, zone = parts.groups()
        leap = 1.0 if seconds == "60" else 0.0  # 23:59:60 is a second after 23:59:59
        zone = "+00:00" if zone in (None, "Z", "z") else zone
        raw = f"{day}T{minutes}:{min(seconds, '59')}{(fraction or '')[:7]}{zone}"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{what} `{name}` must be a time: ISO 8601 (2026-03-01T00:00:00Z) or "
                         f"seconds since the epoch; got {raw[:40]!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.timestamp() + leap
    except (OverflowError, OSError, ValueError):
        raise Unprocessable(f"{what} `{name}` is a time no calendar here can place; give one after 1970.") from None


def period(query: Any, start_key: str, end_key: str, now: float) -> Tuple[float, float]:
    """Each value alone is checked as a time (400); how they go together is a 422."""
    end = instant(query[end_key], end_key) if query.get(end_key) else now
    start = instant(query[start_key], start_key) if query.get(start_key) else end - DEFAULT_DAYS * 86400
    if start >= end:
        raise Unprocessable(f"Query `{start_key}` must be before `{end_key}`.")
    if end - start > MAX_DAYS * 86400:
        raise Unprocessable(f"A period covers at most {MAX_DAYS} days; `{start_key}` to `{end_key}` covers more.")
    return start, end


def _span(start: float, end: float) -> Dict[str, Any]:
    return {"from": start, "to": end, "from_iso": _iso(start), "to_iso": _iso(end)}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z")


async def live(request: web.Request) -> web.Response:
    """GET /api/v1/insights/live: waiting per queue, the longest wait, agents on and their load,
    the conversations waiting past the threshold."""
    agent = await current_agent(request)
    config = request.app[CONFIG]
    figures = await request.app[STORE].insights.live(agent.id, config.wait_threshold_seconds)
    return web.json_response(figures)


async def people(request: web.Request) -> web.Response:
    """GET /api/v1/insights/people?from&to&by=agent|queue|trigger[&compare_from&compare_to]."""
    agent = await current_agent(request)
    query = request.query
    by = query.get("by", "agent")
    if by not in GROUPINGS:
        raise BadRequest(f"Query `by` must be one of: {', '.join(GROUPINGS)}.")
    store, config = request.app[STORE], request.app[CONFIG]
    now = store.db.clock()
    periods = [period(query, "from", "to", now)]
    comparing = bool(query.get("compare_from") or query.get("compare_to"))
    if comparing:
        if not (query.get("compare_from") and query.get("compare_to")):
            raise Unprocessable("Give both `compare_from` and `compare_to` (the period to compare with), "
                                "or neither.")
        periods.append(period(query, "compare_from", "compare_to", now))
    reports = await store.insights.people(agent.id, periods, by, config.wait_threshold_seconds,
                                          config.resolutions)
    answer: Dict[str, Any] = {"by": by, "wait_threshold_seconds": config.wait_threshold_seconds,
                              "period": {**_span(*periods[0]), **reports[0]}}
    compared: Optional[Dict[str, Any]] = None
    if comparing:
        compared = {**_span(*periods[1]), **reports[1]}
        answer["compare"] = compared
        answer["change"] = {"total": change(reports[0]["total"], reports[1]["total"]),
                            "groups": compare_groups(reports[0]["groups"], reports[1]["groups"],
                                                     config.resolutions)}
    return web.json_response(answer)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/insights/live", live)
    app.router.add_get("/api/v1/insights/people", people)
    metrics.add_routes(app)
