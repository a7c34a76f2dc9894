"""The policies, on the project's real domain and real Rasa trackers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from handoff_connector.policy import FrustrationPolicy, HandoffPolicy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def make(cls: type, tmp_path: Path, **config: Any) -> Any:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    return cls.create({**cls.get_default_config(), **config}, storage, Resource("p"), context)


def user(text: str, intent: str, **parse: Any) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9},
                       parse_data={"intent": {"name": intent, "confidence": 0.9}, "text": text, **parse})


def tracker(domain: Domain, events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("u", events, domain.slots)


def predicted(prediction: Any, domain: Domain) -> Optional[str]:
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


IN_HANDOFF = [ActionExecuted("action_listen"), user("help", "human_handoff"),
              ActionExecuted("action_handoff_request"), SlotSet("handoff_id", "h1")]


@pytest.mark.parametrize(
    "events, expected, no_user",
    [
        # no handoff: abstain
        ([ActionExecuted("action_listen"), user("hi", "greet")], None, False),
        # right after the escalation: listen
        (IN_HANDOFF, "action_listen", True),
        # a user message during the handoff: relay, whatever the intent
        (IN_HANDOFF + [ActionExecuted("action_listen"), user("hi", "greet")], "action_handoff_relay", True),
        (IN_HANDOFF + [ActionExecuted("action_listen"), user("??", "nlu_fallback")], "action_handoff_relay", True),
        # after the relay: listen (the bot says nothing)
        (IN_HANDOFF + [ActionExecuted("action_listen"), user("hi", "greet"),
                       ActionExecuted("action_handoff_relay")], "action_listen", True),
        # the relay ended the handoff (the user cancelled while waiting): listen
        (IN_HANDOFF + [ActionExecuted("action_listen"), user("never mind", "cancel_handoff"),
                       ActionExecuted("action_handoff_relay"), SlotSet("handoff_id", None)], "action_listen", True),
        # the connector closing the handoff: abstain so the return rule runs
        (IN_HANDOFF + [ActionExecuted("action_listen"), user(None, "EXTERNAL_handoff_closed")], None, False),
    ],
)
def test_handoff_policy(domain: Domain, tmp_path: Path, events, expected, no_user) -> None:
    policy = make(HandoffPolicy, tmp_path, priority=7)
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert predicted(prediction, domain) == expected
    assert prediction.is_no_user_prediction is no_user
    assert prediction.policy_priority == 7


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("THIS IS USELESS!!! YOU ARE NOT HELPING", "frustrated", "action_handoff_request"),
        ("this is useless", "frustrated", "action_handoff_request"),  # 2 + 1 = threshold
        ("ugh", "frustrated", None),  # mild: left to the offer rule
        ("I need food", "ask_food_help", None),
    ],
)
def test_frustration_policy_threshold(domain: Domain, tmp_path: Path, text, intent, expected) -> None:
    policy = make(FrustrationPolicy, tmp_path, threshold=3)
    events = [ActionExecuted("action_listen"), user(text, intent)]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) == expected


def test_frustration_policy_can_be_switched_off(domain: Domain, tmp_path: Path) -> None:
    policy = make(FrustrationPolicy, tmp_path, enabled=False)
    events = [ActionExecuted("action_listen"), user("THIS IS USELESS!!! YOU ARE NOT HELPING", "frustrated")]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) is None


def test_frustration_policy_is_quiet_during_a_handoff(domain: Domain, tmp_path: Path) -> None:
    policy = make(FrustrationPolicy, tmp_path)
    events = IN_HANDOFF + [ActionExecuted("action_listen"), user("THIS IS USELESS!!!", "frustrated")]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) is None


def test_frustration_policy_listens_after_a_failed_escalation(domain: Domain, tmp_path: Path) -> None:
    policy = make(FrustrationPolicy, tmp_path)
    events = [ActionExecuted("action_listen"), user("STUPID BOT!!!", "frustrated"),
              ActionExecuted("action_handoff_request")]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) == "action_listen"


@pytest.mark.parametrize("threshold", [0, -1, 2.5, "high", True])
def test_frustration_policy_rejects_a_bad_threshold(tmp_path: Path, threshold: Any) -> None:
    with pytest.raises(InvalidConfigException, match="threshold"):
        make(FrustrationPolicy, tmp_path, threshold=threshold)


def test_frustration_detector_annotates_without_changing_the_intent() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from handoff_connector.nlu import FrustrationDetector

    message = Message({"text": "YOU ARE NOT HELPING!!", "intent": {"name": "greet", "confidence": 0.8}})
    FrustrationDetector({}).process([message])
    out: Dict[str, Any] = message.as_dict(only_output_properties=True)
    assert out["frustration"] == {"score": 4, "reasons": ["negative_feedback", "all_caps", "repeated_punctuation"]}
    assert message.get("intent")["name"] == "greet"
