"""Rasa's events, folded into one summary per bot conversation.

Rasa publishes every tracker event to its event broker as the event's own JSON
(``Event.as_dict()``) plus ``sender_id`` (``TrackerStore._stream_new_events``).
A conversation is one Rasa session of one sender: it begins at
``session_started`` (or ``restart``, or the sender's first event). The fold
counts the user's turns, keeps the last few intents and actions, and notes the
first handoff: the turn it came at, the path into it, the bot's response just
before it, and why (the connector's own handoff row says the trigger, its
reasons and the queue; without one, the events do, as ``detect_trigger`` in the
handoff actions decides). Offers of a person, and the answers, are counted by
the trigger that made them.

Pure functions over plain dicts: the store runs them inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

PATH_STEPS = 6  # intents and actions kept before a handoff
REQUEST_ACTION = "action_handoff_request"
OFFER_ACTION = "action_handoff_offer"
DECLINE_ACTION = "action_handoff_decline"
HANDOFF_SLOTS = ("handoff_id", "handoff_pending")  # set by the request action to the new handoff's id
OFFER_KINDS = ("frustration", "cant_help")
EXPLICIT_INTENTS = {"human_handoff": "explicit_request", "request_callback": "callback_request"}
# Bookkeeping, not the dialogue a designer writes: left out of the paths.
UNSEEN_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots", "action_handoff_relay",
                  REQUEST_ACTION}
MAX_RESPONSE = 200


def new_conversation(sender_id: str, started_at: float) -> Dict[str, Any]:
    """A conversation's row before its first event is folded in (no id yet)."""
    when = dt.datetime.fromtimestamp(started_at, dt.timezone.utc)
    return {
        "id": None, "sender_id": sender_id, "channel": None, "started_at": started_at,
        "last_event_at": started_at, "day": when.strftime("%Y-%m-%d"), "hour": when.hour, "turns": 0,
        "fold": {"steps": [], "last_response": None, "response_text": None, "offer": None,
                 "offer_slot": None, "reasons_slot": None, "requesting": None, "last_intent": None},
        "handoff_id": None, "handoff_turn": None, "handoff_at": None, "trigger": None, "reasons": None,
        "queue": None, "path": None, "path_key": None, "response_before": None, "handoffs": 0,
        **{f"{count}_{kind}": 0 for count in ("offers", "accepted", "declined") for kind in OFFER_KINDS},
    }


def starts_conversation(current: Optional[Dict[str, Any]], event: Dict[str, Any]) -> bool:
    """Whether ``event`` begins a new conversation for its sender.

    A session that never reached the user (no turn, no handoff) is reused, so the
    session start Rasa runs before the first message makes one conversation, not two.
    """
    if current is None:
        return True
    if event.get("event") not in ("session_started", "restart"):
        return False
    return bool(current["turns"] or current["handoff_id"])


def fold(conversation: Dict[str, Any], event: Dict[str, Any]) -> Optional[str]:
    """Folds one event into ``conversation`` (in place).

    Returns the id of a handoff that has just begun, as the first of this
    conversation, so that the caller can settle its trigger from the handoff's
    row (``settle_handoff``); otherwise None.
    """
    kind = event.get("event")
    timestamp = _number(event.get("timestamp"))
    if timestamp is not None:
        conversation["last_event_at"] = max(conversation["last_event_at"], timestamp)
    if kind == "session_started" and not conversation["turns"] and timestamp is not None:
        _restart_at(conversation, timestamp)
    if kind == "user":
        _user(conversation, event)
    elif kind == "action":
        _action(conversation, str(event.get("name") or ""))
    elif kind == "bot":
        _bot(conversation, event)
    elif kind == "slot":
        return _slot(conversation, str(event.get("name") or ""), event.get("value"), timestamp)
    return None


def settle_handoff(conversation: Dict[str, Any], handoff: Optional[Dict[str, Any]]) -> None:
    """The connector's word on why, where it has the handoff (the events' guess otherwise)."""
    if handoff is None:
        return
    conversation["trigger"] = handoff["trigger"]
    conversation["reasons"] = list(handoff["reasons"] or [])
    conversation["queue"] = handoff["queue"]
    conversation["channel"] = conversation["channel"] or handoff.get("channel")


def path_key(path: List[Dict[str, str]]) -> str:
    """One text per path, for grouping: ``intent:greet > utter_greet > ...``."""
    return " > ".join(f"intent:{step['name']}" if step["kind"] == "intent" else step["name"] for step in path)


