"""Handoff actions against the real connector, a process in its own environment, on a local port."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handoff_connector.common.wording import wait_phrase
from handoff_connector.rasa import actions, survey
from handoff_connector.rasa.settings import HandoffSettings
from stack import free_port
from tests.connector_process import ConnectorProcess

SLOTS = {"topic": "housing", "handoff_id": None, "handoff_team": None, "handoff_offer": None,
         "handoff_reasons": None, "handoff_pending": None, "callback_contact": None,
         "survey_handoff_id": None, "survey_rating": None, "survey_comment": None}


def user(text: str, intent: str, message_id: str, ts: float = 1.0, **parse: Any) -> Dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": ts, "message_id": message_id,
            "input_channel": "callback",
            "parse_data": {"intent": {"name": intent, "confidence": 0.91}, **parse}}


def bot(text: str, ts: float = 1.5) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": ts}


def act(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def make_tracker(events: List[Dict[str, Any]], **slots: Any) -> Tracker:
    latest = next((e["parse_data"] | {"text": e["text"]} for e in reversed(events) if e["event"] == "user"), {})
    return Tracker("user-7", {**SLOTS, **slots}, latest, events, False, None, {}, "action_listen")


def texts(dispatcher: CollectingDispatcher) -> List[Optional[str]]:
    return [m.get("response") for m in dispatcher.messages]


async def fetch_detail(server: ConnectorProcess, handoff_id: str) -> Dict[str, Any]:
    """What an agent sees of a handoff, through the agent API."""
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url(f"/api/v1/handoffs/{handoff_id}"),
                               headers={"Authorization": "Bearer t-sarah"}) as response:
            assert response.status == 200
            return await response.json()


async def as_sarah(server: ConnectorProcess, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An agent's POST through the agent API."""
    async with aiohttp.ClientSession() as session:
        async with session.post(server.make_url(path), json=body,
                                headers={"Authorization": "Bearer t-sarah"}) as response:
            assert response.status == 200, await response.text()
            return await response.json()


@pytest.fixture
async def connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    server = await ConnectorProcess(tmp_path).__aenter__()
    async with aiohttp.ClientSession() as session:
        async with session.put(server.make_url("/api/v1/me/presence"), json={"status": "online"},
                               headers={"Authorization": "Bearer t-sarah"}) as response:
            assert response.status == 200
    settings = HandoffSettings(connector_url=server.url,
                               bot_secret="test-secret", timeout=2)
    for module in (actions, survey):
        monkeypatch.setattr(module, "load_settings", lambda: settings)
    yield server
    await server.__aexit__()


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = HandoffSettings(connector_url=f"http://127.0.0.1:{free_port()}", bot_secret="x", timeout=1)
    for module in (actions, survey):
        monkeypatch.setattr(module, "load_settings", lambda: settings)


HOUSING_THEN_PERSON = [
    act("action_listen"), user("I got an eviction notice", "ask_housing_help", "m1", 10.0),
    act("utter_housing_help"), bot("Here is where to start with housing", 10.5),
    act("action_listen"), user("can I talk to a human", "human_handoff", "m2", 20.0),
]


async def test_request_packages_context_and_tells_the_user(connector: ConnectorProcess) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffRequest().run(dispatcher, make_tracker(HOUSING_THEN_PERSON), {})
    slots = {e["name"]: e["value"] for e in events}
    assert slots["handoff_team"] == "Housing Help team" and slots["handoff_id"]
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert dispatcher.messages[0]["team"] == "Housing Help team" and dispatcher.messages[0]["position"] == 1
    detail = await fetch_detail(connector, slots["handoff_id"])
    context = detail["context"]
    assert (detail["trigger"], detail["reasons"]) == ("explicit", ["explicit_request"])
    assert [(t["role"], t["text"]) for t in context["transcript"]] == [
        ("user", "I got an eviction notice"), ("bot", "Here is where to start with housing"),
        ("user", "can I talk to a human")]
    assert context["transcript"][0]["timestamp"] == "1970-01-01T00:00:10.000+00:00"
    assert context["slots"] == {"topic": "housing"}
    assert context["recent_intents"][-1] == {"text": "can I talk to a human", "intent": "human_handoff",
                                             "confidence": 0.91, "timestamp": "1970-01-01T00:00:20.000+00:00"}
    assert (context["sender_id"], context["channel"]) == ("user-7", "callback")


async def test_a_retried_request_returns_the_same_handoff(connector: ConnectorProcess) -> None:
    first = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    again = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    assert first[0]["value"] == again[0]["value"]


