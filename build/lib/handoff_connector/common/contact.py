"""Checking a callback contact: a phone number or an email address.

Plain Python, used by the survey-style callback form and by the connector.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")


def normalise_contact(text: Optional[str]) -> Optional[Tuple[str, str]]:
    """('phone', '+1 555 010 0199') or ('email', 'a@b.org'), or None if neither."""
    value = (text or "").strip().strip(".")
    for word in ("my number is", "my email is", "call me at", "email me at", "it's", "its"):
        if value.lower().startswith(word):
            value = value[len(word):].strip()
    if _EMAIL.match(value) and len(value) <= 254:
        return "email", value
    digits = re.sub(r"\D", "", value)
    if _PHONE_CHARS.match(value) and 7 <= len(digits) <= 15:
        return "phone", value
    return None
