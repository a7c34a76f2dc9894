"""The OpenAPI description of assignment and help requests (``assignment_api.py``), merged
into the connector's document by ``openapi.document``."""

from __future__ import annotations

from typing import Any, Dict

from handoff_connector.service.assignment_api import HELP_MESSAGE_MAX
from handoff_connector.service.openapi import (
    _ID,
    _INTEGER,
    _NULLABLE_NUMBER,
    _NULLABLE_STRING,
    _NUMBER,
    _STRING,
    _errors,
    _json,
    _object,
    _op,
    _ref,
    _text,
)
from handoff_connector.service.storage.help import HELP_STATES

_AGENT = "agentToken"
_HELP_ID = {"name": "id", "in": "path", "required": True, "schema": _STRING,
            "description": "A help request's id (a whole number)"}
_HELP_FIELDS = {
    "id": _INTEGER, "handoff_id": _STRING, "agent_id": _STRING, "agent_name": _NULLABLE_STRING,
    "message": _STRING, "state": {"enum": list(HELP_STATES)}, "created_at": _NUMBER,
    "handled_by": _NULLABLE_STRING, "handled_at": _NULLABLE_NUMBER, "sender_id": _STRING, "queue": _STRING,
    "handoff_state": _STRING, "handoff_agent_id": _NULLABLE_STRING,
}

SCHEMAS: Dict[str, Any] = {
    "Assignment": _object({"agent_id": _text(100)}, ["agent_id"]),
    "HelpAsk": _object({"message": _text(HELP_MESSAGE_MAX)}, ["message"]),
    "HelpRequest": _object(_HELP_FIELDS, list(_HELP_FIELDS)),
}

PATHS: Dict[str, Any] = {
    "/api/v1/handoffs/{id}/assignment": {
        "put": _op("Assign a waiting conversation to a named agent (supervisors)", _AGENT,
                   {"200": _json(_ref("HandoffSummary"))},
                   _errors("400 401 403 404 405 413", _409="Not waiting, or the agent is offline or "
                                                           "not in its queue"),
                   body=_ref("Assignment"), parameters=[_ID]),
        "delete": _op("Unassign a waiting conversation (supervisors)", _AGENT,
                      {"200": _json(_ref("HandoffSummary"))}, _errors("400 401 403 404 405 409"),
                      parameters=[_ID]),
    },
    "/api/v1/handoffs/{id}/help": {"post": _op(
        "Ask a supervisor for help on a conversation one holds", _AGENT,
        {"201": _json(_ref("HelpRequest"), "Asked"), "200": _json(_ref("HelpRequest"), "Already asked")},
        _errors("400 401 403 404 405 409 413"), body=_ref("HelpAsk"), parameters=[_ID])},
    "/api/v1/help-requests": {"get": _op(
        "Help requests (everyone's to a supervisor, one's own to an agent), oldest first", _AGENT,
        {"200": _json(_object({"help_requests": {"type": "array", "items": _ref("HelpRequest")}},
                              ["help_requests"]))},
        _errors("400 401 405"),
        parameters=[{"name": "state", "in": "query", "required": False,
                     "schema": {"enum": [*HELP_STATES, "all"], "default": "open"}}])},
    "/api/v1/help-requests/{id}/handled": {"post": _op(
        "Mark a help request handled (supervisors)", _AGENT, {"200": _json(_ref("HelpRequest"))},
        _errors("400 401 403 404 405 409"), parameters=[_HELP_ID])},
    "/api/v1/help-requests/{id}/take-over": {"post": _op(
        "Take the conversation over (a recorded transfer to oneself; supervisors)", _AGENT,
        {"200": _json(_ref("HandoffSummary"))}, _errors("400 401 403 404 405 409"), parameters=[_HELP_ID])},
}
