"""The OpenAPI description of profiles, the admin routes (``people_api.py``) and agents'
photos (``photo_api.py``), merged into the connector's document by ``openapi.document``."""

from __future__ import annotations

from typing import Any, Dict

from handoff_connector.service.credentials import MIN_PASSWORD
from handoff_connector.service.openapi import (
           _ID,
           _NOT_BLANK,
           _STRING,
           _errors,
           _json,
           _object,
           _op,
           _ref,
           _text,
)
from handoff_connector.service.people_api import MAX_QUEUES, PASSWORD_MAX
from handoff_connector.service.photo_api import PHOTO_MAX_BYTES, PHOTO_TYPES
from handoff_connector.service.storage.people import MAX_CAPACITY, NAME_MAX, ROLES

_AGENT = "agentToken"
_AGENT_ID = {**_ID, "description": "An agent's id"}
_NEW_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}
_NAME = {"anyOf": [_text(NAME_MAX), {"type": "null"}]}
_TITLE = {"type": ["string", "null"], "maxLength": NAME_MAX}
_ROLE = {"enum": [*ROLES, None]}
_CAPACITY = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_CAPACITY}
_QUEUES = {"type": ["array", "null"], "maxItems": MAX_QUEUES,
           "items": {"type": "string", "minLength": 1, "maxLength": 100}}
_PASSWORD = {"type": "string", "minLength": MIN_PASSWORD, "maxLength": PASSWORD_MAX, "pattern": _NOT_BLANK}
_CHANGES = {"name": _NAME, "title": _TITLE, "role": _ROLE, "capacity": _CAPACITY, "queues": _QUEUES}
_SUPERVISORS = "Not a supervisor (or, for a profile, not one's own)"
_LAST = "The last active supervisor, or oneself"
_IMAGE = {"type": "string", "format": "binary"}

SCHEMAS: Dict[str, Any] = {
    "NewAgent": _object({**_CHANGES, "id": _NEW_ID, "name": _text(NAME_MAX), "password": _PASSWORD},
                        ["id", "name", "password"]),
    "AgentChanges": _object(_CHANGES),
    "NewQueue": _object({"name": _NEW_ID, "team": _text(NAME_MAX)}, ["name", "team"]),
    "NewPassword": _object({"password": _PASSWORD}, ["password"]),
}

_PHOTO_BODY = {"required": True, "content": {
    **{kind: {"schema": _IMAGE} for kind in PHOTO_TYPES},
    "multipart/form-data": {"schema": _object({"photo": _IMAGE}, ["photo"])}}}
_put_photo = _op(
    f"Upload a photo (PNG, JPEG or WebP, told by its content; at most {PHOTO_MAX_BYTES // 1024} KB): "
    "one's own, or anyone's (supervisors)", _AGENT, {"200": _json(_ref("Agent"))},
    _errors("400 401 403 404 405", _413="Larger than the limit", _415="Not a PNG, JPEG or WebP image"),
    parameters=[_AGENT_ID])
_put_photo["requestBody"] = _PHOTO_BODY

_IMAGE_ANSWERS = {"200": {"description": "The image", "content": {kind: {"schema": _IMAGE} for kind in PHOTO_TYPES}},
                  "304": {"description": "The copy the browser has is current"}}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": _STRING}

PATHS: Dict[str, Any] = {
    "/api/v1/agents": {"post": _op(
        "Add an agent with a first password (supervisors)", _AGENT, {"201": _json(_ref("Agent"), "Added")},
        _errors("400 401 403 405 413", _404="A queue named does not exist", _409="The id is taken"),
        body=_ref("NewAgent"))},
    "/api/v1/agents/{id}": {"patch": _op(
        "Change a profile (name, title: oneself or supervisors) or an account (role, capacity, queues: "
        "supervisors)", _AGENT, {"200": _json(_ref("Agent"))},
        _errors("400 401 405 413", _403=_SUPERVISORS, _404="No such agent or queue",
                _409="The last active supervisor cannot stop being one"),
        body=_ref("AgentChanges"), parameters=[_AGENT_ID])},
    "/api/v1/agents/{id}/deactivate": {"post": _op(
        "Deactivate an agent: no sign-in, sessions and tokens stop, not assigned (supervisors)", _AGENT,
        {"200": _json(_ref("Agent"))}, _errors("400 401 403 404 405", _409=_LAST), parameters=[_AGENT_ID])},
    "/api/v1/agents/{id}/activate": {"post": _op(
        "Reactivate an agent (supervisors)", _AGENT, {"200": _json(_ref("Agent"))},
        _errors("400 401 403 404 405"), parameters=[_AGENT_ID])},
    "/api/v1/agents/{id}/password": {"put": _op(
        "Set a new password; the agent's sessions end and API tokens are revoked (supervisors)", _AGENT,
        {"200": _json(_ref("Status"))}, _errors("400 401 403 404 405 413"), body=_ref("NewPassword"),
        parameters=[_AGENT_ID])},
    "/api/v1/photos/{version}": {
        "get": _op("An active agent's photo by its version, as `photo` gives it (no sign-in: the web chat "
                   "shows it); ETag and If-None-Match", None, _IMAGE_ANSWERS,
                   _errors("400 405", _404="No such photo (replaced, removed, or its agent deactivated)"),
                   parameters=[{"name": "version", "in": "path", "required": True, "schema": _STRING},
                               _IF_NONE_MATCH])},
    "/api/v1/agents/{id}/photo": {
        "get": _op("An agent's photo by their id (signed in); ETag and If-None-Match", _AGENT, _IMAGE_ANSWERS,
                   _errors("400 401 405", _404="No such agent, or no photo"),
                   parameters=[_AGENT_ID, _IF_NONE_MATCH]),
        "put": _put_photo,
        "delete": _op("Remove a photo (back to initials): one's own, or anyone's (supervisors)", _AGENT,
                      {"200": _json(_ref("Agent"))}, _errors("400 401 403 404 405"), parameters=[_AGENT_ID]),
    },
    "/api/v1/queues": {"post": _op(
        "Add a queue (a team) (supervisors)", _AGENT,
        {"201": _json(_object({"queues": {"type": "array", "items": _object(
            {"name": _STRING, "team": _STRING, "waiting": {"type": "integer"}}, ["name", "team", "waiting"])}},
            ["queues"]), "Added")},
        _errors("400 401 403 405 413", _409="The name is taken"), body=_ref("NewQueue"))},
}