def _restart_at(conversation: Dict[str, Any], timestamp: float) -> None:
    fresh = new_conversation(conversation["sender_id"], timestamp)
    for key in ("started_at", "last_event_at", "day", "hour"):
        conversation[key] = fresh[key]


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _escalated(conversation: Dict[str, Any]) -> bool:
    return conversation["handoff_id"] is not None


def _step(conversation: Dict[str, Any], kind: str, name: str) -> None:
    if _escalated(conversation) or not name:
        return
    steps = conversation["fold"]["steps"]
    steps.append({"kind": kind, "name": name})
    del steps[:-PATH_STEPS]


def _user(conversation: Dict[str, Any], event: Dict[str, Any]) -> None:
    intent = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
    text = str(event.get("text") or "")
    if intent.startswith("EXTERNAL_") and not text.lstrip().startswith("/"):
        return  # the connector's trigger_intent (a handoff closed, abandoned), not the user
    conversation["turns"] += 1
    conversation["channel"] = conversation["channel"] or event.get("input_channel")
    conversation["fold"]["last_intent"] = intent or None
    _step(conversation, "intent", intent)


def _action(conversation: Dict[str, Any], name: str) -> None:
    state = conversation["fold"]
    state["requesting"] = None
    offer = state["offer"]
    if offer is not None:
        offer["fresh"] = False
        if name in (REQUEST_ACTION, DECLINE_ACTION) and conversation["turns"] == offer["turn"] + 1:
            outcome = "accepted" if name == REQUEST_ACTION else "declined"
            conversation[f"{outcome}_{offer['kind']}"] += 1
            if name == REQUEST_ACTION:
                state["requesting"] = {"trigger": offer["kind"],
                                       "reasons": [*(state["reasons_slot"] or []), "offer_accepted"]}
            state["offer"] = None
        elif name not in ("action_listen", "action_extract_slots") and conversation["turns"] > offer["turn"] + 1:
            state["offer"] = None  # not answered: the user went on to something else
    if name == REQUEST_ACTION and state["requesting"] is None:
        state["requesting"] = _trigger_of_request(state)
    if name == OFFER_ACTION:
        kind = state["offer_slot"] if state["offer_slot"] in OFFER_KINDS else "frustration"
        state["offer"] = {"kind": kind, "turn": conversation["turns"], "fresh": True}
        conversation[f"offers_{kind}"] += 1
    if name not in UNSEEN_ACTIONS:
        _step(conversation, "action", name)


def _trigger_of_request(state: Dict[str, Any]) -> Dict[str, Any]:
    """As the request action decides: an explicit request, else frustration at once."""
    reason = EXPLICIT_INTENTS.get(state["last_intent"] or "")
    if reason:
        return {"trigger": "explicit", "reasons": [reason]}
    return {"trigger": "frustration", "reasons": []}


def _bot(conversation: Dict[str, Any], event: Dict[str, Any]) -> None:
    if _escalated(conversation):
        return  # the agents' messages and what follows the first handoff
    name = str((event.get("metadata") or {}).get("utter_action") or "")
    if name.startswith("utter_handoff_"):
        return  # the offer itself: the response before it is the one that matters
    text = str(event.get("text") or "")[:MAX_RESPONSE]
    if name or text:
        conversation["fold"]["last_response"] = name or text
        conversation["fold"]["response_text"] = text or None


def _slot(conversation: Dict[str, Any], name: str, value: Any, timestamp: Optional[float]) -> Optional[str]:
    state = conversation["fold"]
    if name == "handoff_offer":
        state["offer_slot"] = value if isinstance(value, str) else None
        offer = state["offer"]
        # The offer action itself says why it offered (a frustrated message): recount it there.
        if offer is not None and offer["fresh"] and value in OFFER_KINDS and value != offer["kind"]:
            conversation[f"offers_{offer['kind']}"] -= 1
            conversation[f"offers_{value}"] += 1
            offer["kind"] = value
    elif name == "handoff_reasons":
        state["reasons_slot"] = [str(v) for v in value] if isinstance(value, list) else None
    elif name in HANDOFF_SLOTS and value and state["requesting"] is not None:
        requesting, state["requesting"] = state["requesting"], None
        conversation["handoffs"] += 1
        if _escalated(conversation):
            return None
        conversation.update(
            handoff_id=str(value), handoff_turn=conversation["turns"],
            handoff_at=timestamp if timestamp is not None else conversation["last_event_at"],
            trigger=requesting["trigger"], reasons=requesting["reasons"], path=list(state["steps"]),
            path_key=path_key(state["steps"]), response_before=state["last_response"])
        return str(value)
    return None
