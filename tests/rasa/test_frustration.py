from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from handoff_connector.rasa.cant_help import cant_help_streak
from handoff_connector.rasa.frustration import assess, is_same_question, message_signals


@pytest.mark.parametrize(
    "text, expected",
    [
        # plain request: no signal
        ("I need help with my electric bill", []),
        # shouting needs at least two words of capitals
        ("HELP", []),
        ("WHY WON'T YOU ANSWER ME", ["all_caps"]),
        ("what???", ["repeated_punctuation"]),
        ("this is useless", ["insult"]),
        ("this is pointless", ["negative_feedback"]),
        ("is it pointless to apply?", []),  # a question, not a complaint
        ("you're not helping", ["negative_feedback"]),
        ("stupid bot", ["insult"]),
        ("I'm so fed up with this", ["anger_words"]),
        # several signals add up, each reason once
        ("THIS IS USELESS!!! YOU ARE NOT HELPING", ["insult", "negative_feedback", "all_caps", "repeated_punctuation"]),
        # a button payload is not typed text
        ("/affirm", []),
    ],
)
def test_message_signals(text: str, expected: List[str]) -> None:
    assert message_signals(text).reasons == expected


def user(text: str, intent: str, frustration: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    parse_data: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}}
    if frustration is not None:
        parse_data["frustration"] = frustration
    return {"event": "user", "text": text, "parse_data": parse_data}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def test_assess_scores_the_latest_message_with_weights() -> None:
    events = [action("action_listen"), user("this is useless", "frustrated")]
    result = assess(events)
    assert result.reasons == ["insult", "frustrated_intent"]
    assert result.score == 3


def test_assess_prefers_the_nlu_annotation() -> None:
    # The FrustrationDetector's reasons are taken as they are.
    events = [user("fine", "affirm", {"score": 1, "reasons": ["all_caps"]})]
    assert assess(events).reasons == ["all_caps"]


def test_repeated_fallback_is_a_conversation_signal() -> None:
    events = [
        user("blorp the wibble", "nlu_fallback"), action("action_handle_fallback"),
        action("action_listen"), user("wibble blorp again", "nlu_fallback"),
    ]
    assert "repeated_fallback" in assess(events).reasons
    assert cant_help_streak(events).turns == 2


def test_the_same_question_again_is_a_conversation_signal() -> None:
    events = [
        user("how do I apply for food stamps", "ask_food_help"), action("utter_food_help"),
        action("action_listen"), user("How do I apply for food stamps?", "ask_food_help"),
    ]
    assert assess(events).reasons == ["repeated_question"]


def test_a_handoff_starts_a_fresh_count() -> None:
    events = [
        user("zzz qqq", "nlu_fallback"), action("action_handle_fallback"),
        action("action_handoff_request"), action("action_handoff_return"),
        user("xxx yyy", "nlu_fallback"),
    ]
    assert "repeated_fallback" not in assess(events).reasons
    assert cant_help_streak(events).turns == 1


def test_fallback_count_stops_at_a_understood_turn() -> None:
    events = [
        user("zzz", "nlu_fallback"), action("action_handle_fallback"),
        user("I need food", "ask_food_help"), action("utter_food_help"),
        user("qqq", "nlu_fallback"),
    ]
    assert cant_help_streak(events).turns == 1


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("where is the nearest food bank", "where's the nearest food bank?", True),
        ("yes", "yes", False),  # short replies repeat naturally
        ("I need help with rent", "I need help with my gas bill", False),
    ],
)
def test_is_same_question(a: str, b: str, same: bool) -> None:
    assert is_same_question(a, b) is same
