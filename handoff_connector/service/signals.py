"""Urgency and safety signals (``urgency:`` in the config): what marks a conversation urgent.

A designer lists levels, least urgent first (``urgent``, then ``crisis``, say),
each with what the user hears when their conversation reaches it, and signals:
phrases, regular expressions and Rasa intents, each with a level and a label
("self-harm", "eviction today"). Phrases match whole words, whatever the case,
accents and punctuation ("Eviction... TODAY" matches "eviction today"; "shutoff"
does not match "shutoffs"). Plain Python: nothing here touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

NONE = "none"  # the level of a conversation no signal marked


class SignalError(ValueError):
    """A wrong ``urgency`` setting; the message names the key."""


@dataclass(frozen=True)
class Level:
    name: str
    rank: int  # 1 for the least urgent; 0 is no urgency
    message: Optional[str]  # what the user hears when their conversation reaches this level


@dataclass(frozen=True)
class Signal:
    label: str
    level: Level
    phrases: Tuple[str, ...] = ()  # normalised (see ``fold``)
    patterns: Tuple["re.Pattern[str]", ...] = ()
    intents: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """The most urgent signal found: its level and label, and the words that matched."""

    level: Level
    label: str
    found: str


@dataclass
class Urgency:
    levels: List[Level] = field(default_factory=list)
    signals: List[Signal] = field(default_factory=list)

    def level(self, name: str) -> Optional[Level]:
        return next((level for level in self.levels if level.name == name), None)

    def by_rank(self, rank: int) -> Optional[Level]:
        return next((level for level in self.levels if level.rank == rank), None)

    def scan(self, texts: Iterable[str] = (), intents: Iterable[str] = ()) -> Optional[Match]:
        """The most urgent match in ``texts`` (what the user said) and ``intents``, if any."""
        best: Optional[Match] = None
        folded = [(text, fold(text)) for text in texts if text]
        names = [name for name in intents if name]
        for signal in self.signals:
            if best is not None and best.level.rank >= signal.level.rank:
                continue
            found = _found(signal, folded, names)
            if found is not None:
                best = Match(signal.level, signal.label, found)
        return best


def fold(text: str) -> str:
    """Lower case, accents dropped, runs of anything but letters and digits as one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " " + " ".join(re.findall(r"\w+", plain)) + " "


def _found(signal: Signal, folded: Sequence[Tuple[str, str]], intents: Sequence[str]) -> Optional[str]:
    for text, plain in folded:
        for phrase in signal.phrases:
            if f" {phrase} " in plain:
                return phrase
        for pattern in signal.patterns:
            hit = pattern.search(text)
            if hit:
                return hit.group(0)
    return next((f"intent {name}" for name in intents if name in signal.intents), None)


def parse_urgency(raw: Any, source: str) -> Urgency:
    """``urgency: {levels: [{name, message}], signals: [{label, level, phrases, patterns, intents}]}``."""
    if raw is None:
        return Urgency()
    if not isinstance(raw, dict) or set(raw) - {"levels", "signals"}:
        raise SignalError(f"{source}: `urgency` must be a mapping with `levels` and `signals`.")
    levels: List[Level] = []
    for index, item in enumerate(_list(raw, "levels", source)):
        where = f"{source}: urgency.levels[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise SignalError(f"{where} needs a `name` (and optionally a `message` for the user).")
        name = item["name"].strip()
        if name == NONE or any(level.name == name for level in levels):
            raise SignalError(f"{where}: the name {name!r} is taken.")
        message = item.get("message")
        if message is not None and (not isinstance(message, str) or not message.strip()):
            raise SignalError(f"{where}: `message` must be text.")
        levels.append(Level(name, len(levels) + 1, message))
    urgency = Urgency(levels)
    for index, item in enumerate(_list(raw, "signals", source)):
        urgency.signals.append(_signal(urgency, item, f"{source}: urgency.signals[{index}]"))
    return urgency


def _signal(urgency: Urgency, item: Any, where: str) -> Signal:
    if not isinstance(item, dict) or not isinstance(item.get("label"), str) or not item["label"].strip():
        raise SignalError(f"{where} needs a `label`, a `level` and phrases, patterns or intents.")
    unknown = sorted(set(item) - {"label", "level", "phrases", "patterns", "intents"})
    if unknown:
        raise SignalError(f"{where}: unknown key(s) {unknown}; known: label, level, phrases, patterns, intents.")
    level = urgency.level(str(item.get("level")))
    if level is None:
        raise SignalError(f"{where}: `level` must be one of {[lv.name for lv in urgency.levels]}, "
                          f"got {item.get('level')!r}.")
    phrases = tuple(fold(p).strip() for p in _strings(item, "phrases", where))
    if any(not p for p in phrases):
        raise SignalError(f"{where}: a phrase must have letters or digits in it.")
    patterns = []
    for text in _strings(item, "patterns", where):
        try:
            pattern = re.compile(text, re.IGNORECASE)
        except re.error as error:
            raise SignalError(f"{where}: {text!r} is not a valid regular expression ({error}).") from error
        if pattern.search(""):
            raise SignalError(f"{where}: the pattern {text!r} matches empty text.")
        patterns.append(pattern)
    intents = tuple(_strings(item, "intents", where))
    if not (phrases or patterns or intents):
        raise SignalError(f"{where} needs phrases, patterns or intents.")
    return Signal(item["label"].strip(), level, phrases, tuple(patterns), intents)


def _list(raw: Dict[str, Any], key: str, source: str) -> List[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise SignalError(f"{source}: `urgency.{key}` must be a list.")
    return value


def _strings(item: Dict[str, Any], key: str, where: str) -> List[str]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SignalError(f"{where}: `{key}` must be a list of text.")
    return value
