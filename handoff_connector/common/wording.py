"""Small pieces of wording shared by the actions and the connector (plain Python)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional


def wait_phrase(minutes: Optional[int]) -> str:
    """' (about 4 minutes)', or '' when there is no estimate."""
    if not minutes:
        return ""
    return f" (about {minutes} minute{'s' if minutes != 1 else ''})"


def iso_utc(timestamp: Optional[float]) -> str:
    """A Unix timestamp as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(timestamp or 0, tz=timezone.utc).isoformat(timespec="milliseconds")


def article(title: str) -> str:
    """'housing specialist' -> 'a housing specialist'."""
    if not title:
        return "a member of our team"
    return f"{'an' if title[0].lower() in 'aeiou' else 'a'} {title}"
