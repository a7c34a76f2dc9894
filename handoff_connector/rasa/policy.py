"""Dialogue policies for the handoff.

``HandoffPolicy``: while the ``handoff_id`` slot is set, every user message runs
the relay action and the bot says nothing else. Its predictions are
``is_no_user_prediction`` with confidence 1.0 and a priority above RulePolicy,
so they beat rules, active forms and fallbacks (see ``_pick_best_policy`` in
``rasa/core/policies/ensemble.py``). It abstains on ``EXTERNAL_*`` intents the
connector triggered (``trigger_intent``), so only the connector ends a handoff;
the same intent typed by the user in Rasa's slash syntax is just words: relayed
during a handoff, and asked to rephrase outside one.

``FrustrationPolicy``: escalates when the frustration score of the latest
message, in the light of the conversation, reaches ``threshold``, and offers a
person when it reaches ``offer_at``.

``CantHelpPolicy``: offers a person after ``offer_after`` turns in a row in
which the bot could not help (see ``cant_help``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from handoff_connector.rasa.cant_help import (
    DEFAULT_INTENTS,
    FALLBACK_ACTIONS,
    OFFER_ACTION,
    RESETS,
    cant_help_streak,
)
from handoff_connector.rasa.frustration import RESET_ACTIONS, assess

RELAY_ACTION = "action_handoff_relay"
REQUEST_ACTION = "action_handoff_request"
REPHRASE_ACTION = "action_handle_fallback"
HANDOFF_SLOT = "handoff_id"


def _latest_intent(tracker: DialogueStateTracker) -> str:
    message = tracker.latest_message
    if message is None:
        return ""
    return (message.intent or {}).get("name") or ""


def typed_external(tracker: DialogueStateTracker) -> bool:
    """An ``EXTERNAL_*`` intent the user typed ("/EXTERNAL_handoff_closed"), not one
    the connector triggered. A user reaches such an intent only through Rasa's slash
    syntax, so the text starts with "/"; ``trigger_intent`` writes "EXTERNAL: ..."
    (and stories and rules write no text at all)."""
    message = tracker.latest_message
    if message is None or not _latest_intent(tracker).startswith("EXTERNAL_"):
        return False
    return (message.text or "").lstrip().startswith(INTENT_MESSAGE_PREFIX)


def _user_just_spoke(tracker: DialogueStateTracker) -> bool:
    """True when a user message arrived after the last action_listen."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if getattr(event, "action_name", None) == ACTION_LISTEN_NAME:
            return False
    return False


