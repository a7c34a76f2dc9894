"""The OpenAPI description of the insights routes and /metrics (merged by openapi.document)."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

Schema = Dict[str, Any]

_NUMBER, _INTEGER, _STRING = {"type": "number"}, {"type": "integer", "minimum": 0}, {"type": "string"}
_MAYBE_NUMBER, _MAYBE_STRING = {"type": ["number", "null"]}, {"type": ["string", "null"]}
_SHARE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def _object(properties: Schema, required: Sequence[str] | None = None) -> Schema:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else list(required)}


def _error(text: str) -> Schema:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(name: str) -> Schema:
    return {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


_DURATIONS = _object({"count": _INTEGER, "mean": _MAYBE_NUMBER, "median": _MAYBE_NUMBER,
                      "p90": {**_MAYBE_NUMBER, "description": "nearest rank"}, "max": _MAYBE_NUMBER})
_COUNTS = ("handoffs", "answered", "waiting", "assigned", "abandoned", "cancelled", "timed_out",
           "answered_within_threshold", "follow_ups", "follow_ups_open", "transfers", "transferred_handoffs")
_FIGURES = _object({
    **{name: _INTEGER for name in _COUNTS},
    "abandonment_rate": _SHARE, "service_level": _SHARE,
    "wait_seconds": {"$ref": "#/components/schemas/Durations"},
    "first_response_seconds": {"$ref": "#/components/schemas/Durations"},
    "handle_seconds": {"$ref": "#/components/schemas/Durations"},
    "resolutions": {"type": "object", "additionalProperties": _INTEGER},
    "satisfaction": _object({
        "closed_by_a_person": _INTEGER, "rated": _INTEGER, "skipped": _INTEGER, "response_rate": _SHARE,
        "average": {"type": ["number", "null"], "minimum": 1, "maximum": 5},
        "distribution": _object({str(n): _INTEGER for n in range(1, 6)})}),
})
# The change between two periods: the same shape, each number the difference (null when one is null).
_CHANGE = {"type": "object", "additionalProperties": True}
_GROUP = _object({"key": _MAYBE_STRING, "label": _MAYBE_STRING, "figures": {"$ref": "#/components/schemas/Figures"}})
_REPORT = _object({"from": _NUMBER, "to": _NUMBER, "from_iso": _STRING, "to_iso": _STRING,
                   "total": {"$ref": "#/components/schemas/Figures"},
                   "groups": {"type": "array", "items": _GROUP}})
_LIVE = _object({
    "at": _NUMBER, "wait_threshold_seconds": _NUMBER,
    "totals": _object({"waiting": _INTEGER, "over_threshold": _INTEGER, "assigned": _INTEGER,
                       "follow_ups_open": _INTEGER, "longest_wait_seconds": _MAYBE_NUMBER,
                       "agents_online": _INTEGER, "agents_away": _INTEGER}),
    "queues": {"type": "array", "items": _object({
        "queue": _STRING, "team": _STRING, "waiting": _INTEGER, "longest_wait_seconds": _MAYBE_NUMBER,
        "over_threshold": _INTEGER, "assigned": _INTEGER, "follow_ups_open": _INTEGER})},
    "agents": {"type": "array", "items": _object({
        "id": _STRING, "name": _STRING, "role": _STRING, "presence": {"enum": ["online", "away"]},
        "capacity": _INTEGER, "load": _INTEGER})},
    "over_threshold": {"type": "array", "maxItems": 100, "items": _object({
        "id": _STRING, "queue": _STRING, "trigger": _STRING, "channel": _MAYBE_STRING, "waiting_seconds": _NUMBER})},
})
SCHEMAS: Schema = {"Durations": _DURATIONS, "Figures": _FIGURES, "PeopleReport": _REPORT, "LiveLine": _LIVE,
                   "PeopleFigures": _object({
                       "by": {"enum": ["agent", "queue", "trigger"]}, "wait_threshold_seconds": _NUMBER,
                       "period": {"$ref": "#/components/schemas/PeopleReport"},
                       "compare": {"$ref": "#/components/schemas/PeopleReport"},
                       "change": _object({"total": _CHANGE, "groups": {"type": "array", "items": _object(
                           {"key": _MAYBE_STRING, "label": _MAYBE_STRING, "figures": _CHANGE})}})},
                       ["by", "wait_threshold_seconds", "period"])}

_TIME = {"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 1e11},
                   {"type": "string", "format": "date-time"},
                   {"type": "string", "maxLength": 0, "description": "empty: as if left out"}]}


def _time(name: str, text: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": text, "schema": _TIME}


def _op(summary: str, security: List[Schema], ok: Schema, errors: Dict[str, str],
        parameters: Sequence[Schema] = ()) -> Schema:
    op: Schema = {"summary": summary, "security": security,
                  "responses": {"200": ok, **{code: _error(text) for code, text in errors.items()}}}
    if parameters:
        op["parameters"] = list(parameters)
    return op


_AGENT: List[Schema] = [{"agentToken": []}]
_REFUSED = {"401": "Missing or wrong credentials", "403": "The agent no longer exists",
            "405": "A method this path does not take; `Allow` lists those it does"}
PATHS: Schema = {
    "/api/v1/insights/live": {"get": _op(
        "The line now: waiting per queue, the longest wait, agents on and their load, those past "
        "the wait threshold (an agent: their queues only)", _AGENT, _ok("LiveLine"), _REFUSED)},
    "/api/v1/insights/people": {"get": _op(
        "How the people do over a period (handoffs created in [from, to)), in total and per agent, queue "
        "or trigger; with compare_from and compare_to, a second period beside it and the change "
        "(an agent: their queues only)", _AGENT, _ok("PeopleFigures"),
        {"400": "A value that is not a time, or an unknown grouping: the message says which",
         "422": "Times that do not make a period: `from` not before `to`, more than 366 days, "
                "or only one of compare_from and compare_to", **_REFUSED},
        [_time("from", "Start (seconds since the epoch or ISO 8601); default: 7 days before `to`"),
         _time("to", "End, not included; default: now"),
         {"name": "by", "in": "query", "required": False,
          "schema": {"enum": ["agent", "queue", "trigger"], "default": "agent"}},
         _time("compare_from", "Start of the period to compare with (give compare_to too)"),
         _time("compare_to", "End of the period to compare with")])},
    "/metrics": {"get": {
        "summary": "Prometheus metrics (text format): counters of this instance, the line now. With "
                   "`metrics_token` set: a Bearer token; without: loopback clients only",
        "security": [{"metricsToken": []}, {}],
        "responses": {"200": {"description": "Prometheus text exposition format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "401": _error("metrics_token is set and was not sent"),
                      "403": _error("Not a loopback client, and no metrics_token is set"),
                      "405": _error(_REFUSED["405"])}}},
}
SECURITY: Schema = {"metricsToken": {"type": "http", "scheme": "bearer", "description": "metrics_token"}}
