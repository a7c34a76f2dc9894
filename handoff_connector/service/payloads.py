"""Reading and checking request bodies: every problem becomes a clear 400."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from handoff_connector.service.errors import BadRequest, Unauthorized

MAX_TEXT = 4000


MAX_DEPTH = 32  # no request needs more nesting than this; deeper is refused before parsing


async def read_json(request: web.Request) -> Dict[str, Any]:
    """The body as a JSON object, or a 400 saying what is wrong with it.

    Refused too: nesting deeper than ``MAX_DEPTH`` and text that is not valid
    Unicode (a lone surrogate such as ``"\\ud800"``), which no database can store.
    A NUL character (``"\\u0000"``), which PostgreSQL cannot store in text, becomes
    U+FFFD on both databases, so a user's message with one still arrives.
    """
    raw = await request.read()
    if not raw:
        raise BadRequest("Request body is empty; send a JSON object.")
    if _depth(raw) > MAX_DEPTH:
        raise BadRequest(f"Request body is nested deeper than {MAX_DEPTH} levels.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise BadRequest(f"Request body is not valid JSON ({error}).") from error
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a JSON object, got {type(body).__name__}.")
    where = _invalid_text(body, "")
    if where is not None:
        raise BadRequest(f"`{where or 'body'}` contains text that is not valid Unicode (a lone surrogate); "
                         f"send UTF-8 text.")
    if b"\\u0000" in raw:
        body = _without_nul(body)
    return body


def _without_nul(value: Any) -> Any:
    """The value with every NUL in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _depth(raw: bytes) -> int:
    """How deeply brackets nest, outside strings (a cheap bound before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _invalid_text(value: Any, path: str) -> Optional[str]:
    """The path of the first string (key or value) that cannot be encoded as UTF-8, if any."""
    if isinstance(value, str):
        return None if _encodable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if not _encodable(key):
                return path or "a key"
            found = _invalid_text(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _invalid_text(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_field(
    body: Dict[str, Any], key: str, *, required: bool = True, max_len: int = MAX_TEXT, blank: bool = True
) -> Optional[str]:
    """A string of at most ``max_len`` characters; a required one (or, with
    ``blank=False``, an optional one when given) must not be empty or only spaces."""
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"Field `{key}` is required (a string).")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Field `{key}` must be a string, got {type(value).__name__}.")
    if (required or not blank) and not value.strip():
        raise BadRequest(f"Field `{key}` must not be empty." + ("" if required else " Leave it out instead."))
    if len(value) > max_len:
        raise BadRequest(f"Field `{key}` is {len(value)} characters; the limit is {max_len}.")
    return value


def list_of_strings(body: Dict[str, Any], key: str) -> List[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"Field `{key}` must be a list of strings.")
    return value


def object_field(body: Dict[str, Any], key: str) -> Dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"Field `{key}` must be a JSON object.")
    return value


def header_text(request: web.Request, name: str) -> str:
    """A header's value; a 400 if it is not plain text (bytes that are not UTF-8)."""
    value = request.headers.get(name, "")
    if not _encodable(value) or not value.isprintable():
        raise BadRequest(f"Header `{name}` must be printable UTF-8 text.")
    return value


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if not _encodable(header) or not header.isprintable():
        raise Unauthorized("Malformed credentials: send `Authorization: Bearer <token>` in plain text.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing credentials: send `Authorization: Bearer <token>`.")
    return token.strip()


def page_limit(raw: Optional[str], default: int, maximum: int = 500) -> int:
    """A list's ``limit`` query: how many items a page holds."""
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"Query `limit` must be a whole number from 1 to {maximum}.")
    return int(raw)


def page_cursor(raw: Optional[str], of: str) -> Optional[Tuple[float, str]]:
    """A list's ``after`` query: the ``next`` of an earlier page ("<created_at>~<id>")."""
    if raw is None:
        return None
    created_at, _, handoff_id = raw.partition("~")
    try:
        at = float(created_at)
    except ValueError:
        at = float("nan")
    if not handoff_id or not math.isfinite(at) or len(handoff_id) > 64:
        raise BadRequest(f"Query `after` must be the `next` of an earlier page of the {of}.")
    return at, handoff_id
