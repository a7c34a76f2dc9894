"""Frustration signals, shared by the NLU component, the policy and the actions.

Pure Python over plain event dicts (the format of ``Event.as_dict()`` and of
rasa-sdk's ``tracker.events``), so the same scoring runs everywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

FRUSTRATION_KEY = "frustration"
FALLBACK_ACTION = "action_handle_fallback"
FRUSTRATED_INTENT = "frustrated"
FALLBACK_INTENT = "nlu_fallback"
# A handoff request or return starts a fresh count.
RESET_ACTIONS = {"action_handoff_request", "action_handoff_return", "action_session_start"}

# reason code -> weight
WEIGHTS = {
    "insult": 2,
    "negative_feedback": 2,
    "anger_words": 1,
    "all_caps": 1,
    "repeated_punctuation": 1,
    "frustrated_intent": 1,
    "repeated_fallback": 1,
    "repeated_question": 1,
}

_INSULTS = re.compile(
    r"\b(stupid|idiot(ic|s)?|dumb(est)?|moron(ic|s)?|useless|incompetent|worthless|"
    r"pathetic|garbage|trash|junk|crap(py)?|bs|sucks?|"
    r"hate (this|you|your|the)\b.{0,15}\b(bot|thing|chat|service|app|line|machine)|"
    r"(you|you'?re|you are|your (answers?|replies|help|service)|this (bot|thing|chat ?bot|service|app|help ?line)|"
    r"this is)\b.{0,25}\b(worst|terrible|awful|horrible|hopeless)|"
    r"(what a|such a|this is a|it'?s a|you'?re a) joke|clowns?|ridiculous)\b",
    re.IGNORECASE,
)
_ANGER = re.compile(
    r"\b(angry|furious|mad|annoy(ed|ing)|frustrat(ed|ing)|unbelievable|infuriating|"
    r"fed up|sick of|hate|ugh+|argh+|grr+|wtf|ffs|fml|damn|hell|omg|seriously|come on|"
    r"pissed( off)?|for (god|pete|heaven)'?s sake)\b",
    re.IGNORECASE,
)
_NEGATIVE_FEEDBACK = re.compile(
    r"((this is|you'?re|you are|it'?s) (pointless|not helpful|a waste)|(you'?re|you are|ur) not "
    r"help(ing|ful)|not helping|(doesn'?t|does not|didn'?t) help|"
    r"you (don'?t|do not) (understand|get it|listen)|that'?s not what i (asked|said)|"
    r"same (thing|answer|response|reply|message) (again|over|every time)|going in circles|"
    r"(keep|keeps|kept) (saying|giving me|sending me|repeating|ignoring)|canned (response|answer)|"
    r"(this|the) (thing|bot|app|chat|site|link)('s| is) broken|wrong (info|information|answer)|stop (repeating|giving me|sending me)|"
    r"thanks for nothing|(you'?re|you are|this is|that'?s|that was|you were) no help|"
    r"(i|we) give up|for the last time|driving me (crazy|nuts|insane)|"
    r"you never (get|understand|listen)|never get anything right|"
    r"(i|i'?ve) (already )?(said|told you|asked)( (this|that|it))? (already|before|\w+ times)|"
    r"wast(e|ing) (of )?(my )?time|(a|total|complete) waste|(are|r) (you|u) kidding|getting nowhere|"
    r"not (helpful|understanding)|no idea what|(are you|you'?re) (broken|ignoring)|"
    r"(are you|you'?re|you are) (even )?listening|(can'?t|cannot|don'?t|won'?t) you understand|"
    r"(didn'?t|did not|never|don'?t) answer (my|the) question|(can'?t|never) (do|get) anything right|"
    r"(so|very|really|extremely) disappointed|(impossible|hard) to get a (straight|real) answer)",
    re.IGNORECASE,
)
_REPEATED_PUNCT = re.compile(r"[!?]{2,}")
_WORD = re.compile(r"[A-Za-z']+")


@dataclass
class Assessment:
    """A frustration score with the reason codes that produced it."""

    score: int = 0
    reasons: List[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
            self.score += WEIGHTS[reason]

    def as_dict(self) -> Dict[str, Any]:
        return {"score": self.score, "reasons": list(self.reasons)}


def message_signals(text: Optional[str]) -> Assessment:
    """Scores one message on its own: words, capitals, punctuation."""
    result = Assessment()
    text = text or ""
    if text.startswith("/"):  # a button payload, not typed text
        return result
    if _INSULTS.search(text):
        result.add("insult")
    if _NEGATIVE_FEEDBACK.search(text):
        result.add("negative_feedback")
    if _ANGER.search(text):
        result.add("anger_words")
    if _is_shouting(text):
        result.add("all_caps")
    if _REPEATED_PUNCT.search(text):
        result.add("repeated_punctuation")
    return result


def _is_shouting(text: str) -> bool:
    words = [w for w in _WORD.findall(text) if len(w) > 1]
    letters = "".join(words)
    if len(words) < 2 or len(letters) < 6:
        return False
    return sum(c.isupper() for c in letters) / len(letters) >= 0.8


def _normalise(text: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(text))


def is_same_question(a: str, b: str) -> bool:
    """True when two user messages ask the same thing (near-identical text)."""
    na, nb = _normalise(a), _normalise(b)
    if len(na.split()) < 3 or len(nb.split()) < 3:
        return False  # "yes", "hi there": repeating them is not a signal
    return difflib.SequenceMatcher(None, na, nb).ratio() >= 0.85


def turns_since_reset(
    events: Iterable[Dict[str, Any]], resets: Iterable[str] = RESET_ACTIONS
) -> List[Dict[str, Any]]:
    """User turns since the last of the ``resets`` actions, oldest first.

    Each turn is ``{"text", "intent", "parse_data", "bot_actions": [...]}``.
    """
    reset_names = set(resets)
    turns: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "session_started" or (kind == "action" and event.get("name") in reset_names):
            turns = []
        elif kind == "user":
            parse_data = event.get("parse_data") or {}
            intent = (parse_data.get("intent") or {}).get("name")
            if intent and intent.startswith("EXTERNAL_"):
                continue
            turns.append(
                {
                    "text": event.get("text") or "",
                    "intent": intent,
                    "parse_data": parse_data,
                    "bot_actions": [],
                }
            )
        elif kind == "action" and turns and event.get("name") != "action_listen":
            turns[-1]["bot_actions"].append(event.get("name"))
    return turns


def assess(events: Iterable[Dict[str, Any]]) -> Assessment:
    """Scores the latest user message in the light of the conversation.

    Per-message signals come from the FrustrationDetector's annotation when
    present (else they are computed here). Conversation signals: the previous
    turn already ended in a fallback and this one does too (``repeated_fallback``),
    or the user asks again what they asked before (``repeated_question``).
    """
    turns = turns_since_reset(events)
    result = Assessment()
    if not turns:
        return result
    latest = turns[-1]
    annotated = latest["parse_data"].get(FRUSTRATION_KEY)
    reasons = annotated.get("reasons", []) if isinstance(annotated, dict) else None
    if reasons is None:
        reasons = message_signals(latest["text"]).reasons
    for reason in reasons:
        if reason in WEIGHTS:
            result.add(reason)
    if latest["intent"] == FRUSTRATED_INTENT:
        result.add("frustrated_intent")
    earlier = turns[:-1]
    if latest["intent"] == FALLBACK_INTENT and earlier and (
        FALLBACK_ACTION in earlier[-1]["bot_actions"]
        or earlier[-1]["intent"] == FALLBACK_INTENT
    ):
        result.add("repeated_fallback")
    if any(is_same_question(latest["text"], t["text"]) for t in earlier):
        result.add("repeated_question")
    return result
