"""The demo assistant's custom actions: the handoff plugin's actions.

``rasa run actions`` (package ``actions``) registers every Action subclass it
finds in the imported modules, so importing them here is all it takes.
"""

from handoff_connector.rasa.actions import (  # noqa: F401
    ActionHandleFallback,
    ActionHandoffCancel,
    ActionHandoffDecline,
    ActionHandoffEnded,
    ActionHandoffOffer,
    ActionHandoffRelay,
    ActionHandoffRequest,
    ActionHandoffReturn,
    ActionHandoffWait,
    ActionSessionStart,
)
from handoff_connector.rasa.survey import (  # noqa: F401
    ActionCallbackSubmit,
    ActionSurveySubmit,
    ValidateCallbackForm,
    ValidateSurveyForm,
)
