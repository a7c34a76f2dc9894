"""Dialogue policies for the handoff.

``HandoffPolicy``: while the ``handoff_id`` slot is set, every user message runs
the relay action and the bot says nothing else. Its predictions are
``is_no_user_prediction`` with confidence 1.0 and a priority above RulePolicy,
so they beat rules, active forms and fallbacks (see ``_pick_best_policy`` in
``rasa/core/policies/ensemble.py``). It abstains on ``EXTERNAL_*`` intents, so
the connector can end the handoff with ``trigger_intent``.

``FrustrationPolicy``: escalates when the frustration score of the latest
message, in the light of the conversation, reaches ``threshold``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from handoff_connector.frustration import RESET_ACTIONS, assess

RELAY_ACTION = "action_handoff_relay"
REQUEST_ACTION = "action_handoff_request"
HANDOFF_SLOT = "handoff_id"


def _latest_intent(tracker: DialogueStateTracker) -> str:
    message = tracker.latest_message
    if message is None:
        return ""
    return (message.intent or {}).get("name") or ""


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
        self, domain: Domain, action: Optional[str], no_user: bool = False
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if action is not None:
            if action not in domain.action_names_or_texts:
                raise InvalidConfigException(
                    f"{type(self).__name__} predicts '{action}', which is not in "
                    f"domain.yml. Add it under `actions:`."
                )
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=no_user)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class HandoffPolicy(_HandoffPolicyBase):
    """Relays every user message to the person while a handoff is open."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7, "slot": HANDOFF_SLOT, "relay_action": RELAY_ACTION}

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
        if not tracker.get_slot(config["slot"]):
            return self._predict(domain, None)
        if _latest_intent(tracker).startswith("EXTERNAL_"):
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
        return {"priority": 7, "enabled": True, "threshold": 3}

    def __init__(self, config: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        threshold = config.get("threshold", 3)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise InvalidConfigException(
                f"FrustrationPolicy `threshold` in config.yml must be a whole number "
                f">= 1, got {threshold!r}."
            )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        config = {**self.get_default_config(), **self.config}
        if not config["enabled"] or tracker.get_slot(HANDOFF_SLOT) or tracker.active_loop_name:
            return self._predict(domain, None)
        if tracker.latest_action_name == REQUEST_ACTION:
            return self._predict(domain, ACTION_LISTEN_NAME)
        if tracker.latest_action_name != ACTION_LISTEN_NAME or not _user_just_spoke(tracker):
            return self._predict(domain, None)
        if _latest_intent(tracker).startswith("EXTERNAL_"):
            return self._predict(domain, None)
        events = [e.as_dict() for e in _since_reset(tracker)]
        if assess(events).score >= config["threshold"]:
            return self._predict(domain, REQUEST_ACTION)
        return self._predict(domain, None)


def _since_reset(tracker: DialogueStateTracker) -> List[Any]:
    """Events after the last handoff request/return or session start."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if getattr(events[index], "action_name", None) in RESET_ACTIONS:
            return events[index:]
    return events
