"""Passwords and tokens as the database keeps them.

Passwords are stored as Argon2id hashes (argon2-cffi's current parameters);
hashes of earlier releases (scrypt) still verify and are replaced at the next
sign-in. Session and API tokens are kept as SHA-256 digests, so a copy of the
database gives no usable credential. Hashing is slow on purpose: callers on the
event loop use ``hash_off_loop`` / ``verify_off_loop``, a small bounded pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
_HASHER = PasswordHasher()
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handoff-hash")
_WAITING_LIMIT = 16  # hashes queued for the pool at most; more is a flood: refused at once
_waiting = 0


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown logins; made on first use, not at import."""
    return _HASHER.hash("no account has this password")


class PasswordTooShort(ValueError):
    pass


class HashingBusy(RuntimeError):
    """Too many sign-ins are being checked at once."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordTooShort(f"Use at least {MIN_PASSWORD} characters for a password.")


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def verify_password(password: str, stored: Optional[str]) -> Tuple[bool, Optional[str]]:
    """(right, a new hash to store if the stored one is of older parameters or scrypt)."""
    if not stored:
        # Same work as a real check, so timing does not reveal unknown accounts.
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_dummy_hash(), password)
        return False, None
    if stored.startswith("scrypt$"):
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32,
                                   n=int(n), r=int(r), p=int(p))
        right = hmac.compare_digest(candidate.hex(), digest)
        return right, (_HASHER.hash(password) if right else None)
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (_HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)


async def _off_loop(fn, *args):  # type: ignore[no-untyped-def]
    global _waiting
    if _waiting >= _WAITING_LIMIT:
        raise HashingBusy("Too many sign-ins at once; try again in a moment.")
    _waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)
    finally:
        _waiting -= 1


async def hash_off_loop(password: str) -> str:
    return str(await _off_loop(hash_password, password))


async def verify_off_loop(password: str, stored: Optional[str]) -> Tuple[bool, Optional[str]]:
    result: Tuple[bool, Optional[str]] = await _off_loop(verify_password, password, stored)
    return result


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)
