"""Custom actions of the handoff: offer, escalate, relay, return.

They follow rasa-sdk: ``name()`` is the domain name, ``run`` is async and
returns events, every text is a domain response, no state on ``self``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handoff_connector.common.relay import (
    clean_text,
    message_id,
    typed_by_user,
    user_messages_during,
)
from handoff_connector.common.wording import wait_phrase
from handoff_connector.rasa.client import ConnectorClient, ConnectorRejected, ConnectorUnavailable
from handoff_connector.rasa.context import build_context
from handoff_connector.rasa.frustration import FRUSTRATED_INTENT, assess
from handoff_connector.rasa.settings import load_settings

logger = logging.getLogger(__name__)


OFFER_SLOT = "handoff_offer"
REASONS_SLOT = "handoff_reasons"
PENDING_SLOT = "handoff_pending"
HANDOFF_SLOTS = ("handoff_id", "handoff_team", OFFER_SLOT, REASONS_SLOT, PENDING_SLOT)
CANT_HELP = "cant_help"
FRUSTRATION = "frustration"


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


class ActionHandleFallback(Action):
    """Asks the user to rephrase (NLU fallback, and Rasa's core fallback).

    The offer of a person after several such turns is CantHelpPolicy's.
    """

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []


class ActionHandoffOffer(Action):
    """Offers a person; the answer is handled by rules.

    CantHelpPolicy has already set why (``cant_help`` and its reason codes);
    otherwise the offer is for a frustrated message.
    """

    def name(self) -> Text:
        return "action_handoff_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_offer")
        if tracker.get_slot(OFFER_SLOT) == CANT_HELP and _latest_intent(tracker) != FRUSTRATED_INTENT:
            return []
        reasons = list(assess(tracker.events).reasons) or ["frustration_signals"]
        return [SlotSet(OFFER_SLOT, FRUSTRATION), SlotSet(REASONS_SLOT, reasons)]


class ActionHandoffDecline(Action):
    """The user would rather carry on with the bot."""

    def name(self) -> Text:
        return "action_handoff_decline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_declined")
        return [SlotSet(OFFER_SLOT, None), SlotSet(REASONS_SLOT, None)]


def detect_trigger(tracker: Tracker) -> Tuple[str, List[str]]:
    """Which trigger led here, with its reason codes."""
    offered = tracker.get_slot(OFFER_SLOT)
    if _latest_intent(tracker) == "human_handoff":
        return "explicit", ["explicit_request"]
    if _latest_intent(tracker) == "request_callback":
        return "explicit", ["callback_request"]
    if offered in (CANT_HELP, FRUSTRATION):
        reasons = list(tracker.get_slot(REASONS_SLOT) or [])
        return offered, [*reasons, "offer_accepted"]
    # FrustrationPolicy escalated at once: the signals of this message.
    return FRUSTRATION, list(assess(tracker.events).reasons) or ["frustration_signals"]


class ActionHandoffRequest(Action):
    """Packages the context, asks the connector for a person, tells the user."""

    def name(self) -> Text:
        return "action_handoff_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        settings = load_settings()
        if tracker.get_slot("handoff_id"):
            team = tracker.get_slot("handoff_team") or "team"
            dispatcher.utter_message(response="utter_handoff_already_open", team=team)
            return []
        trigger, reasons = detect_trigger(tracker)
        user_event = _latest_user_event(tracker)
        context = build_context(
            sender_id=tracker.sender_id,
            events=tracker.events,
            slots=tracker.current_slot_values(),
            trigger=trigger,
            frustration=assess(tracker.events),
            reasons=reasons,
            channel=tracker.get_latest_input_channel(),
            recent_limit=settings.recent_intents,
        )
        # The triggering message identifies this request: a retried action run
        # sends the same key, and the connector returns the same handoff.
        key = f"{tracker.sender_id}:{user_event.get('message_id') or len(tracker.events)}"
        try:
            handoff = await ConnectorClient(settings).create_handoff(key, context)
        except (ConnectorUnavailable, ConnectorRejected) as error:
            logger.warning("handoff.request.failed: %s", error)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet(OFFER_SLOT, None), SlotSet(REASONS_SLOT, None)]
        team = handoff.get("team") or "team"
        if handoff.get("agents_available", True) or handoff.get("agent_id"):
            dispatcher.utter_message(
                response="utter_handoff_queued", team=team, position=handoff.get("position", 1),
                wait=wait_phrase(handoff.get("estimated_wait_minutes")),
            )
            return [SlotSet("handoff_id", handoff["id"]), SlotSet("handoff_team", team),
                    SlotSet(OFFER_SLOT, None), SlotSet(REASONS_SLOT, None)]
        # Nobody can take it now: the user chooses (the handoff's rules).
        if handoff.get("open_now", True):
            dispatcher.utter_message(response="utter_handoff_no_agent", team=team,
                                     position=handoff.get("position", 1))
        else:
            dispatcher.utter_message(response="utter_handoff_closed_hours", team=team,
                                     opens=handoff.get("opens_text") or "soon")
        return [SlotSet(PENDING_SLOT, handoff["id"]), SlotSet("handoff_team", team),
                SlotSet(OFFER_SLOT, None), SlotSet(REASONS_SLOT, None)]


EARLIER_LIMIT = 20  # earlier messages sent along with each relay (the connector drops known ones)


class ActionHandoffRelay(Action):
    """Sends the user's latest message to the person; the bot says nothing.

    The user's earlier messages of this handoff go along: any that did not
    arrive (the action server or the connector was down when they were sent)
    reach the person now, before this one, marked late. The connector also
    recovers them from Rasa's tracker by itself when it comes back.
    """

    def name(self) -> Text:
        return "action_handoff_relay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        handoff_id = tracker.get_slot("handoff_id")
        event = _latest_user_event(tracker)
        if not handoff_id or not event:
            return []
        said = user_messages_during(tracker.sender_id, tracker.events, handoff_id)
        latest = message_id(tracker.sender_id, event)
        payload = {
            "message_id": latest,
            "text": clean_text(event.get("text") or ""),  # what the user typed, storable as typed
            "timestamp": event.get("timestamp"),
            "channel": event.get("input_channel"),
            "intent": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
            "earlier": [m for m in said if m["message_id"] != latest][-EARLIER_LIMIT:],
        }
        try:
            answer = await ConnectorClient(load_settings()).relay_message(handoff_id, payload)
            if answer.get("cancelled"):  # "never mind" while waiting
                dispatcher.utter_message(response="utter_handoff_cancelled")
                return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]
        except ConnectorRejected as error:
            if error.status in (404, 409):  # the handoff has ended meanwhile
                logger.info("handoff.relay.not_open: %s", error)
                dispatcher.utter_message(response="utter_handoff_not_open")
                return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]
            logger.warning("handoff.relay.rejected: %s", error)
            dispatcher.utter_message(response="utter_handoff_relay_failed")
        except ConnectorUnavailable as error:
            logger.warning("handoff.relay.failed: %s", error)
            dispatcher.utter_message(response="utter_handoff_relay_failed")
        return []


class ActionHandoffWait(Action):
    """Nobody was free, and the user chose to wait in line."""

    def name(self) -> Text:
        return "action_handoff_wait"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        pending = tracker.get_slot(PENDING_SLOT)
        if not pending:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        dispatcher.utter_message(response="utter_handoff_wait", team=tracker.get_slot("handoff_team") or "team")
        return [SlotSet("handoff_id", pending), SlotSet(PENDING_SLOT, None)]


class ActionHandoffCancel(Action):
    """Nobody was free, and the user would rather carry on with the bot."""

    def name(self) -> Text:
        return "action_handoff_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        pending = tracker.get_slot(PENDING_SLOT)
        if pending:
            try:
                await ConnectorClient(load_settings()).cancel(pending)
            except (ConnectorUnavailable, ConnectorRejected) as error:
                # The connector's housekeeping ends it as abandoned later.
                logger.warning("handoff.cancel.failed: %s", error)
        dispatcher.utter_message(response="utter_handoff_declined")
        return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]


class ActionHandoffEnded(Action):
    """The handoff ended without the person closing it (the user went silent)."""

    def name(self) -> Text:
        return "action_handoff_ended"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if typed_by_user(tracker.latest_message):
            return []  # typed by the user: only the connector ends a handoff
        if tracker.get_slot("handoff_id"):
            dispatcher.utter_message(response="utter_handoff_abandoned")
        return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]


class ActionSessionStart(Action):
    """A new Rasa session must not hand an open handoff back to the bot.

    Does what Rasa's default does (carry the slots over), then asks the
    connector whether this conversation has an open handoff and restores it,
    or clears a stale one.
    """

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        carry_over = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
        if carry_over:
            events += [SlotSet(k, v) for k, v in tracker.current_slot_values().items() if v is not None]
        try:
            handoff = await ConnectorClient(load_settings()).open_handoff(tracker.sender_id)
        except (ConnectorUnavailable, ConnectorRejected) as error:
            logger.warning("handoff.session_start.unknown: %s", error)
            handoff = {"id": tracker.get_slot("handoff_id")} if tracker.get_slot("handoff_id") else None
        if handoff:
            events += [SlotSet("handoff_id", handoff["id"])]
            if handoff.get("team"):
                events += [SlotSet("handoff_team", handoff["team"])]
        else:
            events += [SlotSet(slot, None) for slot in HANDOFF_SLOTS]
        return events + [ActionExecuted("action_listen")]


def closed_handoff(tracker: Tracker) -> Optional[str]:
    """The handoff the connector ended: named in its intent (``handoff_id`` entity).

    The slot may already be empty (a message racing the close was refused and
    cleared it), so the intent's own word comes first.
    """
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "handoff_id" and entity.get("value"):
            return str(entity["value"])
    return tracker.get_slot("handoff_id")


class ActionHandoffReturn(Action):
    """The person closed the handoff: clear its state and welcome the user back."""

    def name(self) -> Text:
        return "action_handoff_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if typed_by_user(tracker.latest_message):
            return []  # typed by the user: only the connector ends a handoff
        handoff_id = closed_handoff(tracker)
        dispatcher.utter_message(response="utter_handoff_returned")
        return [SlotSet(slot, None) for slot in HANDOFF_SLOTS] + [
            SlotSet("survey_handoff_id", handoff_id),
            SlotSet("survey_rating", None),
            SlotSet("survey_comment", None),
        ]
