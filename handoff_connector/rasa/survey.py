"""The satisfaction survey after a handoff: a form (rating 1-5, optional comment)."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from handoff_connector.common.contact import normalise_contact
from handoff_connector.rasa.client import ConnectorClient, ConnectorRejected, ConnectorUnavailable
from handoff_connector.rasa.settings import load_settings

logger = logging.getLogger(__name__)

SKIPPED = "skipped"
_SKIP_WORDS = {
    "skip", "skip it", "skip this", "no", "nope", "no thanks", "no comment", "none",
    "nothing", "pass", "n/a", "na", "no thank you", "nothing to add",
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def _is_skip(tracker: Tracker, text: str) -> bool:
    """A skip: one of the skip phrases, or a short answer classified as `skip`.

    A longer answer is a comment even if the classifier calls it a skip.
    """
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    words = text.strip().lower().rstrip(".!")
    return words in _SKIP_WORDS or (intent == "skip" and len(words.split()) <= 3)


# Words around a rating that leave it a rating ("I'd give it a 4", "5 stars").
_AROUND_A_RATING = {
    "i", "i'd", "id", "would", "say", "give", "gave", "it", "them", "you", "a", "an", "the", "help",
    "rate", "rating", "my", "is", "maybe", "probably", "about", "around", "star", "stars", "point",
    "points", "solid", "definitely", "honestly", "hmm", "um", "ok", "okay", "well", "so", "that's",
    "thats", "its", "it's", "just", "overall",
}


def parse_rating(text: str) -> Optional[int]:
    """A clear 1-5 rating ("4", "4 stars", "4/5", "five", "I'd say 3"), else None.

    Only a rating and the words around one: "I need 2 more minutes" (typed to
    the person before the survey appeared) is not a rating of 2.
    """
    lowered = re.sub(r"\b([1-5])\s*/\s*5\b", r"\1", text.lower())
    lowered = re.sub(r"\bout of (5|five)\b", " ", lowered)
    words = re.findall(r"[a-z']+|\d+(?:[.,]\d+)?", lowered)
    numbers = [w for w in words if w.isdigit() or w in _NUMBER_WORDS]
    if len(numbers) != 1 or any(w not in _AROUND_A_RATING for w in words if w not in numbers):
        return None
    value = _NUMBER_WORDS.get(numbers[0]) or int(numbers[0])
    return value if 1 <= value <= 5 else None


class ValidateSurveyForm(FormValidationAction):
    """Validates the survey answers; "skip" at the rating ends the survey."""

    def name(self) -> Text:
        return "validate_survey_form"

    async def validate_survey_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # cleared, not answered: the form will ask
            return {"survey_rating": None}
        text = str(value)
        if _is_skip(tracker, text):
            return {"survey_rating": SKIPPED, "survey_comment": SKIPPED}
        rating = parse_rating(text)
        if rating is None:
            dispatcher.utter_message(response="utter_survey_invalid_rating")
            return {"survey_rating": None}
        return {"survey_rating": str(rating)}

    async def validate_survey_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:  # cleared, not answered: the form will ask
            return {"survey_comment": None}
        text = str(value).strip()
        if tracker.get_slot("survey_rating") == SKIPPED:
            return {"survey_comment": SKIPPED}
        return {"survey_comment": "" if _is_skip(tracker, text) else text[:2000]}


class ActionSurveySubmit(Action):
    """Sends the answers to the connector and thanks the user."""

    def name(self) -> Text:
        return "action_survey_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        handoff_id = tracker.get_slot("survey_handoff_id")
        rating = tracker.get_slot("survey_rating")
        skipped = rating in (None, SKIPPED)
        payload = {
            "rating": None if skipped else int(rating),
            "comment": None if skipped else (tracker.get_slot("survey_comment") or None),
            "skipped": skipped,
        }
        if handoff_id:
            try:
                await ConnectorClient(load_settings()).submit_survey(handoff_id, payload)
            except (ConnectorUnavailable, ConnectorRejected) as error:
                # The user already answered; losing the answer must not cost them a reply.
                logger.warning("handoff.survey.failed: %s", error)
        dispatcher.utter_message(response="utter_survey_skipped" if skipped else "utter_survey_thanks")
        return fresh_session(tracker, domain)


SURVEY_SLOTS = ("survey_handoff_id", "survey_rating", "survey_comment", "requested_slot")


def fresh_session(tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
    """Starts a new Rasa session after the survey, keeping the slots as a session start does.

    The bot's own stories and rules never saw a handoff in their history, so
    without this the first message after it ("hello") can fall into the
    fallback; in a fresh session the bot answers it as it always did. Rasa
    listens next (a session start sets that as the follow-up action).
    """
    events: List[EventType] = [SlotSet(slot, None) for slot in SURVEY_SLOTS[:3]] + [SessionStarted()]
    carry_over = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
    if carry_over:
        events += [SlotSet(name, value) for name, value in tracker.current_slot_values().items()
                   if value is not None and name not in SURVEY_SLOTS]
    return events


class ValidateCallbackForm(FormValidationAction):
    """A phone number or an email address, checked before it is passed on."""

    def name(self) -> Text:
        return "validate_callback_form"

    async def validate_callback_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"callback_contact": None}
        found = normalise_contact(str(value))
        if found is None:
            dispatcher.utter_message(response="utter_callback_invalid")
            return {"callback_contact": None}
        return {"callback_contact": found[1]}


class ActionCallbackSubmit(Action):
    """Turns the waiting handoff into a follow-up the team will call back."""

    def name(self) -> Text:
        return "action_callback_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        pending, contact = tracker.get_slot("handoff_pending"), tracker.get_slot("callback_contact")
        team = tracker.get_slot("handoff_team") or "team"
        try:
            if not (pending and contact):
                raise ConnectorRejected(400, "no waiting handoff or no contact")
            await ConnectorClient(load_settings()).request_callback(pending, contact)
        except (ConnectorUnavailable, ConnectorRejected) as error:
            logger.warning("handoff.callback.failed: %s", error)
            dispatcher.utter_message(response="utter_callback_failed")
            return [SlotSet("callback_contact", None)]
        dispatcher.utter_message(response="utter_callback_confirmed", team=team, contact=contact)
        return [SlotSet("callback_contact", None), SlotSet("handoff_pending", None),
                SlotSet("handoff_team", None)]
