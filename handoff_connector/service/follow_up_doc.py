"""The OpenAPI description of follow-ups and transcripts by email (``follow_up_api.py``),
merged into the connector's document by ``openapi.document``."""

from __future__ import annotations

from typing import Any, Dict

from handoff_connector.service.follow_up_api import NOTE_MAX
from handoff_connector.service.openapi import (
    _BOOLEAN,
    _ID,
    _INTEGER,
    _NULLABLE_NUMBER,
    _NULLABLE_STRING,
    _NUMBER,
    _STRING,
    _TOKEN,
    _errors,
    _html,
    _json,
    _object,
    _op,
    _ref,
    _text,
)
from handoff_connector.service.storage.follow_ups import STATES

_AGENT = "agentToken"
_FOLLOW_UP_ID = {"name": "follow_up_id", "in": "path", "required": True, "schema": _STRING,
                 "description": "A follow-up's id (a whole number)"}
_TIME = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"},
                   {"type": "string", "pattern": r"^[0-9]{1,11}(\.[0-9]{1,6})?$"}],
         "description": "ISO 8601 (2026-12-08T17:00:00Z) or epoch seconds, within the coming year (else 422)"}
_QUERY_TEXT = {"type": "string", "maxLength": 100, "pattern": "^[^\u0000]*$"}
_EMAIL = {"type": "string", "maxLength": 254, "description": "One address, like name@example.org"}
_SENT = {"id": _INTEGER, "kind": _STRING, "to": _NULLABLE_STRING, "what": _NULLABLE_STRING,
         "state": {"enum": ["pending", "sent", "failed", "erased"]}, "tries": _INTEGER,
         "error": _NULLABLE_STRING, "created_at": _NUMBER, "sent_at": _NULLABLE_NUMBER}
_FIELDS = {
    "id": _INTEGER, "handoff_id": _STRING, "owner_id": _STRING, "owner_name": _NULLABLE_STRING,
    "created_by": _STRING, "note": _STRING, "due_at": _NUMBER, "state": {"enum": list(STATES)},
    "email": _NULLABLE_STRING, "conversation_id": _NULLABLE_STRING, "answered_at": _NULLABLE_NUMBER,
    "created_at": _NUMBER, "updated_at": _NUMBER, "done_at": _NULLABLE_NUMBER, "done_by": _NULLABLE_STRING,
    "queue": _NULLABLE_STRING, "sender_id": _NULLABLE_STRING, "overdue": _BOOLEAN,
    "emails": {"type": "array", "items": _ref("Email")},
}

SCHEMAS: Dict[str, Any] = {
    "Email": _object(_SENT, list(_SENT)),
    "FollowUp": _object(_FIELDS, list(_FIELDS)),
    "FollowUpNew": _object({
        "note": _text(NOTE_MAX), "due_at": _TIME, "owner_id": {"type": "string", "maxLength": 100},
        "email": _EMAIL, "send_chat": _BOOLEAN, "send_email": _BOOLEAN}, ["note", "due_at"]),
    "FollowUpChange": _object({
        "state": {"enum": list(STATES)}, "note": _text(NOTE_MAX), "due_at": _TIME,
        "owner_id": _text(100)}),
    "TranscriptEmail": _object({
        "to": {"enum": ["user", "helpdesk"]}, "email": _EMAIL, "include_notes": _BOOLEAN}, ["to"]),
}

PATHS: Dict[str, Any] = {
    "/api/v1/handoffs/{id}/follow-ups": {"post": _op(
        "Make a follow-up of a conversation (a note for the user, a due time, an owner) and send it "
        "in the chat and/or by email, with a link back to its owner", _AGENT,
        {"201": _json(_ref("FollowUp"), "Made")},
        _errors("400 401 403 404 405 413", _422="A due time outside the coming year, an email address "
                                                "that is not one, no `email` to send to, or an unknown owner", _409="Not in the chat to send it there, no mail server, "
                                                "or the owner is not in the conversation's queue"),
        body=_ref("FollowUpNew"), parameters=[_ID])},
    "/api/v1/follow-ups": {"get": _op(
        "Follow-ups one may see (one's own and one's queues'; supervisors all), open first, soonest due "
        "first", _AGENT,
        {"200": _json(_object({"follow_ups": {"type": "array", "items": _ref("FollowUp")}}, ["follow_ups"]))},
        _errors("400 401 405"), parameters=[
            {"name": "state", "in": "query", "required": False, "schema": {"enum": list(STATES)}},
            {"name": "owner", "in": "query", "required": False, "schema": _QUERY_TEXT,
             "description": "`me`, or an agent's id"},
            {"name": "handoff_id", "in": "query", "required": False, "schema": _QUERY_TEXT}])},
    "/api/v1/follow-ups/{follow_up_id}": {
        "get": _op("One follow-up, with its emails", _AGENT, {"200": _json(_ref("FollowUp"))},
                   _errors("400 401 403 404 405"), parameters=[_FOLLOW_UP_ID]),
        "patch": _op("Mark done or open again, change the note, the due time or (supervisors) the owner",
                     _AGENT, {"200": _json(_ref("FollowUp"))},
                     _errors("400 401 403 404 405 409 413", _422="A due time outside the coming year"),
                     body=_ref("FollowUpChange"), parameters=[_FOLLOW_UP_ID])},
    "/api/v1/handoffs/{id}/transcript/email": {"post": _op(
        "Email the transcript to the user (internal notes only if asked) or to the configured help "
        "desk (with the notes)", _AGENT, {"202": _json(_ref("Email"), "Queued for sending")},
        _errors("400 401 403 404 405 413", _409="No mail server or help desk address is set up",
                _422="An email address that is not one, or none for the user"),
        body=_ref("TranscriptEmail"), parameters=[_ID])},
    "/api/v1/handoffs/{id}/emails": {"get": _op(
        "What was emailed about the conversation, and how it went", _AGENT,
        {"200": _json(_object({"emails": {"type": "array", "items": _ref("Email")}}, ["emails"]))},
        _errors("400 401 403 404 405"), parameters=[_ID])},
    "/follow-up/{token}": {
        "get": _op("A follow-up's link: a page with a button (GET changes nothing)", None,
                   {"200": _html("The page"), "404": _html("Unknown, used or expired link")},
                   _errors("400 405"), parameters=[_TOKEN]),
        "post": _op("The follow-up becomes a conversation with its owner; a page that opens the web chat "
                    "(the link works once)", None,
                    {"200": _html("The conversation is back"), "404": _html("Unknown, used or expired link")},
                    _errors("400 405"), parameters=[_TOKEN])},
}
