"""Reading and checking request bodies: every problem becomes a clear 400."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from aiohttp import web

from handoff_connector.service.errors import BadRequest, Unauthorized

MAX_TEXT = 4000


async def read_json(request: web.Request) -> Dict[str, Any]:
    """The body as a JSON object, or a 400 saying what is wrong with it."""
    raw = await request.read()
    if not raw:
        raise BadRequest("Request body is empty; send a JSON object.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"Request body is not valid JSON ({error}).") from error
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a JSON object, got {type(body).__name__}.")
    return body


def text_field(
    body: Dict[str, Any], key: str, *, required: bool = True, max_len: int = MAX_TEXT
) -> Optional[str]:
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"Field `{key}` is required (a string).")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Field `{key}` must be a string, got {type(value).__name__}.")
    if required and not value.strip():
        raise BadRequest(f"Field `{key}` must not be empty.")
    if len(value) > max_len:
        raise BadRequest(f"Field `{key}` is {len(value)} characters; the limit is {max_len}.")
    return value


def list_of_strings(body: Dict[str, Any], key: str) -> List[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"Field `{key}` must be a list of strings.")
    return value


def object_field(body: Dict[str, Any], key: str) -> Dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise BadRequest(f"Field `{key}` must be a JSON object.")
    return value


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing credentials: send `Authorization: Bearer <token>`.")
    return token.strip()