async def test_unreachable_connector_gets_a_clear_message_and_the_bot_carries_on(unreachable: None) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffRequest().run(dispatcher, make_tracker(HOUSING_THEN_PERSON), {})
    assert texts(dispatcher) == ["utter_handoff_unavailable"]
    assert all(e.get("value") is None for e in events)  # no handoff slot set


async def test_a_fallback_asks_to_rephrase() -> None:
    events = [act("action_listen"), user("blorp", "nlu_fallback", "f1")]
    dispatcher = CollectingDispatcher()
    assert await actions.ActionHandleFallback().run(dispatcher, make_tracker(events), {}) == []
    assert texts(dispatcher) == ["utter_ask_rephrase"]


async def test_accepting_a_cant_help_offer_keeps_the_policy_reasons() -> None:
    # CantHelpPolicy set the slots before the offer ran; the offer keeps them.
    reasons = ["nlu_fallback", "out_of_scope", "cant_help_turns:2"]
    events = [act("action_listen"), user("zzz", "nlu_fallback", "c1"), act("action_handle_fallback"),
              act("action_listen"), user("weather in paris", "out_of_scope", "c2")]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(events, handoff_offer="cant_help", handoff_reasons=reasons)
    assert await actions.ActionHandoffOffer().run(dispatcher, tracker, {}) == []
    assert texts(dispatcher) == ["utter_handoff_offer"]
    accepted = events + [act("action_handoff_offer"), act("action_listen"), user("yes", "affirm", "c3")]
    assert actions.detect_trigger(make_tracker(accepted, handoff_offer="cant_help", handoff_reasons=reasons)) == (
        "cant_help", [*reasons, "offer_accepted"])


async def test_declining_the_offer_clears_it() -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffDecline().run(dispatcher, make_tracker([], handoff_offer="cant_help"), {})
    assert texts(dispatcher) == ["utter_handoff_declined"]
    assert [(e["name"], e["value"]) for e in events] == [("handoff_offer", None), ("handoff_reasons", None)]


async def test_an_offer_for_frustration_records_its_reasons() -> None:
    events = [act("action_listen"), user("you don't understand me", "frustrated", "g1")]
    dispatcher = CollectingDispatcher()
    slots = await actions.ActionHandoffOffer().run(dispatcher, make_tracker(events), {})
    assert [(e["name"], e["value"]) for e in slots] == [
        ("handoff_offer", "frustration"), ("handoff_reasons", ["negative_feedback", "frustrated_intent"])]
    accepted = events + [act("action_handoff_offer"), act("action_listen"), user("yes", "affirm", "g2")]
    trigger, reasons = actions.detect_trigger(make_tracker(
        accepted, handoff_offer="frustration", handoff_reasons=["negative_feedback", "frustrated_intent"]))
    assert trigger == "frustration"
    assert reasons == ["negative_feedback", "frustrated_intent", "offer_accepted"]


async def test_asking_for_a_call_back_is_an_explicit_request() -> None:
    events = [act("action_listen"), user("can someone call me back", "request_callback", "r1")]
    assert actions.detect_trigger(make_tracker(events)) == ("explicit", ["callback_request"])


async def test_frustration_trigger_carries_reason_codes() -> None:
    events = [act("action_listen"), user("THIS IS USELESS!!! YOU ARE NOT HELPING", "frustrated", "x1")]
    trigger, reasons = actions.detect_trigger(make_tracker(events))
    assert trigger == "frustration"
    assert set(reasons) == {"insult", "negative_feedback", "all_caps", "repeated_punctuation", "frustrated_intent"}


