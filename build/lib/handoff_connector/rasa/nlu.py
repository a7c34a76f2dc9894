"""The handoff's NLU components.

``FrustrationDetector`` never changes the intent. It adds a ``frustration``
property (``{"score": int, "reasons": [...]}``) to the parse data, which Rasa
stores with the user event, so the policy and the handoff actions can read it.

``GibberishFallback`` turns keyboard mash into ``nlu_fallback``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from handoff_connector.rasa.frustration import FRUSTRATION_KEY, message_signals
from handoff_connector.rasa.gibberish import is_gibberish

GIBBERISH_KEY = "gibberish"


class _MessageComponent(GraphComponent):
    """No training and no state: each looks at one message at a time."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def process_training_data(self, training_data: Any) -> Any:
        return training_data


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class FrustrationDetector(_MessageComponent):
    """Adds per-message frustration signals with reason codes to parse data."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Annotates each message; the intent is left as it is."""
        for message in messages:
            signals = message_signals(message.get(TEXT))
            message.set(FRUSTRATION_KEY, signals.as_dict(), add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class GibberishFallback(_MessageComponent):
    """Sends keyboard mash and letter runs to ``nlu_fallback`` (after FallbackClassifier).

    A classifier trained on a few hundred examples still gives "ppppppp" a
    confident intent; this makes the bot ask to rephrase instead, which also
    counts towards the "can't help" trigger. Set ``enabled: false`` to keep
    the classifier's intent.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"enabled": True}

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.component_config["enabled"]:
            return messages
        for message in messages:
            if not is_gibberish(message.get(TEXT)):
                continue
            fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.data[INTENT] = fallback
            ranking = [r for r in message.data.get(INTENT_RANKING_KEY) or []
                       if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
            message.data[INTENT_RANKING_KEY] = [fallback, *ranking]
            message.set(GIBBERISH_KEY, True, add_to_output=True)
        return messages
