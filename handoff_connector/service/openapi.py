"""The OpenAPI 3.1 document of the connector's whole HTTP API.

A test checks that every route the app serves is described here and that
nothing described here is missing from the app.
"""

from __future__ import annotations

from typing import Any, Dict

from aiohttp import web

from handoff_connector import __version__
from handoff_connector.service.keys import CONFIG


def _ref(name: str) -> Dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Dict[str, Any], description: str = "OK") -> Dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Bad input: the message says which field and why"),
    "401": _json(_ref("Error"), "Missing or wrong credentials"),
    "404": _json(_ref("Error"), "Unknown id"),
    "413": _json(_ref("Error"), "Body larger than max_body_bytes"),
}
_AGENT_ERRORS = {**_ERRORS, "403": _json(_ref("Error"), "Not your queue or conversation"),
                 "409": _json(_ref("Error"), "Wrong state for this action")}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_TOKEN = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]
_AFTER = {"name": "after", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}}


def _op(summary: str, security: str, responses: Dict[str, Any], body: Any = None,
        parameters: Any = None, errors: Any = None) -> Dict[str, Any]:
    op: Dict[str, Any] = {
        "summary": summary,
        "security": [{security: []}],
        "responses": {**responses, **(errors if errors is not None else _AGENT_ERRORS)},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if parameters:
        op["parameters"] = parameters
    return op


SCHEMAS: Dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "status"],
              "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
    "HandoffRequest": {
        "type": "object", "required": ["sender_id", "trigger"],
        "properties": {
            "sender_id": {"type": "string", "maxLength": 200},
            "trigger": {"enum": ["explicit", "cant_help", "frustration"]},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "channel": {"type": ["string", "null"]},
            "queue": {"type": ["string", "null"], "description": "Overrides routing."},
            "language": {"type": "string"},
            "slots": {"type": "object"},
            "frustration": {"type": "object"},
            "recent_intents": {"type": "array", "items": {"type": "object"}},
            "transcript": {"type": "array", "items": {"type": "object"}},
        },
    },
    "HandoffTicket": {
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "state": {"type": "string"}, "queue": {"type": "string"},
            "team": {"type": "string"}, "position": {"type": "integer"},
            "agents_available": {"type": "boolean"},
        },
    },
    "UserMessage": {
        "type": "object", "required": ["message_id"],
        "properties": {"message_id": {"type": "string"}, "text": {"type": "string"},
                       "timestamp": {"type": ["number", "null"], "minimum": 0, "description": "when the user sent it"},
                       "channel": {"type": ["string", "null"]},
                       "earlier": {"type": "array", "maxItems": 50, "description": (
                           "the user's earlier messages of this handoff as Rasa has them; those not stored "
                           "yet are stored first, in order, marked late"),
                           "items": {"type": "object", "required": ["message_id"], "properties": {
                               "message_id": {"type": "string"}, "text": {"type": "string"},
                               "timestamp": {"type": ["number", "null"], "minimum": 0}}}}},
    },
    "Survey": {
        "type": "object",
        "properties": {"rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                       "comment": {"type": ["string", "null"]}, "skipped": {"type": "boolean"}},
    },
    "HandoffSummary": {
        "type": "object",
        "properties": {k: {} for k in (
            "id", "state", "queue", "trigger", "reasons", "sender_id", "channel", "agent_id",
            "created_at", "claimed_at", "closed_at", "resolution", "last_user_text")},
    },
    "HandoffDetail": {
        "allOf": [_ref("HandoffSummary"), {"type": "object", "properties": {
            "context": {"type": "object"}, "transcript": {"type": "array"},
            "messages": {"type": "array"}, "transitions": {"type": "array"},
            "survey": {"type": ["object", "null"]}, "close_note": {"type": ["string", "null"]}}}],
    },
    "HandoffList": {"type": "object", "properties": {"handoffs": {"type": "array", "items": _ref("HandoffSummary")}}},
    "AgentMessage": {"type": "object", "required": ["text"],
                     "properties": {"text": {"type": "string", "maxLength": 4000},
                                    "client_id": {"type": "string", "description": "Retry key"}}},
    "Close": {"type": "object", "required": ["resolution"],
              "properties": {"resolution": {"type": "string"}, "note": {"type": "string"},
                             "resume_link": {"type": "boolean"}}},
}