async def test_relay_sends_each_message_once(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    during = HOUSING_THEN_PERSON + [act("action_handoff_request"), act("action_listen"),
                                    user("it's 800 dollars", "inform", "m3", 30.0)]
    for _ in range(2):  # Rasa retrying the same action run
        dispatcher = CollectingDispatcher()
        assert await actions.ActionHandoffRelay().run(dispatcher, make_tracker(during, handoff_id=handoff_id), {}) == []
        assert dispatcher.messages == []  # the bot stays silent
    detail = await fetch_detail(connector, handoff_id)
    assert [m["text"] for m in detail["messages"]] == ["it's 800 dollars"]


async def test_relay_brings_along_what_never_arrived_in_order_marked_late(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    # The action server was down for the first two: Rasa has them, the connector does not.
    during = HOUSING_THEN_PERSON + [
        act("action_handoff_request"), {"event": "slot", "name": "handoff_id", "value": handoff_id},
        act("action_listen"), user("hello?", "greet", "m3", 30.0),
        act("action_listen"), user("is anyone there", "inform", "m4", 31.0),
        act("action_listen"), user("it's 800 dollars", "inform", "m5", 32.0)]
    await actions.ActionHandoffRelay().run(CollectingDispatcher(), make_tracker(during, handoff_id=handoff_id), {})
    detail = await fetch_detail(connector, handoff_id)
    assert [(m["text"], m["late"]) for m in detail["messages"]] == [
        ("hello?", True), ("is anyone there", True), ("it's 800 dollars", False)]


async def test_relay_keeps_text_with_a_lone_surrogate_storable(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    during = HOUSING_THEN_PERSON + [act("action_handoff_request"), act("action_listen"),
                                    user("rent is \ud800 due", "inform", "m9", 30.0)]
    dispatcher = CollectingDispatcher()
    await actions.ActionHandoffRelay().run(dispatcher, make_tracker(during, handoff_id=handoff_id), {})
    assert dispatcher.messages == []  # stored, not "send it again" (which could never work)
    assert [m["text"] for m in (await fetch_detail(connector, handoff_id))["messages"]] == ["rent is \ufffd due"]


async def test_relay_to_a_closed_handoff_hands_back_to_the_bot(connector: ConnectorProcess) -> None:
    tracker = make_tracker(HOUSING_THEN_PERSON, handoff_id="does-not-exist")
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffRelay().run(dispatcher, tracker, {})
    assert texts(dispatcher) == ["utter_handoff_not_open"]
    assert {e["name"]: e["value"] for e in events}["handoff_id"] is None


async def test_relay_with_the_connector_down_tells_the_user(unreachable: None) -> None:
    dispatcher = CollectingDispatcher()
    await actions.ActionHandoffRelay().run(dispatcher, make_tracker(HOUSING_THEN_PERSON, handoff_id="h"), {})
    assert texts(dispatcher) == ["utter_handoff_relay_failed"]


def connector_intent(intent: str, handoff_id: str) -> Dict[str, Any]:
    """The user event Rasa's trigger_intent writes for the connector's intent."""
    return {"event": "user", "text": f"EXTERNAL: {intent}", "metadata": {"is_external": True},
            "parse_data": {"intent": {"name": intent}, "entities": [{"entity": "handoff_id", "value": handoff_id}],
                           "metadata": {"is_external": True}}}


def typed_intent(intent: str) -> Dict[str, Any]:
    """The same intent typed by the user in Rasa's slash syntax."""
    return {"event": "user", "text": f"/{intent}", "parse_data": {"intent": {"name": intent}, "entities": []}}


async def test_return_clears_the_handoff_and_keeps_the_id_for_the_survey() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([connector_intent("EXTERNAL_handoff_closed", "h1")], handoff_id="h1", handoff_team="T")
    events = await actions.ActionHandoffReturn().run(dispatcher, tracker, {})
    slots = {e["name"]: e["value"] for e in events}
    assert slots["handoff_id"] is None and slots["handoff_team"] is None
    assert slots["survey_handoff_id"] == "h1"
    assert texts(dispatcher) == ["utter_handoff_returned"]


async def test_the_survey_is_tied_to_the_closed_handoff_even_if_the_slot_was_cleared() -> None:
    # A message racing the close was refused (409) and cleared the slot first.
    tracker = make_tracker([connector_intent("EXTERNAL_handoff_closed", "h1")], handoff_id=None)
    events = await actions.ActionHandoffReturn().run(CollectingDispatcher(), tracker, {})
    assert {e["name"]: e["value"] for e in events}["survey_handoff_id"] == "h1"


@pytest.mark.parametrize("action", [actions.ActionHandoffReturn(), actions.ActionHandoffEnded()])
@pytest.mark.parametrize("intent", ["EXTERNAL_handoff_closed", "EXTERNAL_handoff_abandoned"])
async def test_a_typed_external_intent_ends_nothing(action: Any, intent: str) -> None:
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, make_tracker([typed_intent(intent)], handoff_id="h1"), {}) == []
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text, rating",
    [("5", 5), ("4 stars", 4), ("I'd say three", 3), ("1", 1), ("4/5", 4), ("I'd give it a 4", 4),
     ("great", None), ("6", None), ("3 or 4", None), ("I need 2 more minutes", None),
     ("give me 5 minutes", None), ("3.5", None)],
)
def test_parse_rating(text: str, rating: Optional[int]) -> None:
    assert survey.parse_rating(text) == rating


async def test_survey_validation_and_submit(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    form = survey.ValidateSurveyForm()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user("five", "nlu_fallback", "s1")])
    assert await form.validate_survey_rating("five", dispatcher, tracker, {}) == {"survey_rating": "5"}
    bad = await form.validate_survey_rating("great", dispatcher, tracker, {})
    assert bad == {"survey_rating": None} and texts(dispatcher) == ["utter_survey_invalid_rating"]
    # a cleared slot is not an answer: no complaint
    quiet = CollectingDispatcher()
    assert await form.validate_survey_rating(None, quiet, tracker, {}) == {"survey_rating": None}
    assert quiet.messages == []
    skip = make_tracker([user("skip", "skip", "s2")])
    assert await form.validate_survey_rating("skip", dispatcher, skip, {}) == {
        "survey_rating": "skipped", "survey_comment": "skipped"}
    assert await form.validate_survey_comment("no comment", dispatcher, make_tracker([user("no comment", "skip", "s3")], survey_rating="4"), {}) == {"survey_comment": ""}
    await as_sarah(connector, f"/api/v1/handoffs/{handoff_id}/claim")
    await as_sarah(connector, f"/api/v1/handoffs/{handoff_id}/close", {"resolution": "resolved"})
    done = make_tracker([], survey_handoff_id=handoff_id, survey_rating="5", survey_comment="Sarah was kind")
    dispatcher = CollectingDispatcher()
    events = await survey.ActionSurveySubmit().run(dispatcher, done, {})
    assert texts(dispatcher) == ["utter_survey_thanks"]
    # The survey is cleared, then a fresh session starts with the user's own
    # slots carried over, so the bot's stories apply again afterwards.
    assert [e["event"] for e in events[:4]] == ["slot", "slot", "slot", "session_started"]
    assert all(e["value"] is None for e in events[:3])
    assert {e["name"]: e["value"] for e in events[4:]} == {"topic": "housing"}
    stored = (await fetch_detail(connector, handoff_id))["survey"]
    assert (stored["rating"], stored["comment"], stored["skipped"]) == (5, "Sarah was kind", 0)


