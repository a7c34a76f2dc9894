"""Packages a conversation for the person who takes it over.

Plain Python over rasa-sdk tracker data, so it is easy to test.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

from handoff_connector.common.wording import iso_utc
from handoff_connector.rasa.frustration import Assessment

# Slots that describe the handoff itself, not the user's situation.
INTERNAL_SLOTS = {
    "handoff_id", "handoff_team", "survey_handoff_id", "survey_rating",
    "survey_comment", "requested_slot", "handoff_offer", "handoff_reasons", "handoff_pending", "callback_contact",
}


class TranscriptEntry(TypedDict):
    role: str  # "user" | "bot"
    text: str
    timestamp: str  # ISO 8601, UTC
    intent: Optional[str]
    confidence: Optional[float]


def transcript(events: List[Dict[str, Any]]) -> List[TranscriptEntry]:
    """Who said what and when, oldest first (user and bot turns only)."""
    entries: List[TranscriptEntry] = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if kind == "user" and str(intent.get("name", "")).startswith("EXTERNAL_"):
            continue
        entries.append(
            {
                "role": kind,
                "text": event["text"],
                "timestamp": iso_utc(event.get("timestamp")),
                "intent": intent.get("name") if kind == "user" else None,
                "confidence": intent.get("confidence") if kind == "user" else None,
            }
        )
    return entries


def recent_intents(events: List[Dict[str, Any]], limit: int) -> List[Dict[str, Any]]:
    """The last ``limit`` user messages' intents with confidences, newest last."""
    found = [
        {
            "text": e.get("text"),
            "intent": ((e.get("parse_data") or {}).get("intent") or {}).get("name"),
            "confidence": ((e.get("parse_data") or {}).get("intent") or {}).get("confidence"),
            "timestamp": iso_utc(e.get("timestamp")),
        }
        for e in events
        if e.get("event") == "user" and e.get("text")
    ]
    return found[-limit:]


def build_context(
    *,
    sender_id: str,
    events: List[Dict[str, Any]],
    slots: Dict[str, Any],
    trigger: str,
    frustration: Assessment,
    reasons: List[str],
    channel: Optional[str],
    recent_limit: int,
    language: str = "en",
) -> Dict[str, Any]:
    """Everything the agent needs to continue without asking again."""
    user_slots = {
        k: v for k, v in slots.items() if k not in INTERNAL_SLOTS and v is not None
    }
    return {
        "sender_id": sender_id,
        "channel": channel,
        "language": language,
        "trigger": trigger,
        "reasons": reasons,
        "frustration": frustration.as_dict(),
        "slots": user_slots,
        "recent_intents": recent_intents(events, recent_limit),
        "transcript": transcript(events),
    }
