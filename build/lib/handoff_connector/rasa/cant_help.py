"""The "bot can't help" trigger: turns in a row in which the bot could not help.

Pure Python over plain event dicts, like ``frustration``. A turn counts when
the user's message alone shows it (its intent is one of ``intents``, for
example ``nlu_fallback`` or ``out_of_scope``) or when the bot's answer shows it
(one of the marked ``responses``, or a fallback action). Each cause becomes a
reason code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List

from handoff_connector.rasa.frustration import RESET_ACTIONS, turns_since_reset

# The bot's own ways of saying it did not understand: Rasa's default fallback
# actions and the handoff's "please rephrase".
FALLBACK_ACTIONS = ("action_handle_fallback", "action_default_fallback", "action_two_stage_fallback")
OFFER_ACTION = "action_handoff_offer"
# An offer (accepted or not) starts a fresh count, as a handoff does.
RESETS = RESET_ACTIONS | {OFFER_ACTION, "action_handoff_decline"}
DEFAULT_INTENTS = ("nlu_fallback", "out_of_scope")


@dataclass
class Streak:
    """How many turns in a row, up to the latest, the bot could not help, and why."""

    turns: int = 0
    reasons: List[str] = field(default_factory=list)

    def codes(self) -> List[str]:
        return [*self.reasons, f"cant_help_turns:{self.turns}"]


def turn_causes(
    turn: Dict[str, Any], intents: Iterable[str], responses: Iterable[str]
) -> List[str]:
    """Why this turn counts as one the bot could not help with (empty: it helped)."""
    causes: List[str] = []
    if turn["intent"] in set(intents):
        causes.append(turn["intent"])
    marked = set(responses)
    for name in turn["bot_actions"]:
        if name in FALLBACK_ACTIONS and "core_fallback" not in causes and turn["intent"] not in causes:
            causes.append("core_fallback")
        elif name in marked and f"response:{name}" not in causes:
            causes.append(f"response:{name}")
    return causes


def cant_help_streak(
    events: Iterable[Dict[str, Any]],
    intents: Iterable[str] = DEFAULT_INTENTS,
    responses: Iterable[str] = (),
) -> Streak:
    """The run of can't-help turns that ends with the latest user turn."""
    intents, responses = list(intents), list(responses)
    streak = Streak()
    for turn in reversed(turns_since_reset(events, RESETS)):
        causes = turn_causes(turn, intents, responses)
        if not causes:
            break
        streak.turns += 1
        for cause in causes:
            if cause not in streak.reasons:
                streak.reasons.append(cause)
    return streak
