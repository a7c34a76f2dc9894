"""The signed webhook (``webhook:``): closes and follow-ups announced to a CRM.

Each call is a POST of JSON ``{id, type, created_at, data}`` with the header
``X-Handoff-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes the HMAC over the raw body, compares in constant time and
refuses a ``t`` older than a few minutes (a replay); ``id`` repeats when a call
is tried again, so it can be used to drop duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Optional

import aiohttp

from handoff_connector.service.mail import SendFailed
from handoff_connector.service.outbound import WebhookConfig

HEADER = "X-Handoff-Signature"


def signature(secret: str, body: bytes, at: Optional[int] = None) -> str:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, tolerance: float = 300.0) -> bool:
    """What a receiver does (the tests use it): the signature matches and is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, int(parts["t"])), f"t={parts['t']},v1={parts.get('v1', '')}")


async def post(session: aiohttp.ClientSession, config: WebhookConfig, event: Dict[str, Any]) -> None:
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", HEADER: signature(config.secret, body),
               "User-Agent": "rasa-handoff-connector"}
    try:
        async with session.post(config.url, data=body, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=config.timeout_seconds)) as response:
            if response.status >= 300:
                raise SendFailed(f"the webhook answered {response.status}", False)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise SendFailed(f"the webhook could not be reached ({type(error).__name__})", False) from error
