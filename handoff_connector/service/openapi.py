"""The OpenAPI 3.1 document of the connector's whole HTTP API.

Built for the running config: the queue names and resolution categories it
accepts are in the document. A test checks that every route the app serves is
described here and nothing else; Schemathesis (tests/service/test_schemathesis.py)
checks the running connector answers as described.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from aiohttp import web

from handoff_connector import __version__
from handoff_connector.service import insights_doc
from handoff_connector.service.config import Config
from handoff_connector.service.keys import CONFIG
from handoff_connector.service.payloads import MAX_TEXT

Schema = Dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> Schema:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# A character str.strip() keeps, spelled out: regex engines disagree on what `\s` is.
_NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _text(max_len: int) -> Schema:
    """A required text field: the connector refuses it empty or only spaces."""
    return {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": _NOT_BLANK}


def _optional(max_len: int) -> Schema:
    return {"type": ["string", "null"], "maxLength": max_len}


def _object(properties: Schema, required: Sequence[str] = (), **more: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    return schema


_STRING, _NUMBER, _INTEGER, _BOOLEAN = ({"type": t} for t in ("string", "number", "integer", "boolean"))
_NULLABLE_STRING, _NULLABLE_NUMBER = {"type": ["string", "null"]}, {"type": ["number", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}

_ERRORS = {
    "400": "Bad input: the message says which field and why",
    "401": "Missing or wrong credentials",
    "403": "Not your queue or conversation",
    "404": "Unknown id",
    "405": "A method this path does not take; `Allow` lists those it does",
    "409": "Wrong state for this action",
    "413": "Body larger than max_body_bytes",
}


def _errors(codes: str, **described: str) -> Schema:
    """Error answers (a JSON ``Error``) by code, e.g. ``_errors("400 401 404", _409="...")``."""
    found = {code: _json(_ref("Error"), _ERRORS[code]) for code in codes.split()}
    found.update({code.lstrip("_"): _json(_ref("Error"), text) for code, text in described.items()})
    return found


_BODY_ERRORS = "400 401 405 413"  # a JSON body: 400 if broken, 413 if too large
_ID = {"name": "id", "in": "path", "required": True, "schema": _STRING}
_TOKEN = {"name": "token", "in": "path", "required": True, "schema": _STRING}
_AFTER = {"name": "after", "in": "query", "required": False,
          "description": "The last event id seen; left out or empty: from now on",
          "schema": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                               {"type": "string", "maxLength": 0}]}}


def _op(summary: str, security: Optional[str], responses: Schema, errors: Schema, body: Any = None,
        parameters: Sequence[Schema] = ()) -> Schema:
    op: Schema = {
        "summary": summary,
        "security": [{security: []}] if security else [],
        "responses": {**responses, **errors},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if parameters:
        op["parameters"] = list(parameters)
    return op


_SUMMARY_FIELDS = {
    "id": _STRING, "state": _STRING, "queue": _STRING, "trigger": _STRING,
    "reasons": {"type": "array", "items": _STRING}, "sender_id": _STRING, "channel": _NULLABLE_STRING,
    "agent_id": _NULLABLE_STRING, "created_at": _NUMBER, "claimed_at": _NULLABLE_NUMBER,
    "closed_at": _NULLABLE_NUMBER, "resolution": _NULLABLE_STRING, "contact": _NULLABLE_STRING,
    "last_user_text": _NULLABLE_STRING,
    "assigned_to": _NULLABLE_STRING, "assigned_by": _NULLABLE_STRING, "assigned_at": _NULLABLE_NUMBER,
    "urgency": _INTEGER, "urgency_level": _NULLABLE_STRING, "urgency_label": _NULLABLE_STRING,
    "waiting_since": _NULLABLE_NUMBER,
}


def _given(key: str, other: str) -> Schema:
    """``key`` given (not empty) and ``other`` not: one branch of an exactly-one-of."""
    return {"required": [key], "properties": {key: {"type": "string", "minLength": 1},
                                              other: {"enum": [None, ""]}}}


_TRANSCRIPT_ENTRY = _object({"role": {"enum": ["user", "bot", "agent", "system"]}, "text": _NULLABLE_STRING,
                             "timestamp": {"type": ["string", "number"]}},
                            ["role", "text", "timestamp"])

SCHEMAS: Dict[str, Any] = {
    "Error": _object({"error": _STRING, "status": _INTEGER}, ["error", "status"]),
    "HandoffTicket": _object({
        "id": _STRING, "state": _STRING, "queue": _STRING, "team": _STRING, "position": _INTEGER,
        "agents_available": _BOOLEAN, "open_now": _BOOLEAN, "opens_at": _NULLABLE_STRING,
        "opens_in_minutes": _NULLABLE_INTEGER, "opens_text": _NULLABLE_STRING,
        "estimated_wait_minutes": _NULLABLE_INTEGER, "agent_id": _NULLABLE_STRING,
    }, ["id", "state", "queue", "team", "position", "agents_available", "open_now"]),
    "UserMessage": _object({
        "message_id": _text(200), "text": _optional(MAX_TEXT), "intent": _optional(100),
        "timestamp": {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 1e11,
                      "description": "when the user sent it, in seconds since the epoch"},
        "channel": _optional(100),
        "earlier": {"type": ["array", "null"], "maxItems": 50, "description": (
            "the user's earlier messages of this handoff as Rasa has them; those not stored "
            "yet are stored first, in order, marked late"),
            "items": _object({"message_id": _text(200), "text": _optional(MAX_TEXT),
                              "timestamp": {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 1e11}},
                             ["message_id"])},
    }, ["message_id"]),
    "Relayed": _object({"id": _INTEGER, "duplicate": _BOOLEAN, "cancelled": _BOOLEAN},
                       ["id", "duplicate", "cancelled"]),
    "SurveyAnswers": _object(
        {"rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5}, "comment": _optional(2000),
         "skipped": _BOOLEAN},
        description="A rating, or `skipped: true`",
        anyOf=[{"required": ["skipped"], "properties": {"skipped": {"const": True}}},
               {"required": ["rating"], "properties": {"rating": _INTEGER}}]),
    "Survey": _object({"handoff_id": _STRING, "rating": _NULLABLE_INTEGER, "comment": _NULLABLE_STRING,
                       "skipped": _BOOLEAN, "created_at": _NUMBER},
                      ["handoff_id", "rating", "comment", "skipped", "created_at"]),
    "Callback": _object({"contact": {
        "type": "string", "maxLength": 254, "description": "A phone number (7-15 digits) or an email address",
        "anyOf": [{"pattern": r"^\+?[\s().-]*(\d[\s().-]*){7,15}$"},
                  {"pattern": r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"}]}},
        ["contact"]),
    "HandoffSummary": _object(_SUMMARY_FIELDS, list(_SUMMARY_FIELDS)),
    "Message": _object({"id": _INTEGER, "handoff_id": _STRING, "role": _STRING, "author": _STRING,
                        "text": _STRING, "client_id": _NULLABLE_STRING, "created_at": _NUMBER,
                        "sent_at": _NULLABLE_NUMBER, "late": _BOOLEAN},
                       ["id", "handoff_id", "role", "author", "text", "created_at", "late"]),
    "HandoffDetail": {"allOf": [_ref("HandoffSummary"), _object({
        "team": _NULLABLE_STRING, "context": {"type": "object"}, "user_name": _NULLABLE_STRING,
        "transcript": {"type": "array", "items": {"type": "object"}},
        "messages": {"type": "array", "items": {"type": "object"}},
        "transitions": {"type": "array", "items": {"type": "object"}},
        "urgency_changes": {"type": "array", "items": {"type": "object"}},
        "survey": {"oneOf": [_ref("Survey"), {"type": "null"}]}, "close_note": _NULLABLE_STRING,
        "previous": {"type": "array", "items": _ref("HandoffSummary"), "maxItems": 20,
                     "description": "The same user's other conversations the caller may see, newest first"}},
        ["context", "transcript", "messages", "transitions", "survey", "close_note", "previous"])]},
    "HandoffList": _object({"handoffs": {"type": "array", "items": _ref("HandoffSummary")}}, ["handoffs"]),
    "AgentMessage": _object({"text": _text(MAX_TEXT),
                             "client_id": {**_text(200), "type": ["string", "null"], "description": "Retry key"}},
                            ["text"]),
    "Sent": _object({"id": _INTEGER, "text": _STRING, "created_at": _NUMBER, "duplicate": _BOOLEAN},
                    ["id", "text", "created_at", "duplicate"]),
    "Note": _object({"text": _text(MAX_TEXT)}, ["text"]),
    "Login": _object({"login": _text(100), "password": _text(200)}, ["login", "password"]),
    "Agent": _object({
        "id": _STRING, "name": _STRING, "title": _STRING, "role": _STRING, "capacity": _INTEGER,
        "presence": {"enum": ["online", "away", "offline"]}, "queues": {"type": "array", "items": _STRING},
        "load": _INTEGER, "survey": _object({"count": _INTEGER, "average": _NULLABLE_NUMBER}, ["count", "average"]),
        "active": _BOOLEAN,
        "photo": {**_NULLABLE_STRING, "description": "The photo's URL (it changes with the photo); null: initials"},
    }, ["id", "name", "title", "role", "capacity", "presence", "queues", "load", "survey", "active", "photo"]),
    "Transfer": _object(
        {"agent_id": _optional(100), "queue": _optional(100), "note": _optional(MAX_TEXT)},
        description="Exactly one of agent_id (a person) or queue (a team); the other left out, null or empty",
        oneOf=[_given("agent_id", "queue"), _given("queue", "agent_id")]),
    "Status": _object({"status": _STRING}, ["status"]),
}


def _handoff_request(queues: List[str]) -> Schema:
    return _object({
        "sender_id": _text(200),
        "trigger": {"enum": ["explicit", "cant_help", "frustration"]},
        "reasons": {"type": ["array", "null"], "items": _STRING},
        "channel": _optional(100),
        "queue": {"enum": [*queues, None], "description": "Overrides routing."},
        "language": _optional(100),
        "slots": {"type": ["object", "null"]},
        "frustration": {"type": ["object", "null"]},
        "recent_intents": {"type": ["array", "null"], "items": {"type": "object"}},
        "transcript": {"type": ["array", "null"], "maxItems": 1000, "items": _TRANSCRIPT_ENTRY},
    }, ["sender_id", "trigger"])


def _close(resolutions: List[str]) -> Schema:
    return _object({"resolution": {"enum": resolutions}, "note": _optional(MAX_TEXT),
                    "resume_link": _BOOLEAN}, ["resolution"])


_AGENT = "agentToken"
_BOT = "botSecret"
_ON_A_HANDOFF = "400 401 403 404 405 409"
PATHS: Dict[str, Any] = {
    "/health": {"get": _op("Liveness and outbox backlog", None, {"200": _json(_object(
        {"status": _STRING, "outbox_pending": _INTEGER}, ["status", "outbox_pending"]))}, _errors("405"))},
    "/api/v1/openapi.json": {"get": _op("This document", None, {"200": _json({"type": "object"})},
                                        _errors("405"))},
    "/bot/v1/handoffs": {"post": _op(
        "Create a handoff (idempotent by Idempotency-Key)", _BOT,
        {"201": _json(_ref("HandoffTicket"), "Created"),
         "200": _json(_ref("HandoffTicket"), "Same key, or an open handoff: the existing handoff")},
        _errors(_BODY_ERRORS, _422="The key was used for a different request"), body=_ref("HandoffRequest"),
        parameters=[{"name": "Idempotency-Key", "in": "header", "required": True, "schema": _text(200)}])},
    "/bot/v1/handoffs/{id}/messages": {"post": _op(
        "Relay a user message (idempotent by message_id)", _BOT,
        {"201": _json(_ref("Relayed"), "Stored"), "200": _json(_ref("Relayed"), "Duplicate")},
        _errors(_BODY_ERRORS + " 404", _409="Handoff no longer open"), body=_ref("UserMessage"),
        parameters=[_ID])},
    "/bot/v1/handoffs/{id}/survey": {"post": _op(
        "Store the satisfaction survey", _BOT,
        {"201": _json(_ref("Survey"), "Stored"), "200": _json(_ref("Survey"), "Already stored")},
        _errors(_BODY_ERRORS + " 404", _409="The handoff is not closed"), body=_ref("SurveyAnswers"),
        parameters=[_ID])},
    "/bot/v1/handoffs/{id}/callback": {"post": _op(
        "Nobody available: leave a phone number or email; becomes a follow-up", _BOT,
        {"200": _json(_object({"id": _STRING, "state": _STRING, "contact": _STRING,
                               "kind": {"enum": ["phone", "email"]}}, ["id", "state", "contact", "kind"]))},
        _errors(_BODY_ERRORS + " 404", _409="The handoff is not waiting"), body=_ref("Callback"),
        parameters=[_ID])},
    "/bot/v1/handoffs/{id}/cancel": {"post": _op(
        "The user went back to the bot while waiting", _BOT,
        {"200": _json(_object({"id": _STRING, "state": _STRING}, ["id", "state"]))},
        _errors("400 401 404 405", _409="The handoff is not waiting"), parameters=[_ID])},
    "/bot/v1/conversations/{sender_id}/handoff": {"get": _op(
        "The conversation's open handoff", _BOT, {"200": _json(_ref("HandoffTicket"))},
        _errors("400 401 405", _404="No open handoff for this conversation"),
        parameters=[{"name": "sender_id", "in": "path", "required": True, "schema": _STRING}])},
    "/api/v1/login": {"post": _op(
        "Sign in; returns a session token", None,
        {"200": _json(_object({"token": _STRING, "agent": _ref("Agent")}, ["token", "agent"]))},
        _errors(_BODY_ERRORS, _403="The account was deactivated", _429="Too many failed sign-ins; see Retry-After"),
        body=_ref("Login"))},
    "/api/v1/logout": {"post": _op("End this session (an API token stays valid)", _AGENT,
                                   {"200": _json(_ref("Status"))}, _errors("401 405"))},
    "/api/v1/me": {"get": _op(
        "The calling agent, the resolution categories and the urgency levels", _AGENT,
        {"200": _json({"allOf": [_ref("Agent"), _object(
            {"resolutions": {"type": "array", "items": _STRING},
             "urgency_levels": {"type": "array", "items": _STRING},
             "remind_agent_after_seconds": _NUMBER, "email_enabled": _BOOLEAN, "helpdesk_email": _BOOLEAN},
            ["resolutions", "urgency_levels", "remind_agent_after_seconds", "email_enabled", "helpdesk_email"])]})},
        _errors("401 405"))},
    "/api/v1/me/presence": {"put": _op(
        "Set presence (online, away, offline)", _AGENT, {"200": _json(_ref("Agent"))}, _errors(_BODY_ERRORS),
        body=_object({"status": {"enum": ["online", "away", "offline"]}}, ["status"]))},
    "/api/v1/agents": {"get": _op(
        "Agents with presence, capacity and load", _AGENT,
        {"200": _json(_object({"agents": {"type": "array", "items": _ref("Agent")}}, ["agents"]))},
        _errors("401 405"))},
    "/api/v1/queues": {"get": _op(
        "Queues (teams) with their waiting count", _AGENT,
        {"200": _json(_object({"queues": {"type": "array", "items": _object(
            {"name": _STRING, "team": _STRING, "waiting": _INTEGER}, ["name", "team", "waiting"])}}, ["queues"]))},
        _errors("401 405"))},
    "/api/v1/queue": {"get": _op(
        "Waiting handoffs, oldest first, a page at a time", _AGENT,
        {"200": _json({"allOf": [_ref("HandoffList"), _object(
            {"total": {**_INTEGER, "description": "How many wait in all"},
             "next": {**_NULLABLE_STRING, "description": "The `after` of the next page; null on the last"}},
            ["total", "next"])]})},
        _errors("400 401 405", _403="Not a member of that queue"),
        parameters=[{"name": "queue", "in": "query", "required": False, "schema": _STRING},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
                    {"name": "after", "in": "query", "required": False,
                     "description": "The `next` of an earlier page",
                     "schema": {"type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,17})?~[\s\S]{1,64}$"}}])},
    "/api/v1/handoffs/assigned": {"get": _op(
        "Handoffs assigned to the caller (all, for a supervisor)", _AGENT, {"200": _json(_ref("HandoffList"))},
        _errors("401 405"))},
    "/api/v1/tickets": {"get": _op(
        "Follow-ups: callbacks nobody could take live", _AGENT, {"200": _json(_ref("HandoffList"))},
        _errors("401 405"))},
    "/api/v1/handoffs/{id}": {"get": _op(
        "One handoff with its context, full transcript and the user's previous conversations", _AGENT,
        {"200": _json(_ref("HandoffDetail"))},
        _errors("400 401 403 404 405"), parameters=[_ID])},
    "/api/v1/handoffs/{id}/claim": {"post": {**_op(
        "Claim a queued handoff (atomic); one assigned to someone else only with take_anyway", _AGENT,
        {"200": _json(_ref("HandoffSummary"))}, _errors(_ON_A_HANDOFF + " 413"), parameters=[_ID]),
        "requestBody": {"required": False, "content": {"application/json": {"schema": _object(
            {"take_anyway": _BOOLEAN})}}}}},
    "/api/v1/handoffs/{id}/messages": {"post": _op(
        "Send a message to the user", _AGENT,
        {"201": _json(_ref("Sent"), "Queued for delivery"), "200": _json(_ref("Sent"), "Duplicate client_id")},
        _errors(_ON_A_HANDOFF + " 413", _422="The client_id is another agent's message's"),
        body=_ref("AgentMessage"), parameters=[_ID])},
    "/api/v1/handoffs/{id}/notes": {"post": _op(
        "Add an internal note (never sent to the user)", _AGENT, {"201": _json(_ref("Message"), "Stored")},
        _errors("400 401 403 404 405 413"), body=_ref("Note"), parameters=[_ID])},
    "/api/v1/handoffs/{id}/transfer": {"post": _op(
        "Transfer to an agent or a queue, with a note (warm, atomic)", _AGENT,
        {"200": _json(_ref("HandoffSummary"))}, _errors(_ON_A_HANDOFF + " 413"), body=_ref("Transfer"),
        parameters=[_ID])},
    "/api/v1/handoffs/{id}/close": {"post": _op(
        "Close with a resolution category; the bot returns", _AGENT,
        {"200": _json({"allOf": [_ref("HandoffSummary"), _object({"resume_url": _STRING})]})},
        _errors(_ON_A_HANDOFF + " 413"), body=_ref("Close"), parameters=[_ID])},
    "/api/v1/handoffs/{id}/typing": {"post": _op(
        "Show the user that the agent is typing (web chat only; best effort)", _AGENT,
        {"200": _json(_object({"delivered": _BOOLEAN, "reason": _STRING}, ["delivered"]))},
        _errors(_ON_A_HANDOFF + " 413"), parameters=[_ID],
        body=_object({"active": _BOOLEAN}, ["active"]))},
    "/api/v1/events": {"get": _op(
        "Events after an id (catch-up without a WebSocket)", _AGENT,
        {"200": _json(_object({"events": {"type": "array", "items": _object(
            {"id": _INTEGER, "type": _STRING, "at": _NUMBER}, ["id", "type", "at"])}, "last_id": _INTEGER},
            ["events", "last_id"]))},
        _errors("400 401 405"), parameters=[_AFTER])},
    "/api/v1/events/ws": {"get": {
        **_op("WebSocket of live events after an event id (`after`). The desk sends "
              '`{"type": "auth", "token": "<session token>"}` as its first frame (a token in the '
              "address is refused); other clients may send `Authorization: Bearer` instead", None,
              {"101": {"description": "Switching protocols; a socket whose token fails is closed with 4001"}},
              _errors("400 401 405")),
        "security": [{_AGENT: []}, {}], "parameters": [_AFTER]}},
    "/desk": {"get": _op("The agent desk page", None, {"200": _html("The page")}, _errors("405"))},
    "/desk/insights": {"get": _op("The insights pages (live, team, bot, history), for the desk's session", None,
                                  {"200": _html("The page")}, _errors("405"))},
    "/desk/admin": {"get": _op("The supervisors' page for people and queues, for the desk's session", None,
                               {"200": _html("The page")}, _errors("405"))},
    "/static/{filename}": {"get": _op(
        # aiohttp's file responses: the status says it all, the body is empty.
        "The desk's and the web chat's static files", None,
        {"200": {"description": "A file"}, "206": {"description": "Part of a file (Range)"},
         "304": {"description": "Not modified (a conditional request)"},
         "403": {"description": "Not a file"}, "404": {"description": "No such file"},
         "416": {"description": "Range not satisfiable"}},
        _errors("400 405"),
        parameters=[{"name": "filename", "in": "path", "required": True, "schema": _STRING}])},
    "/chat": {"get": _op("The user web chat page", None, {"200": _html("The page")}, _errors("405"))},
    "/chat/config.json": {"get": _op(
        "Where the web chat connects", None,
        {"200": _json(_object({"rasa_ws_url": _STRING}, ["rasa_ws_url"]))},
        _errors("405", _404="The web chat is not configured"))},
    "/resume/{token}": {
        "get": _op("A conversation link: a page with a button (GET changes nothing)", None,
                   {"200": _html("The page"), "404": _html("Unknown, used or expired link")},
                   _errors("400 405"), parameters=[_TOKEN]),
        "post": _op("Back to the same agent; a page that opens the web chat (the link works once)", None,
                    {"200": _html("The conversation is back"), "404": _html("Unknown, used or expired link")},
                    _errors("400 405"), parameters=[_TOKEN])},
}

# The record (history_api.py, export.py): the history's filters, shared by the exports.
_HISTORY_FILTERS: List[Schema] = [
    *({"name": key, "in": "query", "required": False, "description": text,
       "schema": {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"},
                            {"type": "string", "pattern": r"^[0-9]{1,11}(\.[0-9]{1,6})?$"}]}}
      for key, text in (("from", "Created at or after: a date (UTC), an ISO 8601 time or epoch seconds"),
                        ("to", "Created before this time; a date counts through its end"))),
    *({"name": key, "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100}}
      for key in ("queue", "agent", "channel")),
    {"name": "trigger", "in": "query", "required": False,
     "schema": {"enum": ["explicit", "cant_help", "frustration", "resume", "follow_up"]}},
    {"name": "state", "in": "query", "required": False, "schema": {"enum": [
        "queued", "assigned", "closed", "returned", "cancelled", "abandoned", "no_agent"]}},
    {"name": "rating", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 5}},
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 500},
     "description": "Words, all of which must be said in the conversation (`word*`: a prefix)"},
]
_MATCH = _object({"source": {"enum": ["transcript", "message", "note", "close_note"]}, "role": _NULLABLE_STRING,
                  "message_id": _NULLABLE_INTEGER, "text": _STRING}, ["source", "role", "message_id", "text"])
_LISTED = {"allOf": [_ref("HandoffSummary"), _object(
    {"rating": _NULLABLE_INTEGER, "erasure": _NULLABLE_STRING, "matches": {"type": "array", "items": _MATCH}},
    ["rating", "erasure", "matches"])]}
_RECORD = {"allOf": [_ref("HandoffSummary"), _object({
    "team": _NULLABLE_STRING, "context": {"type": "object"}, "user_name": _NULLABLE_STRING,
    "close_note": _NULLABLE_STRING, "erased_at": _NULLABLE_NUMBER, "erasure": _NULLABLE_STRING,
    "transcript": {"type": "array", "items": {"type": "object"}},
    "messages": {"type": "array", "items": {"type": "object"}},
    "transitions": {"type": "array", "items": {"type": "object"}},
    "survey": {"oneOf": [_ref("Survey"), {"type": "null"}]},
    "redactions": {"type": "array", "items": {"type": "object"}},
    "previous": {"type": "array", "items": _ref("HandoffSummary")}},
    ["context", "transcript", "messages", "transitions", "survey", "redactions", "previous"])]}
_COUNTS = _object({key: _INTEGER for key in ("handoffs", "messages", "notes", "contacts", "survey_comments",
                                              "matches")})


def _csv(summary: str) -> Schema:
    return {"get": _op(summary, _AGENT, {"200": {"description": "CSV (RFC 4180, UTF-8), an attachment",
                                                 "content": {"text/csv": {"schema": {"type": "string"}}}}},
                       _errors("400 401 405", _403="Not a member of that queue"), parameters=_HISTORY_FILTERS)}


def _record_paths(resolutions: List[str]) -> Dict[str, Any]:
    filters = [*_HISTORY_FILTERS, {"name": "resolution", "in": "query", "required": False,
                                   "schema": {"enum": resolutions}}]
    paging = [{"name": "limit", "in": "query", "required": False,
               "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
              {"name": "after", "in": "query", "required": False, "description": "The `next` of an earlier page",
               "schema": {"type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,17})?~[\s\S]{1,64}$"}}]
    paths = {
        "/api/v1/history": {"get": _op(
            "Every handoff the caller may see, by filters and words, newest first, a page at a time", _AGENT,
            {"200": _json(_object({"handoffs": {"type": "array", "items": _LISTED}, "total": _INTEGER,
                                   "next": _NULLABLE_STRING}, ["handoffs", "total", "next"]))},
            _errors("400 401 405", _403="Not a member of that queue"), parameters=[*filters, *paging])},
        "/api/v1/handoffs/{id}/record": {"get": _op(
            "One conversation's whole record, and the same user's other conversations the caller may see",
            _AGENT, {"200": _json(_RECORD)}, _errors("400 401 405", _404="Unknown, or not the caller's to see"),
            parameters=[_ID])},
        "/api/v1/handoffs/{id}/transcript": {"get": _op(
            "The conversation as a text file (times in UTC, notes marked), an attachment", _AGENT,
            {"200": {"description": "The transcript", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            _errors("400 401 405", _404="Unknown, or not the caller's to see"), parameters=[_ID])},
        "/api/v1/handoffs/{id}/redact": {"post": _op(
            "Redact the config's patterns (emails, phone and card numbers, ...) from one conversation "
            "(supervisors)", _AGENT,
            {"200": _json(_object({"handoff_id": _STRING, "redacted": _COUNTS}, ["handoff_id", "redacted"]))},
            _errors("400 401 404 405", _403="Only a supervisor can redact"), parameters=[_ID])},
        "/api/v1/export/handoffs.csv": _csv("CSV of handoffs (one row each) by the history's filters"),
        "/api/v1/export/messages.csv": _csv("CSV of messages, notes and transcript entries by the history's filters"),
    }
    for name in ("/api/v1/export/handoffs.csv", "/api/v1/export/messages.csv"):
        paths[name]["get"]["parameters"] = filters
    return paths


DEMO_PATHS: Dict[str, Any] = {
    "/demo/chat": {"get": _op("Demo user chat page", None, {"200": _html("The page")}, _errors("405"))},
    "/demo/send": {"post": _op("Demo: send a user message to Rasa", None, {"200": _json(_ref("Status"))},
                               _errors("400 405 413"))},
    "/demo/callback": {"post": _op("Demo: Rasa's callback channel posts bot messages here", None,
                                   {"200": _json(_ref("Status"))}, _errors("400 405 413"))},
    "/demo/messages": {"get": _op("Demo: messages for one chat since a cursor", None,
                                  {"200": _json({"type": "object"})}, _errors("400 405"))},
}


def document(config: Config) -> Dict[str, Any]:
    """The document for ``config``: its queues and resolutions, its demo routes if on."""
    # The designer's routes describe themselves with this module's helpers: imported here, not above.
    from handoff_connector.service import (
        assignment_doc,
        designer_openapi,
        follow_up_doc,
        people_doc,
        saved_replies_doc,
        urgency_doc,
    )

    paths: Dict[str, Any] = {**PATHS, **designer_openapi.PATHS, **assignment_doc.PATHS, **urgency_doc.PATHS,
                             **follow_up_doc.PATHS, **saved_replies_doc.PATHS, **insights_doc.PATHS,
                             **_record_paths(_resolutions(config)), **(DEMO_PATHS if config.demo_chat else {})}
    for path, operations in people_doc.PATHS.items():  # new methods on paths listed above too
        paths[path] = {**paths.get(path, {}), **operations}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Rasa handoff connector", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **designer_openapi.SCHEMAS, **assignment_doc.SCHEMAS, **follow_up_doc.SCHEMAS, **people_doc.SCHEMAS, **saved_replies_doc.SCHEMAS, **urgency_doc.schemas([lv.name for lv in config.urgency.levels]), **insights_doc.SCHEMAS, "HandoffRequest": _handoff_request([q.name for q in config.queues]),
                        "Close": _close(list(config.resolutions))},
            "securitySchemes": {
                "botSecret": {"type": "http", "scheme": "bearer", "description": "bot_secret"},
                "agentToken": {"type": "http", "scheme": "bearer",
                               "description": "an agent's session token (POST /api/v1/login) or API token"},
                **insights_doc.SECURITY,
            },
        },
    }


def _resolutions(config: Config) -> List[str]:
    return [*config.resolutions, *([] if "abandoned" in config.resolutions else ["abandoned"])]


async def serve(request: web.Request) -> web.Response:
    return web.json_response(document(request.app[CONFIG]))
