"""FrustrationDetector: an NLU component that annotates each message.

It never changes the intent. It adds a ``frustration`` property
(``{"score": int, "reasons": [...]}``) to the parse data, which Rasa stores with
the user event, so the policy and the handoff actions can read it.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from handoff_connector.frustration import FRUSTRATION_KEY, message_signals


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class FrustrationDetector(GraphComponent):
    """Adds per-message frustration signals with reason codes to parse data."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationDetector:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Annotates each message; the intent is left as it is."""
        for message in messages:
            signals = message_signals(message.get(TEXT))
            message.set(FRUSTRATION_KEY, signals.as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
