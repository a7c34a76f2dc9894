"""The OpenAPI description of the designer's routes (``designer_api.py``), merged into
the connector's document by ``openapi.document``."""

from __future__ import annotations

from typing import Any, Dict, List

from handoff_connector.service.bot_events import PATH_STEPS
from handoff_connector.service.designer_api import DATE, MAX_LIMIT, MAX_SECONDS, TRIGGERS
from handoff_connector.service.openapi import (
    _INTEGER,
    _NULLABLE_NUMBER,
    _NULLABLE_STRING,
    _NUMBER,
    _STRING,
    Schema,
    _errors,
    _json,
    _object,
    _op,
    _ref,
)
from handoff_connector.service.storage.conversations import GROUPS


def _moment(name: str, what: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": what, "schema": {"anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
        {"type": "string", "pattern": DATE.pattern},
        {"type": "string", "maxLength": 0}]}}


def _choice(name: str, values: List[str], what: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": what,
            "schema": {"enum": [*values, ""]}}


def _whole(name: str, most: int, what: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": what,
            "schema": {"type": "integer", "minimum": 1, "maximum": most}}


_PERIOD = [_moment("from", "Start (inclusive): a date (UTC) or seconds since the epoch; default: 7 days before `to`"),
           _moment("to", "End (exclusive; a date takes in that whole day); default: now")]
_TRIGGER = _choice("trigger", list(TRIGGERS), "Only handoffs of this trigger")
_RATE = _NULLABLE_NUMBER

OFFERS = _object({"made": _INTEGER, "accepted": _INTEGER, "declined": _INTEGER, "unanswered": _INTEGER,
                  "acceptance_rate": _RATE}, ["made", "accepted", "declined", "unanswered", "acceptance_rate"])
_NULLABLE_OFFERS = {"anyOf": [_ref("BotOffers"), {"type": "null"}]}
_FIGURES_FIELDS = ["conversations", "escalated", "contained", "escalation_rate", "containment_rate", "handoffs",
                   "offers", "offers_by_trigger"]
_GROUP_FIELDS = ["key", "conversations", "escalated", "escalation_rate", "containment_rate",
                 "share_of_escalations", "offers"]
_EXAMPLE = _object({"conversation_id": _INTEGER, "handoff_id": _STRING, "sender_id": _STRING,
                    "handoff_at": _NUMBER}, ["conversation_id", "handoff_id", "sender_id", "handoff_at"])
_STEP = _object({"kind": {"enum": ["intent", "action"]}, "name": _STRING}, ["kind", "name"])
_COUNTS = {"type": "object", "additionalProperties": _INTEGER}


def _figures_of_period() -> Schema:
    return _object({
        "period": _ref("BotPeriod"),
        "totals": _ref("BotTotals"),
        "groups": {"type": "array", "items": _ref("BotGroup")},
    }, ["period", "totals", "groups"])


