"""The demo assistant's custom actions: the handoff plugin's actions.

``rasa run actions`` (package ``actions``) registers every Action subclass it
finds in the imported modules, so importing them here is all it takes.
"""

from handoff_connector.actions import (  # noqa: F401
    ActionHandleFallback,
    ActionHandoffDecline,
    ActionHandoffEnded,
    ActionHandoffOffer,
    ActionHandoffRelay,
    ActionHandoffRequest,
    ActionHandoffReturn,
    ActionSessionStart,
)
from handoff_connector.survey import ActionSurveySubmit, ValidateSurveyForm  # noqa: F401