PATHS: Dict[str, Any] = {
    "/health": {"get": {"summary": "Liveness and outbox backlog", "security": [],
                        "responses": {"200": _json({"type": "object"})}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                     "responses": {"200": _json({"type": "object"})}}},
    "/bot/v1/handoffs": {"post": {
        **_op("Create a handoff (idempotent by Idempotency-Key)", "botSecret",
              {"201": _json(_ref("HandoffTicket"), "Created"),
               "200": _json(_ref("HandoffTicket"), "Same key, or an open handoff: the existing handoff")},
              body=_ref("HandoffRequest"),
              errors={**_ERRORS, "422": _json(_ref("Error"), "The key was used for a different request")}),
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                        "schema": {"type": "string", "maxLength": 200}}]}},
    "/bot/v1/handoffs/{id}/messages": {"post": _op(
        "Relay a user message (idempotent by message_id)", "botSecret",
        {"201": _json({"type": "object"}, "Stored"), "200": _json({"type": "object"}, "Duplicate")},
        body=_ref("UserMessage"), parameters=_ID,
        errors={**_ERRORS, "409": _json(_ref("Error"), "Handoff no longer open")})},
    "/bot/v1/handoffs/{id}/survey": {"post": _op(
        "Store the satisfaction survey", "botSecret",
        {"201": _json(_ref("Survey"), "Stored"), "200": _json(_ref("Survey"), "Already stored")},
        body=_ref("Survey"), parameters=_ID,
        errors={**_ERRORS, "409": _json(_ref("Error"), "The handoff is not closed")})},
    "/bot/v1/conversations/{sender_id}/handoff": {"get": _op(
        "The conversation's open handoff", "botSecret", {"200": _json(_ref("HandoffTicket"))},
        parameters=[{"name": "sender_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        errors=_ERRORS)},
    "/api/v1/me": {"get": _op("The calling agent", "agentToken", {"200": _json({"type": "object"})})},
    "/api/v1/queue": {"get": _op(
        "Waiting handoffs, oldest first", "agentToken", {"200": _json(_ref("HandoffList"))},
        parameters=[{"name": "queue", "in": "query", "required": False, "schema": {"type": "string"}}])},
    "/api/v1/handoffs/assigned": {"get": _op(
        "Handoffs assigned to the caller (all, for a supervisor)", "agentToken",
        {"200": _json(_ref("HandoffList"))})},
    "/api/v1/handoffs/{id}": {"get": _op(
        "One handoff with its context and full transcript", "agentToken",
        {"200": _json(_ref("HandoffDetail"))}, parameters=_ID)},
    "/api/v1/handoffs/{id}/claim": {"post": _op(
        "Claim a queued handoff (atomic)", "agentToken", {"200": _json(_ref("HandoffSummary"))},
        parameters=_ID)},
    "/api/v1/handoffs/{id}/messages": {"post": _op(
        "Send a message to the user", "agentToken",
        {"201": _json({"type": "object"}, "Queued for delivery"), "200": _json({"type": "object"}, "Duplicate client_id")},
        body=_ref("AgentMessage"), parameters=_ID)},
    "/api/v1/handoffs/{id}/close": {"post": _op(
        "Close with a resolution category; the bot returns", "agentToken",
        {"200": _json(_ref("HandoffSummary"))}, body=_ref("Close"), parameters=_ID)},
}

_AGENT_PATHS: Dict[str, Any] = {
    "/api/v1/login": {"post": {
        "summary": "Sign in; returns a session token", "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Login")}}},
        "responses": {"200": _json({"type": "object"}),
                      "429": _json(_ref("Error"), "Too many failed logins; see Retry-After"), **_ERRORS}}},
    "/api/v1/logout": {"post": _op("End this session", "agentToken", {"200": _json({"type": "object"})})},
    "/api/v1/me/presence": {"put": _op(
        "Set presence (online, away, offline)", "agentToken", {"200": _json(_ref("Agent"))},
        body={"type": "object", "required": ["status"],
              "properties": {"status": {"enum": ["online", "away", "offline"]}}})},
    "/api/v1/agents": {"get": _op("Agents with presence, capacity and load", "agentToken",
                                  {"200": _json({"type": "object"})})},
    "/api/v1/queues": {"get": _op("Queues (teams) with their waiting count", "agentToken",
                                  {"200": _json({"type": "object"})})},
    "/api/v1/saved-replies": {"get": _op("Saved replies with placeholders", "agentToken",
                                         {"200": _json({"type": "object"})})},
    "/api/v1/handoffs/{id}/notes": {"post": _op(
        "Add an internal note (never sent to the user)", "agentToken",
        {"201": _json({"type": "object"})}, body=_ref("AgentMessage"), parameters=_ID)},
    "/api/v1/handoffs/{id}/transfer": {"post": _op(
        "Transfer to an agent or a queue, with a note (warm, atomic)", "agentToken",
        {"200": _json(_ref("HandoffSummary"))}, body=_ref("Transfer"), parameters=_ID)},
    "/api/v1/events": {"get": _op(
        "Events after an id (catch-up without a WebSocket)", "agentToken",
        {"200": _json({"type": "object"})},
        parameters=[_AFTER])},
    "/api/v1/events/ws": {"get": {
        "summary": "WebSocket of live events; ?token=<session token>&after=<last seen id>",
        "security": [], "responses": {"101": {"description": "Switching protocols"}, **_ERRORS},
        "parameters": [{"name": "token", "in": "query", "required": True, "schema": {"type": "string"}},
                       _AFTER]}},
    "/desk": {"get": {"summary": "The agent desk page", "security": [],
                      "responses": {"200": {"description": "HTML"}}}},
    "/static/{filename}": {"get": {"summary": "The desk's static files", "security": [],
                                   "parameters": [{"name": "filename", "in": "path", "required": True,
                                                   "schema": {"type": "string"}}],
                                   "responses": {"200": {"description": "A file"},
                                                 "404": {"description": "No such file"}}}},
}
_AGENT_PATHS.update({
    "/api/v1/handoffs/{id}/typing": {"post": _op(
        "Show the user that the agent is typing (web chat only; best effort)", "agentToken",
        {"200": _json({"type": "object"})}, parameters=_ID,
        body={"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}})},
    "/api/v1/tickets": {"get": _op("Follow-ups: callbacks nobody could take live", "agentToken",
                                   {"200": _json(_ref("HandoffList"))})},
    "/bot/v1/handoffs/{id}/callback": {"post": _op(
        "Nobody available: leave a phone number or email; becomes a follow-up", "botSecret",
        {"200": _json({"type": "object"})}, parameters=_ID, errors={**_ERRORS, "409": _json(_ref("Error"))},
        body={"type": "object", "required": ["contact"], "properties": {"contact": {"type": "string"}}})},
    "/bot/v1/handoffs/{id}/cancel": {"post": _op(
        "The user went back to the bot while waiting", "botSecret", {"200": _json({"type": "object"})},
        parameters=_ID, errors={**_ERRORS, "409": _json(_ref("Error"))})},
    "/chat": {"get": {"summary": "The user web chat page", "security": [],
                      "responses": {"200": {"description": "HTML"}}}},
    "/chat/config.json": {"get": {"summary": "Where the web chat connects", "security": [],
                                  "responses": {"200": _json({"type": "object"}), "404": _json(_ref("Error"))}}},
    "/resume/{token}": {
        "get": {"summary": "A conversation link: a page with a button (GET changes nothing)",
                "security": [], "parameters": _TOKEN, "responses": {"200": {"description": "HTML"},
                                              "404": {"description": "Unknown or expired"}}},
        "post": {"summary": "Back to the same agent, then to the chat", "security": [], "parameters": _TOKEN,
                 "responses": {"302": {"description": "To /chat"},
                               "404": {"description": "Unknown or expired"}}}},
})
PATHS.update(_AGENT_PATHS)
SCHEMAS.update({
    "Login": {"type": "object", "required": ["login", "password"],
              "properties": {"login": {"type": "string"}, "password": {"type": "string"}}},
    "Agent": {"type": "object", "properties": {k: {} for k in (
        "id", "name", "title", "role", "capacity", "presence", "queues", "load")}},
    "Transfer": {"type": "object", "description": "Exactly one of agent_id or queue",
                 "properties": {"agent_id": {"type": "string"}, "queue": {"type": "string"},
                                "note": {"type": "string"}}},
})

DEMO_PATHS: Dict[str, Any] = {
    "/demo/chat": {"get": {"summary": "Demo user chat page", "security": [],
                           "responses": {"200": {"description": "HTML"}}}},
    "/demo/send": {"post": {"summary": "Demo: send a user message to Rasa", "security": [],
                            "responses": {"200": _json({"type": "object"})}}},
    "/demo/callback": {"post": {"summary": "Demo: Rasa's callback channel posts bot messages here",
                                "security": [], "responses": {"200": _json({"type": "object"})}}},
    "/demo/messages": {"get": {"summary": "Demo: messages for one chat since a cursor", "security": [],
                               "responses": {"200": _json({"type": "object"})}}},
}


def document(demo: bool = False) -> Dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Rasa handoff connector", "version": __version__},
        "paths": {**PATHS, **(DEMO_PATHS if demo else {})},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "botSecret": {"type": "http", "scheme": "bearer", "description": "bot_secret"},
                "agentToken": {"type": "http", "scheme": "bearer", "description": "an agent's token"},
            },
        },
    }


async def serve(request: web.Request) -> web.Response:
    return web.json_response(document(request.app[CONFIG].demo_chat))