SCHEMAS: Dict[str, Any] = {
    "BotPeriod": _object({"from": _STRING, "to": _STRING, "from_ts": _NUMBER, "to_ts": _NUMBER},
                         ["from", "to", "from_ts", "to_ts"]),
    "BotOffers": OFFERS,
    "BotTotals": _object({
        "conversations": _INTEGER, "escalated": _INTEGER, "contained": _INTEGER, "escalation_rate": _RATE,
        "containment_rate": _RATE, "handoffs": _INTEGER, "offers": _ref("BotOffers"),
        "offers_by_trigger": _object({"frustration": _ref("BotOffers"), "cant_help": _ref("BotOffers")},
                                     ["frustration", "cant_help"]),
    }, _FIGURES_FIELDS),
    "BotGroup": _object({
        "key": {"type": ["string", "integer", "null"]}, "conversations": _INTEGER, "escalated": _INTEGER,
        "escalation_rate": _RATE, "containment_rate": _RATE, "share_of_escalations": _RATE,
        "offers": _NULLABLE_OFFERS, "reasons": _COUNTS,
    }, _GROUP_FIELDS),
    "BotFigures": {"allOf": [_figures_of_period(), _object({
        "by": {"enum": [*GROUPS, None]},
        "compare": {"allOf": [_figures_of_period(), _object({"change": _object({
            "conversations": _INTEGER, "escalated": _INTEGER, "escalation_rate": _RATE,
            "containment_rate": _RATE, "offer_acceptance_rate": _RATE,
        }, ["conversations", "escalated", "escalation_rate", "containment_rate", "offer_acceptance_rate"])},
            ["change"])]},
    }, ["by"])]},
    "BotTurns": _object({
        "period": _ref("BotPeriod"), "trigger": _NULLABLE_STRING, "escalated": _INTEGER,
        "turns": {"type": "array", "items": _object({"turn": _INTEGER, "count": _INTEGER}, ["turn", "count"])},
        "median": _NULLABLE_NUMBER, "mean": _NULLABLE_NUMBER,
    }, ["period", "trigger", "escalated", "turns", "median", "mean"]),
    "BotPaths": _object({
        "period": _ref("BotPeriod"), "trigger": _NULLABLE_STRING, "steps": _INTEGER, "escalated": _INTEGER,
        "paths": {"type": "array", "items": _object({
            "path": {"type": "array", "items": _STEP}, "key": _STRING, "count": _INTEGER, "share": _RATE,
            "triggers": _COUNTS, "examples": {"type": "array", "items": _EXAMPLE},
        }, ["path", "key", "count", "share", "triggers", "examples"])},
    }, ["period", "trigger", "steps", "escalated", "paths"]),
    "BotResponses": _object({
        "period": _ref("BotPeriod"), "triggers": {"type": "array", "items": _STRING}, "escalated": _INTEGER,
        "without_response": _INTEGER,
        "responses": {"type": "array", "items": _object({
            "response": _STRING, "text": _NULLABLE_STRING, "count": _INTEGER, "share": _RATE,
            "triggers": _COUNTS, "examples": {"type": "array", "items": _EXAMPLE},
        }, ["response", "text", "count", "share", "triggers", "examples"])},
    }, ["period", "triggers", "escalated", "without_response", "responses"]),
}

_REFUSED = _errors("400 401 405", _403="Not a supervisor",
                   _422="A period that ends before it starts, a day that does not exist, or half a compare period")
_AGENT = "agentToken"
PATHS: Dict[str, Any] = {
    "/api/v1/insights/bot": {"get": _op(
        "Escalation rate and containment over every bot conversation; offers accepted and declined; "
        "per trigger, queue, channel, day or hour (UTC); against a second period", _AGENT,
        {"200": _json(_ref("BotFigures"))}, _REFUSED, parameters=[
            *_PERIOD, _choice("by", list(GROUPS), "Figures per group as well"),
            _moment("compare_from", "A second period to compare with (give both ends)"),
            _moment("compare_to", "The second period's end")])},
    "/api/v1/insights/bot/turns": {"get": _op(
        "At which user turn the handoffs began", _AGENT, {"200": _json(_ref("BotTurns"))}, _REFUSED,
        parameters=[*_PERIOD, _TRIGGER])},
    "/api/v1/insights/bot/paths": {"get": _op(
        "The most common last intents and actions into a handoff, with example conversations", _AGENT,
        {"200": _json(_ref("BotPaths"))}, _REFUSED,
        parameters=[*_PERIOD, _TRIGGER, _whole("steps", PATH_STEPS, f"How many steps before the handoff (1-{PATH_STEPS})"),
                    _whole("limit", MAX_LIMIT, "How many paths")])},
    "/api/v1/insights/bot/responses": {"get": _op(
        "The bot's responses most often right before a frustration or can't-help handoff", _AGENT,
        {"200": _json(_ref("BotResponses"))}, _REFUSED,
        parameters=[*_PERIOD, _TRIGGER, _whole("limit", MAX_LIMIT, "How many responses")])},
}
