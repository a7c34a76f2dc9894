"""Redaction patterns and the retention settings (``retention:`` and ``redaction:`` in the config).

Built-in patterns: ``email``, ``phone`` (7 to 15 digits, not an ISO date) and ``card``
(13 to 19 digits passing the Luhn check, so an order number is not taken for a card).
Your own patterns (Python regular expressions) apply after them. With
``redaction: {on_store: true}`` they also apply to what is said as it arrives (user and
agent messages, notes, close and transfer notes, survey comments, the bot's context),
before it is stored or sent: nothing they match reaches the database. Plain Python: the
storage's retention and the CLI share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ACTIONS = ("delete", "redact")


class RedactionError(ValueError):
    """A wrong ``retention`` or ``redaction`` setting; the message names the key."""


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(found: str) -> bool:
    digits = _digits(found)
    return 13 <= len(digits) <= 19 and luhn(digits)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(found: str) -> bool:
    return 7 <= len(_digits(found)) <= 15 and not _ISO_DATE.fullmatch(found.strip())


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: "re.Pattern[str]"
    replacement: str
    check: Optional[Callable[[str], bool]] = None  # a match is redacted only if this agrees

    def apply(self, text: str) -> Tuple[str, int]:
        count = 0

        def replace(match: "re.Match[str]") -> str:
            nonlocal count
            if self.check is not None and not self.check(match.group(0)):
                return match.group(0)
            count += 1
            return self.replacement

        return self.regex.sub(replace, text), count


BUILTIN: Dict[str, Pattern] = {
    "email": Pattern("email", re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
                     "[email]"),
    # Before the phone pattern: a card number also looks like a long phone number.
    "card": Pattern("card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), "[card]", _card),
    "phone": Pattern("phone", re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{5,}\d(?!\w)"), "[phone]", _phone),
}


# What stays as the bot sent it when the context is redacted on store: the conversation's
# id (replies are delivered to it; on SMS it is the phone number) and the routing labels.
_CONTEXT_KEPT = ("sender_id", "channel", "trigger", "reasons", "queue", "language", "resumed_from")
_TURN_KEPT = ("role", "timestamp", "message_id", "author")


@dataclass(frozen=True)
class Redaction:
    """The patterns applied, in order; with ``on_store``, also to what is said as it is stored."""

    patterns: List[Pattern] = field(default_factory=lambda: [BUILTIN[n] for n in ("email", "card", "phone")])
    on_store: bool = False

    def text(self, text: str) -> Tuple[str, int]:
        """``text`` with every match replaced, and how many were."""
        total = 0
        for pattern in self.patterns:
            text, count = pattern.apply(text)
            total += count
        return text, total

    def value(self, value: Any) -> Tuple[Any, int]:
        """Every string inside a JSON value (keys stay), redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            items = [self.value(item) for item in value]
            return [item for item, _ in items], sum(count for _, count in items)
        if isinstance(value, dict):
            pairs = {key: self.value(item) for key, item in value.items()}
            return {key: item for key, (item, _) in pairs.items()}, sum(count for _, count in pairs.values())
        return value, 0

    def stored(self, text: Optional[str]) -> Optional[str]:
        """A message or note as it is stored: redacted if ``on_store``, else as given."""
        if not self.on_store or text is None:
            return text
        return self.text(text)[0]

    def stored_context(self, context: Dict[str, Any]) -> Dict[str, Any]:
        """The bot's context as it is stored: with ``on_store``, the transcript's texts, the slots
        and everything else said redacted; the conversation's id and routing labels kept."""
        if not self.on_store:
            return context
        stored: Dict[str, Any] = {}
        for key, value in context.items():
            if key in _CONTEXT_KEPT:
                stored[key] = value
            elif key == "transcript" and isinstance(value, list):
                stored[key] = [{k: v if k in _TURN_KEPT else self.value(v)[0] for k, v in turn.items()}
                               if isinstance(turn, dict) else turn for turn in value]
            else:
                stored[key] = self.value(value)[0]
        return stored

    def stored_said(self, said: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """User messages (``message_id``, ``text``, ``timestamp``) as they are stored."""
        return [{**m, "text": self.stored(m.get("text"))} for m in said]


@dataclass(frozen=True)
class Retention:
    """After ``days`` since a conversation ended, its transcript and contact are deleted or redacted."""

    days: float
    action: str = "delete"


def parse_redaction(raw: Any, source: str) -> Redaction:
    if raw is None:
        return Redaction()
    if not isinstance(raw, dict):
        raise RedactionError(f"{source}: `redaction` must be a mapping (builtin, patterns).")
    unknown = sorted(set(raw) - {"builtin", "patterns", "on_store"})
    if unknown:  # a misspelt on_store would otherwise leave everything stored as said
        raise RedactionError(f"{source}: unknown key(s) in `redaction`: {unknown}; "
                             f"known: builtin, patterns, on_store.")
    builtin = raw.get("builtin", ["email", "card", "phone"])
    if not isinstance(builtin, list) or any(name not in BUILTIN for name in builtin):
        raise RedactionError(f"{source}: `redaction.builtin` must be a list of {', '.join(BUILTIN)}, "
                             f"got {builtin!r}.")
    patterns = [BUILTIN[name] for name in ("email", "card", "phone") if name in builtin]
    for index, item in enumerate(raw.get("patterns") or []):
        where = f"{source}: redaction.patterns[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise RedactionError(f"{where} needs a `name` and a `pattern`.")
        try:
            regex = re.compile(str(item.get("pattern") or ""))
        except re.error as error:
            raise RedactionError(f"{where}: `pattern` is not a valid regular expression ({error}).") from error
        if not regex.pattern or regex.match(""):
            raise RedactionError(f"{where}: `pattern` must not match empty text.")
        replacement = str(item.get("replacement") or f"[{item['name']}]")
        patterns.append(Pattern(item["name"], regex, replacement))
    on_store = raw.get("on_store", False)
    if not isinstance(on_store, bool):
        raise RedactionError(f"{source}: `redaction.on_store` must be true or false, got {on_store!r}.")
    return Redaction(patterns, on_store)


def parse_retention(raw: Any, source: str) -> Optional[Retention]:
    """None (keep everything) unless ``retention: {days: N, action: delete|redact}`` is given."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RedactionError(f"{source}: `retention` must be a mapping with `days` and `action`.")
    days = raw.get("days")
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
        raise RedactionError(f"{source}: `retention.days` must be a number of days > 0, got {days!r}.")
    action = raw.get("action", "delete")
    if action not in ACTIONS:
        raise RedactionError(f"{source}: `retention.action` must be delete or redact, got {action!r}.")
    return Retention(float(days), str(action))
