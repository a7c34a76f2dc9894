"""What the user said during a handoff, read from Rasa's tracker events.

Plain Python over the events as Rasa's HTTP API and rasa-sdk give them (dicts).
The relay action and the connector's reconciliation read the same messages
with the same ids, so a message relayed twice, or once by each, is stored once.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

HANDOFF_SLOT = "handoff_id"


def clean_text(text: str) -> str:
    """The text as valid Unicode: a lone surrogate (which no store can keep) becomes U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def message_id(sender_id: str, event: Dict[str, Any]) -> str:
    """The stable id of a user message: Rasa's own, else sender and timestamp."""
    return str(event.get("message_id") or f"{sender_id}:{event.get('timestamp')}")


def triggered_by_connector(event: Dict[str, Any]) -> bool:
    """An intent the connector triggered (Rasa marks ``trigger_intent``'s messages)."""
    return bool((event.get("metadata") or {}).get("is_external"))


def typed_by_user(message: Dict[str, Any]) -> bool:
    """Rasa's slash syntax ("/EXTERNAL_handoff_closed"): the user's words, whatever intent they name."""
    return str(message.get("text") or "").lstrip().startswith("/")


def user_messages_during(sender_id: str, events: Iterable[Dict[str, Any]], handoff_id: str) -> List[Dict[str, Any]]:
    """The user's messages while the ``handoff_id`` slot held this handoff, oldest first.

    The message that started the handoff came before the slot was set (it is in
    the handoff's context); intents the connector triggered are not the user's.
    """
    found: List[Dict[str, Any]] = []
    during = False
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == HANDOFF_SLOT:
            during = event.get("value") == handoff_id
        elif kind in ("restart", "reset_slots", "session_started"):
            during = False  # a session start sets the slot again if the handoff is still open
        elif kind == "user" and during and not triggered_by_connector(event):
            found.append({
                "message_id": message_id(sender_id, event),
                "text": clean_text(event.get("text") or ""),
                "timestamp": event.get("timestamp"),
                "intent": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
            })
    return found