async def test_survey_submit_survives_an_unreachable_connector(unreachable: None) -> None:
    dispatcher = CollectingDispatcher()
    done = make_tracker([], survey_handoff_id="h", survey_rating="skipped", survey_comment="skipped")
    await survey.ActionSurveySubmit().run(dispatcher, done, {})
    assert texts(dispatcher) == ["utter_survey_skipped"]


async def test_never_mind_while_waiting_takes_the_user_back_to_the_bot(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    during = HOUSING_THEN_PERSON + [act("action_handoff_request"), act("action_listen"),
                                    user("never mind", "cancel_handoff", "m9", 40.0)]
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffRelay().run(dispatcher, make_tracker(during, handoff_id=handoff_id), {})
    assert texts(dispatcher) == ["utter_handoff_cancelled"]
    assert {e["name"]: e["value"] for e in events}["handoff_id"] is None
    assert (await fetch_detail(connector, handoff_id))["state"] == "cancelled"


async def test_session_start_restores_an_open_handoff(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    # The new session lost the slot (e.g. carry_over_slots_to_new_session: false).
    events = await actions.ActionSessionStart().run(
        CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {"session_config": {}})
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["handoff_id"] == handoff_id and slots["handoff_team"] == "Housing Help team"


async def test_session_start_clears_a_handoff_that_ended(connector: ConnectorProcess) -> None:
    events = await actions.ActionSessionStart().run(
        CollectingDispatcher(), make_tracker([], handoff_id="gone", topic="food"), {"session_config": {}})
    slots = [(e["name"], e["value"]) for e in events if e["event"] == "slot"]
    assert ("topic", "food") in slots  # carried over
    assert slots[-5:] == [("handoff_id", None), ("handoff_team", None), ("handoff_offer", None),
                          ("handoff_reasons", None), ("handoff_pending", None)]


async def test_session_start_keeps_the_handoff_if_the_connector_is_down(unreachable: None) -> None:
    events = await actions.ActionSessionStart().run(
        CollectingDispatcher(), make_tracker([], handoff_id="h1"), {"session_config": {}})
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["handoff_id"] == "h1"  # never hand back to the bot behind the agent's back


async def test_abandoned_handoff_ends_quietly() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([connector_intent("EXTERNAL_handoff_abandoned", "h1")], handoff_id="h1")
    events = await actions.ActionHandoffEnded().run(dispatcher, tracker, {})
    assert texts(dispatcher) == ["utter_handoff_abandoned"]
    assert all(e["value"] is None for e in events)


@pytest.mark.parametrize("minutes, phrase", [(None, ""), (1, " (about 1 minute)"), (7, " (about 7 minutes)")])
def test_wait_phrase(minutes: Optional[int], phrase: str) -> None:
    assert wait_phrase(minutes) == phrase


async def test_nobody_free_offers_the_choices_and_keeps_the_handoff_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await ConnectorProcess(tmp_path).__aenter__()  # nobody online
    settings = HandoffSettings(connector_url=server.url, bot_secret="test-secret")
    for module in (actions, survey):
        monkeypatch.setattr(module, "load_settings", lambda: settings)
    try:
        dispatcher = CollectingDispatcher()
        events = await actions.ActionHandoffRequest().run(dispatcher, make_tracker(HOUSING_THEN_PERSON), {})
        slots = {e["name"]: e["value"] for e in events}
        assert texts(dispatcher) == ["utter_handoff_no_agent"]
        assert slots["handoff_pending"] and "handoff_id" not in slots
        pending = slots["handoff_pending"]
        # The user leaves a number: the handoff becomes a follow-up.
        form = survey.ValidateCallbackForm()
        checker = CollectingDispatcher()
        assert await form.validate_callback_contact("soon", checker, make_tracker([]), {}) == {"callback_contact": None}
        assert texts(checker) == ["utter_callback_invalid"]
        assert await form.validate_callback_contact("555-010-0199", checker, make_tracker([]), {}) == {
            "callback_contact": "555-010-0199"}
        dispatcher = CollectingDispatcher()
        done = make_tracker([], handoff_pending=pending, callback_contact="555-010-0199",
                            handoff_team="Housing Help team")
        await survey.ActionCallbackSubmit().run(dispatcher, done, {})
        assert dispatcher.messages[0]["response"] == "utter_callback_confirmed"
        assert dispatcher.messages[0]["contact"] == "555-010-0199"
        assert (await fetch_detail(server, pending))["state"] == "no_agent"
    finally:
        await server.__aexit__()


async def test_waiting_anyway_opens_the_handoff(connector: ConnectorProcess) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionHandoffWait().run(
        dispatcher, make_tracker([], handoff_pending="h9", handoff_team="Food team"), {})
    assert {e["name"]: e["value"] for e in events} == {"handoff_id": "h9", "handoff_pending": None}
    assert dispatcher.messages[0]["response"] == "utter_handoff_wait"


async def test_carrying_on_with_the_bot_cancels_the_waiting_handoff(connector: ConnectorProcess) -> None:
    request = await actions.ActionHandoffRequest().run(CollectingDispatcher(), make_tracker(HOUSING_THEN_PERSON), {})
    handoff_id = request[0]["value"]
    dispatcher = CollectingDispatcher()
    await actions.ActionHandoffCancel().run(dispatcher, make_tracker([], handoff_pending=handoff_id), {})
    assert texts(dispatcher) == ["utter_handoff_declined"]
    assert (await fetch_detail(connector, handoff_id))["state"] == "cancelled"


async def test_outside_business_hours_the_user_hears_when_the_team_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queues = [{"name": "general", "team": "Community Help team"},
              {"name": "housing", "team": "Housing Help team",
               "hours": {"timezone": "UTC", "mon": "00:00-00:01"}},  # practically always closed
              {"name": "food", "team": "Food team"}]
    server = await ConnectorProcess(tmp_path, queues=queues).__aenter__()
    settings = HandoffSettings(connector_url=server.url, bot_secret="test-secret")
    monkeypatch.setattr(actions, "load_settings", lambda: settings)
    try:
        dispatcher = CollectingDispatcher()
        events = await actions.ActionHandoffRequest().run(dispatcher, make_tracker(HOUSING_THEN_PERSON), {})
        message = dispatcher.messages[0]
        assert message["response"] == "utter_handoff_closed_hours"
        assert message["opens"].startswith(("today at", "tomorrow at", "on Monday at"))
        assert message["opens"].endswith("12:00 AM")
        assert {e["name"] for e in events} >= {"handoff_pending"}
    finally:
        await server.__aexit__()


@pytest.mark.parametrize("text, intent, stored", [
    ("Sam sorted it out", "skip", "Sam sorted it out"),  # a comment, whatever the classifier says
    ("no thanks", "deny", ""),  # a skip phrase
    ("nah i'm good", "skip", ""),  # short and classified as a skip
])
async def test_a_survey_comment_is_kept_unless_it_is_a_skip(text: str, intent: str, stored: str) -> None:
    form = survey.ValidateSurveyForm()
    tracker = make_tracker([user(text, intent, "k1")], survey_rating="5")
    result = await form.validate_survey_comment(text, CollectingDispatcher(), tracker, {})
    assert result == {"survey_comment": stored}
