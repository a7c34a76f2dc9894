"""The OpenAPI description of saved replies (``saved_replies_api.py``), merged into the
connector's document by ``openapi.document``."""

from __future__ import annotations

from typing import Any, Dict

from handoff_connector.service.openapi import _ID, _errors, _json, _object, _op, _ref, _text
from handoff_connector.service.storage.saved_replies import SCOPES
from handoff_connector.service.templates import SAVED_TEXT_MAX, SAVED_TITLE_MAX, template_fields

_AGENT = "agentToken"
_STRING, _INTEGER, _NUMBER, _BOOLEAN = ({"type": t} for t in ("string", "integer", "number", "boolean"))
_NULLABLE_STRING = {"type": ["string", "null"]}
_REPLY_ID = {"name": "reply_id", "in": "path", "required": True, "schema": _STRING,
             "description": "A saved reply's id (a whole number)"}
_FIELDS = {
    "id": _INTEGER, "scope": {"enum": list(SCOPES)}, "owner_id": _NULLABLE_STRING,
    "queue": {**_NULLABLE_STRING, "description": "A team reply's queue; null: every team"},
    "shortcut": _STRING, "title": _STRING, "text": {**_STRING, "description": "With its placeholders"},
    "created_by": _STRING, "updated_at": _NUMBER,
    "may_edit": {**_BOOLEAN, "description": "The caller may change or delete it"},
    "shadowed": {**_BOOLEAN, "description": "A team reply the caller's own reply with its shortcut hides"},
}
# Text outside braces, doubled braces, or one of the placeholders (str.format's, plain names only).
_PLAIN_PLACEHOLDERS = ("^([^{}]|\\{\\{|\\}\\}|\\{(" + "|".join(template_fields("saved_reply")) + ")\\})*$")
_PLACEHOLDERS = ("Placeholders: {user_name} (the slot `user_name_slot`, else \"there\"), {agent_name}, "
                 "{agent_title}, {agent_role}, {team}, {queue}; any other is a 400 naming it.")

SCHEMAS: Dict[str, Any] = {
    "SavedReply": _object(_FIELDS, list(_FIELDS)),
    "SavedReplyDraft": _object({
        "scope": {"enum": [*SCOPES, None], "description": "team: supervisors only. Left out: personal (a new "
                                                          "reply), or what it is (a change: it stays)"},
        "shortcut": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$",
                     "description": "Unique among the team replies, and among each agent's own"},
        "title": {"type": ["string", "null"], "maxLength": SAVED_TITLE_MAX},
        "text": {"allOf": [_text(SAVED_TEXT_MAX), {"pattern": _PLAIN_PLACEHOLDERS}], "description": _PLACEHOLDERS},
        "queue": {**_text(100), "type": ["string", "null"],
                  "description": "A team reply for one queue's team; null or left out: every team. "
                                 "Not used for a personal reply"},
    }, ["shortcut", "text"]),
    "FilledReply": _object({"reply_id": _INTEGER, "shortcut": _STRING, "text": _STRING},
                           ["reply_id", "shortcut", "text"]),
}

_CHANGE_ERRORS = _errors("400 401 405 413", _403="Not the owner of a personal reply, or a team reply and "
                                                 "not a supervisor", _404="Unknown reply or queue",
                         _409="The shortcut is taken, or a change of scope")

PATHS: Dict[str, Any] = {
    "/api/v1/saved-replies": {
        "get": _op("Saved replies the agent sees: their own and their teams', each with whether they may "
                   "edit it", _AGENT,
                   {"200": _json(_object({"saved_replies": {"type": "array", "items": _ref("SavedReply")}},
                                         ["saved_replies"]))},
                   _errors("401 405")),
        "post": _op("Add a saved reply of one's own, or a team reply (supervisors)", _AGENT,
                    {"201": _json(_ref("SavedReply"), "Added")}, _CHANGE_ERRORS, body=_ref("SavedReplyDraft")),
    },
    "/api/v1/saved-replies/{reply_id}": {
        "put": _op("Change a saved reply (its owner; a team reply: supervisors)", _AGENT,
                   {"200": _json(_ref("SavedReply"))}, _CHANGE_ERRORS,
                   body=_ref("SavedReplyDraft"), parameters=[_REPLY_ID]),
        "delete": _op("Delete a saved reply (its owner; a team reply: supervisors)", _AGENT,
                      {"200": _json(_object({"deleted": _INTEGER}, ["deleted"]))},
                      _errors("400 401 404 405", _403="Not the owner, or not a supervisor"),
                      parameters=[_REPLY_ID]),
    },
    "/api/v1/handoffs/{id}/saved-replies/{reply_id}/preview": {"post": _op(
        "A saved reply filled in for this conversation (the user's name, the agent's, the team's), to "
        "edit before sending; nothing is sent", _AGENT,
        {"200": _json(_ref("FilledReply"))},
        _errors("400 401 404 405", _403="Not a conversation or a reply the agent may see"),
        parameters=[_ID, _REPLY_ID])},
}
