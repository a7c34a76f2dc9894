"""Web chat sessions: the user's own secret, signed, kept by their browser.

A web chat user is known by a session the channel signs when they first
connect (a JWT, HS256): it names their conversation (the sender id) and
expires. Their sender id alone opens nothing: it shows up in the desk, in
links and in logs. The connector signs one for a user who comes back through
a conversation link. Both derive the signing key from the web chat secret
they share (``typing_secret`` in credentials.yml, ``webchat_typing_secret``
in the connector's config); the derived key never leaves either.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional

import jwt

AUDIENCE = "handoff-webchat"
SESSION_DAYS = 30
_DERIVE = b"handoff webchat session v1"


def session_key(shared_secret: str) -> bytes:
    """The signing key: the shared secret is also a bearer token, so it is not used as is."""
    return hmac.new(shared_secret.encode(), _DERIVE, hashlib.sha256).digest()


def sign_session(key: bytes, sender_id: str, days: float = SESSION_DAYS) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sender_id, "aud": AUDIENCE, "iat": now, "exp": now + int(days * 86400)},
                      key, algorithm="HS256")


def session_sender(key: bytes, token: object) -> Optional[str]:
    """The sender id a session names, or None when it is not one of ours or has expired."""
    if not isinstance(token, str) or not token or len(token) > 2048:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=AUDIENCE,
                            options={"require": ["sub", "exp", "aud"]})
    except jwt.PyJWTError:
        return None
    sender = claims.get("sub")
    return sender if isinstance(sender, str) and sender else None
