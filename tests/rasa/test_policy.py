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

from handoff_connector.rasa.policy import CantHelpPolicy, FrustrationPolicy, HandoffPolicy
from handoff_connector.rasa.resources import domain_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The demo's domain with the handoff's, as the model has them."""
    return Domain.load([str(ROOT / "domain.yml"), str(domain_dir())])


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
        # the connector closing the handoff (trigger_intent): abstain so the return rule runs
        (IN_HANDOFF + [ActionExecuted("action_listen"), UserUttered.create_external("EXTERNAL_handoff_closed")],
         None, False),
        # the same intents typed by the user ("/EXTERNAL_..."): words for the person, relayed
        (IN_HANDOFF + [ActionExecuted("action_listen"), user("/EXTERNAL_handoff_closed", "EXTERNAL_handoff_closed")],
         "action_handoff_relay", True),
        (IN_HANDOFF + [ActionExecuted("action_listen"),
                       user("/EXTERNAL_handoff_abandoned", "EXTERNAL_handoff_abandoned")], "action_handoff_relay", True),
        # ... a typed one claiming to be external is still typed (the text says so)
        (IN_HANDOFF + [ActionExecuted("action_listen"),
                       UserUttered("/EXTERNAL_handoff_closed", {"name": "EXTERNAL_handoff_closed"},
                                   metadata={"is_external": True})], "action_handoff_relay", True),
        # ... and outside a handoff no rule takes them for the connector's: asked to rephrase
        ([ActionExecuted("action_listen"), user("/EXTERNAL_handoff_closed", "EXTERNAL_handoff_closed")],
         "action_handle_fallback", True),
        ([ActionExecuted("action_listen"), user("/EXTERNAL_handoff_closed", "EXTERNAL_handoff_closed"),
          ActionExecuted("action_handle_fallback")], "action_listen", True),
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
        ("ugh", "frustrated", "action_handoff_offer"),  # 1 + 1: from offer_at, a person is offered
        ("pathetic", "ask_food_help", "action_handoff_offer"),  # an insult alone, whatever the intent
        ("that is not great", "frustrated", None),  # the intent alone: the apology rule answers
        ("ugh", "ask_food_help", None),  # one mild word is not enough
        ("I need food", "ask_food_help", None),
    ],
)
def test_frustration_policy_threshold(domain: Domain, tmp_path: Path, text, intent, expected) -> None:
    policy = make(FrustrationPolicy, tmp_path, threshold=3, offer_at=2)
    events = [ActionExecuted("action_listen"), user(text, intent)]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert predicted(prediction, domain) == expected
    if expected == "action_handoff_offer":  # why, for the accepted offer's reason codes
        assert [(e.key, e.value) for e in prediction.events][0] == ("handoff_offer", "frustration")


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


@pytest.mark.parametrize("key", ["threshold", "offer_at"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "high", True])
def test_frustration_policy_rejects_a_bad_threshold(tmp_path: Path, key: str, value: Any) -> None:
    with pytest.raises(InvalidConfigException, match=key):
        make(FrustrationPolicy, tmp_path, **{key: value})


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


@pytest.mark.parametrize(
    "events, expected, reasons",
    [
        # one out-of-scope message: the bot answers it (utter_out_of_scope)
        ([listen(), user("order me a pizza", "out_of_scope")], None, None),
        # the second in a row: the offer replaces the answer
        ([listen(), user("order me a pizza", "out_of_scope"), ActionExecuted("utter_out_of_scope"),
          listen(), user("weather in paris", "out_of_scope")], "action_handoff_offer",
         ["out_of_scope", "cant_help_turns:2"]),
        # a fallback, then out of scope: both count
        ([listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handle_fallback"),
          listen(), user("weather in paris", "out_of_scope")], "action_handoff_offer",
         ["out_of_scope", "nlu_fallback", "cant_help_turns:2"]),
        # an understood turn in between starts the count again
        ([listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handle_fallback"),
          listen(), user("I need food", "ask_food_help"), ActionExecuted("utter_food_help"),
          listen(), user("weather in paris", "out_of_scope")], None, None),
        # Rasa's core fallback, then a marked response: the offer follows the answer
        ([listen(), user("what about it", "greet"), ActionExecuted("action_handle_fallback"),
          listen(), user("and my cat", "greet"), ActionExecuted("utter_capabilities")],
         "action_handoff_offer", ["response:utter_capabilities", "core_fallback", "cant_help_turns:2"]),
        # after the offer: listen for the answer
        ([listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handoff_offer")], "action_listen", None),
        # an offer already made and declined starts the count again
        ([listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handoff_offer"), listen(),
          user("no", "deny"), ActionExecuted("action_handoff_decline"), listen(),
          user("weather in paris", "out_of_scope")], None, None),
        # during a handoff the relay has it
        (IN_HANDOFF + [listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handoff_relay"),
                       listen(), user("qqq", "nlu_fallback")], None, None),
    ],
)
def test_cant_help_policy(domain: Domain, tmp_path: Path, events, expected, reasons) -> None:
    policy = make(CantHelpPolicy, tmp_path, offer_after=2, responses=["utter_capabilities"])
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert predicted(prediction, domain) == expected
    if reasons is not None:
        slots = {e.key: e.value for e in prediction.events}
        assert slots == {"handoff_offer": "cant_help", "handoff_reasons": reasons}


def test_cant_help_policy_offers_at_once_when_told(domain: Domain, tmp_path: Path) -> None:
    policy = make(CantHelpPolicy, tmp_path, offer_after=1)
    events = [listen(), user("order me a pizza", "out_of_scope")]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) == \
        "action_handoff_offer"


def test_cant_help_policy_can_be_switched_off(domain: Domain, tmp_path: Path) -> None:
    policy = make(CantHelpPolicy, tmp_path, enabled=False)
    events = [listen(), user("zzz", "nlu_fallback"), ActionExecuted("action_handle_fallback"),
              listen(), user("qqq", "nlu_fallback")]
    assert predicted(policy.predict_action_probabilities(tracker(domain, events), domain), domain) is None


@pytest.mark.parametrize("config, says", [
    ({"offer_after": 0}, "offer_after"), ({"offer_after": "two"}, "offer_after"),
    ({"intents": "out_of_scope"}, "intents"), ({"responses": [1]}, "responses"),
])
def test_cant_help_policy_rejects_bad_config(tmp_path: Path, config: Dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidConfigException, match=says):
        make(CantHelpPolicy, tmp_path, **config)


def test_frustration_detector_annotates_without_changing_the_intent() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from handoff_connector.rasa.nlu import FrustrationDetector

    message = Message({"text": "YOU ARE NOT HELPING!!", "intent": {"name": "greet", "confidence": 0.8}})
    FrustrationDetector({}).process([message])
    out: Dict[str, Any] = message.as_dict(only_output_properties=True)
    assert out["frustration"] == {"score": 4, "reasons": ["negative_feedback", "all_caps", "repeated_punctuation"]}
    assert message.get("intent")["name"] == "greet"


@pytest.mark.parametrize("text, fallback", [
    ("ppppppppp", True), ("asdf qwer", True), ("hdhdhdhd", True),
    ("I need food", False), ("ok", False), ("noooo", False), ("hmm", False),
    (";;;;;;;", True), ("?!?!?!", True), (":-)", False), ("123", False),
])
def test_gibberish_becomes_a_fallback(text: str, fallback: bool) -> None:
    from rasa.shared.nlu.training_data.message import Message

    from handoff_connector.rasa.nlu import GibberishFallback

    ranking = [{"name": "thank", "confidence": 0.97}]
    message = Message({"text": text, "intent": ranking[0], "intent_ranking": ranking})
    GibberishFallback({}).process([message])
    assert (message.get("intent")["name"] == "nlu_fallback") is fallback
    if fallback:
        assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "thank"]