class _HandoffPolicyBase(Policy):
    """No training, no persisted state: the policies read the tracker only."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7}

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Policy:
        return cls(config, model_storage, resource, execution_context)

    def _predict(
        self,
        domain: Domain,
        action: Optional[str],
        no_user: bool = False,
        events: Optional[List[Event]] = None,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if action is not None:
            if action not in domain.action_names_or_texts:
                raise InvalidConfigException(
                    f"{type(self).__name__} predicts '{action}', which is not in "
                    f"domain.yml. Add it under `actions:`."
                )
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events, is_no_user_prediction=no_user)

    def _offer(self, domain: Domain, why: str, reasons: List[str]) -> PolicyPrediction:
        """Offers a person; the slots say why, for the accepted offer's trigger and reasons."""
        return self._predict(domain, OFFER_ACTION, events=[
            SlotSet("handoff_offer", why), SlotSet("handoff_reasons", reasons),
        ])

    @staticmethod
    def _stands_aside(tracker: DialogueStateTracker, config: Dict[str, Any]) -> bool:
        """Switched off, a person is on, or a form is asking: a trigger keeps out."""
        return not config["enabled"] or bool(tracker.get_slot(HANDOFF_SLOT)) or bool(tracker.active_loop_name)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class HandoffPolicy(_HandoffPolicyBase):
    """Relays every user message to the person while a handoff is open."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7, "slot": HANDOFF_SLOT, "relay_action": RELAY_ACTION,
                "rephrase_action": REPHRASE_ACTION}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        config = {**self.get_default_config(), **self.config}
        if tracker.latest_action_name == config["relay_action"]:
            # Also when the relay ended the handoff (the user cancelled, or it
            # had closed): the bot has said its piece and waits for the user.
            return self._predict(domain, ACTION_LISTEN_NAME, no_user=True)
        typed = typed_external(tracker)
        if not tracker.get_slot(config["slot"]):
            if not typed:
                return self._predict(domain, None)
            # No rule may take it for the connector's word (no return, no survey).
            if tracker.latest_action_name == ACTION_LISTEN_NAME and _user_just_spoke(tracker):
                return self._predict(domain, config["rephrase_action"], no_user=True)
            return self._predict(domain, ACTION_LISTEN_NAME, no_user=True)
        if _latest_intent(tracker).startswith("EXTERNAL_") and not typed:
            return self._predict(domain, None)
        if tracker.latest_action_name == ACTION_LISTEN_NAME and _user_just_spoke(tracker):
            return self._predict(domain, config["relay_action"], no_user=True)
        return self._predict(domain, ACTION_LISTEN_NAME, no_user=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class FrustrationPolicy(_HandoffPolicyBase):
    """Escalates to a person when frustration signals reach the threshold."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7, "enabled": True, "threshold": 3, "offer_at": 2}

    def __init__(self, config: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        for key in ("threshold", "offer_at"):
            _check_whole_number(self, config, key)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        config = {**self.get_default_config(), **self.config}
        if self._stands_aside(tracker, config):
            return self._predict(domain, None)
        if tracker.latest_action_name == REQUEST_ACTION:
            return self._predict(domain, ACTION_LISTEN_NAME)
        if tracker.latest_action_name != ACTION_LISTEN_NAME or not _user_just_spoke(tracker):
            return self._predict(domain, None)
        if _latest_intent(tracker).startswith("EXTERNAL_"):
            return self._predict(domain, None)
        assessment = assess([e.as_dict() for e in _since_reset(tracker)])
        if assessment.score >= config["threshold"]:
            return self._predict(domain, REQUEST_ACTION)
        if assessment.score >= config["offer_at"]:
            return self._offer(domain, "frustration", assessment.reasons)
        return self._predict(domain, None)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class CantHelpPolicy(_HandoffPolicyBase):
    """Offers a person after ``offer_after`` turns in a row the bot could not help.

    A turn counts when the user's intent is one of ``intents`` (the offer then
    replaces the bot's answer) or when the bot answered with one of the marked
    ``responses`` or a fallback action (the offer follows that answer).
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7, "enabled": True, "offer_after": 2,
                "intents": list(DEFAULT_INTENTS), "responses": []}

    def __init__(self, config: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        merged = {**self.get_default_config(), **config}
        _check_whole_number(self, config, "offer_after")
        for key in ("intents", "responses"):
            value = merged[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidConfigException(
                    f"CantHelpPolicy `{key}` in config.yml must be a list of names, got {value!r}."
                )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        config = {**self.get_default_config(), **self.config}
        latest = tracker.latest_action_name
        if latest == OFFER_ACTION:  # the offer was made; the user answers
            return self._predict(domain, ACTION_LISTEN_NAME)
        if self._stands_aside(tracker, config) or _latest_intent(tracker).startswith("EXTERNAL_"):
            return self._predict(domain, None)
        if latest == ACTION_LISTEN_NAME:
            # The message alone shows the bot can't help: offer instead of answering.
            if not _user_just_spoke(tracker) or _latest_intent(tracker) not in config["intents"]:
                return self._predict(domain, None)
        elif latest not in config["responses"] and latest not in FALLBACK_ACTIONS:
            return self._predict(domain, None)
        events = [e.as_dict() for e in _since_reset(tracker, RESETS)]
        streak = cant_help_streak(events, config["intents"], config["responses"])
        if streak.turns < config["offer_after"]:
            return self._predict(domain, None)
        return self._offer(domain, "cant_help", streak.codes())


def _check_whole_number(policy: Policy, config: Dict[str, Any], key: str) -> None:
    value = {**policy.get_default_config(), **config}[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidConfigException(
            f"{type(policy).__name__} `{key}` in config.yml must be a whole number >= 1, got {value!r}."
        )


def _since_reset(tracker: DialogueStateTracker, resets: Any = RESET_ACTIONS) -> List[Any]:
    """Events after the last of the ``resets`` actions (handoff, session start)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if getattr(events[index], "action_name", None) in resets:
            return events[index:]
    return events
