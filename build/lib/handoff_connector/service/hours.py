"""Business hours of a queue, in the queue's own time zone.

    hours:
      timezone: America/New_York
      mon-fri: "09:00-17:00"
      sat: "10:00-13:00, 14:00-16:00"

A day that is not listed is closed; a queue without ``hours`` is always open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class HoursError(ValueError):
    """A queue's `hours` are written wrongly."""


@dataclass(frozen=True)
class Hours:
    zone: str
    spans: Dict[int, List[Tuple[int, int]]] = field(default_factory=dict)  # weekday -> minutes

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.zone))
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.spans.get(local.weekday(), []))

    def next_open(self, moment: datetime) -> Optional[datetime]:
        """The next opening at or after ``moment`` (UTC), within a week."""
        local = moment.astimezone(ZoneInfo(self.zone))
        for days in range(8):
            day = (local + timedelta(days=days)).date()
            for start, _ in sorted(self.spans.get(day.weekday(), [])):
                opening = datetime(day.year, day.month, day.day, start // 60, start % 60,
                                   tzinfo=ZoneInfo(self.zone))
                if opening >= local:
                    return opening.astimezone(timezone.utc)
        return None


def _days(key: str, source: str) -> List[int]:
    parts = key.lower().split("-")
    if not all(p in DAYS for p in parts) or len(parts) > 2:
        raise HoursError(f"{source}: {key!r} is not a day or a day range like mon-fri.")
    first, last = DAYS.index(parts[0]), DAYS.index(parts[-1])
    return list(range(first, last + 1)) if first <= last else list(range(first, 7)) + list(range(0, last + 1))


def parse_hours(raw: Optional[Dict[str, Any]], source: str) -> Optional[Hours]:
    if not raw:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("timezone"), str):
        raise HoursError(f"{source}: `hours` needs a `timezone` (e.g. America/New_York) and days.")
    try:
        ZoneInfo(raw["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HoursError(f"{source}: unknown time zone {raw['timezone']!r}.") from error
    spans: Dict[int, List[Tuple[int, int]]] = {}
    for key, value in raw.items():
        if key == "timezone":
            continue
        for text in str(value).split(","):
            match = _SPAN.match(text)
            if not match:
                raise HoursError(f"{source}: {key}: {text.strip()!r} is not like 09:00-17:00.")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if not (0 <= start < end <= 24 * 60 and m1 < 60 and m2 < 60):
                raise HoursError(f"{source}: {key}: {text.strip()!r} must open before it closes.")
            for day in _days(key, source):
                spans.setdefault(day, []).append((start, end))
    return Hours(raw["timezone"], spans)
