"""What happened on the demo's help line over two weeks, decided before anything is written.

Fourteen days end at midnight UTC before the seeding (day 1 is the oldest).
About 30 conversations a day, mostly between 08:00 and
21:00 UTC, on the web chat, Rasa's ``rest``, ``socketio`` and ``callback``.
The same seed gives the same plans whatever the day: only the dates move.

The story in it, for a designer to find:

* **Frustration follows one response.** Users with a shutoff notice get
  ``utter_utility_help``'s general list, and most frustration escalations come
  right after it.
* **Can't-help clusters on housing follow-ups.** Model v1 cannot read
  follow-up questions after ``utter_housing_help`` (vouchers, deposits,
  repairs): asked to rephrase, then offered a person. Model v2, deployed on
  day 8, was trained with them: most are answered from then on.
* **Offers after out-of-scope questions are mostly declined**; offers after
  messages the bot could not read are mostly accepted.
* **Nobody is on at night** (22:00-07:00): those handoffs become follow-ups.
* **Utilities waits longest**: Miguel covers food and utilities alone, so
  that queue waits longer and loses more users to silence.
"""

from __future__ import annotations

import random
from typing import List, Optional, Sequence, Tuple

from handoff_connector.service.sample_history import texts
from handoff_connector.service.sample_history.model import (
    DAY,
    Conversation,
    Handoff,
    History,
    Offer,
    Turn,
    pick,
)
from handoff_connector.service.sample_history.outcomes import plan_outcome

DAYS = 14
DEPLOYED_ON_DAY = 8  # model v2's first day
MODELS = {1: "5f0c9a51d2e74e0c9b0b7d1e6a3c2f01", 2: "b83e41c7a9f24d6f8e2a0c5d7f1b9e42"}
SEED = 308  # chosen among a few hundred for a clear story (see the docs)
HOURS = (0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.0,
         3.5, 3.0, 3.0, 3.0, 3.0, 3.5, 4.0, 3.5, 2.5, 1.5, 0.8, 0.5)  # UTC, relative traffic
CHANNELS = (("webchat", 55), ("rest", 15), ("socketio", 18), ("callback", 12))
QUEUE_OF_TOPIC = {"food": "food", "housing": "housing", "utilities": "utilities", None: "general"}


# The stories and how often each is told (the same with both models: what the
# model changes is how a housing follow-up ends).
STORIES = (("topic", 46), ("capabilities", 5), ("bot_challenge", 3), ("out_of_scope_once", 4),
           ("explicit", 8), ("frustration_now", 5), ("frustration_offer", 4),
           ("housing_follow_up", 11), ("gibberish", 4), ("out_of_scope_twice", 5))


def build(end: float) -> History:
    """The two weeks before ``end`` (a midnight, UTC), the same every time."""
    rng = random.Random(SEED)
    start = end - DAYS * DAY
    conversations: List[Conversation] = []
    for day in range(1, DAYS + 1):
        count = 26 + rng.randint(0, 10)  # not by weekday: the same plans whatever the date
        moments = sorted(_moment(rng) for _ in range(count))
        for offset in moments:
            model = 1 if day < DEPLOYED_ON_DAY else 2
            index = len(conversations) + 1
            conversation = _conversation(rng, index, day, start + (day - 1) * DAY + offset, model)
            conversations.append(conversation)
    history = History(start, end, conversations)
    for conversation in conversations:
        if conversation.handoff_turn is not None:
            conversation.handoff = _handoff(rng, history, conversation)
    return history


def _moment(rng: random.Random) -> float:
    hour = pick(rng, list(enumerate(HOURS)))
    return min(hour * 3600 + rng.uniform(0, 3600), DAY - 15 * 60)  # ends before midnight


def _conversation(rng: random.Random, index: int, day: int, started_at: float, model: int) -> Conversation:
    story = pick(rng, STORIES)
    conversation = Conversation(index, f"sample-{index:04d}", pick(rng, CHANNELS), day, started_at, model,
                                story, None, [])
    STORY_BUILDERS[story](rng, conversation)
    at = started_at + 1.0  # after the session's start
    for turn in conversation.turns:
        turn.at = at
        at += rng.uniform(8, 45)
    return conversation


def _say(rng: random.Random, intent: str, *actions: str, pool: Optional[str] = None,
         confidence: Optional[float] = None) -> Turn:
    text = rng.choice(texts.USER[pool or intent])
    if confidence is None:
        confidence = 1.0 if intent in ("nlu_fallback", "out_of_scope") else round(rng.uniform(0.9, 1.0), 4)
    return Turn(intent, text, actions, confidence=confidence)


def _topic(rng: random.Random, weights: Sequence[Tuple[str, float]] = (("food", 4), ("housing", 3),
                                                                       ("utilities", 3))) -> str:
    return str(pick(rng, weights))


def _ask(rng: random.Random, conversation: Conversation, topic: str) -> Turn:
    conversation.topic = topic
    intent = {"food": "ask_food_help", "housing": "ask_housing_help", "utilities": "ask_utility_help"}[topic]
    return _say(rng, intent, texts.ANSWER[topic])


def _maybe_greet(rng: random.Random, conversation: Conversation, chance: float = 0.4) -> None:
    if rng.random() < chance:
        conversation.turns.append(_say(rng, "greet", "utter_greet"))


def _ending(rng: random.Random, conversation: Conversation) -> None:
    if rng.random() < 0.6:
        conversation.turns.append(_say(rng, "thank", "utter_you_are_welcome"))
    if rng.random() < 0.5:
        conversation.turns.append(_say(rng, "goodbye", "utter_goodbye"))


def _story_topic(rng: random.Random, conversation: Conversation) -> None:
    _maybe_greet(rng, conversation)
    conversation.turns.append(_ask(rng, conversation, _topic(rng)))
    _ending(rng, conversation)


def _story_capabilities(rng: random.Random, conversation: Conversation) -> None:
    _maybe_greet(rng, conversation, 0.7)
    conversation.turns.append(_say(rng, "ask_capabilities", "utter_capabilities"))
    conversation.turns.append(_ask(rng, conversation, _topic(rng)))
    _ending(rng, conversation)


def _story_bot_challenge(rng: random.Random, conversation: Conversation) -> None:
    conversation.turns.append(_say(rng, "bot_challenge", "utter_iamabot"))
    conversation.turns.append(_ask(rng, conversation, _topic(rng)))
    _ending(rng, conversation)


def _story_out_of_scope_once(rng: random.Random, conversation: Conversation) -> None:
    conversation.turns.append(_say(rng, "out_of_scope", "utter_out_of_scope"))
    conversation.turns.append(_ask(rng, conversation, _topic(rng)))
    _ending(rng, conversation)


def _escalate(conversation: Conversation) -> None:
    conversation.handoff_turn = len(conversation.turns)


def _story_explicit(rng: random.Random, conversation: Conversation) -> None:
    if rng.random() < 0.25:  # asks for a person straight away
        conversation.turns.append(_say(rng, "human_handoff", "action_handoff_request"))
    else:
        _maybe_greet(rng, conversation, 0.3)
        conversation.turns.append(_ask(rng, conversation, _topic(rng)))
        conversation.turns.append(_say(rng, "human_handoff", "action_handoff_request"))
    _escalate(conversation)


def _story_frustration_now(rng: random.Random, conversation: Conversation) -> None:
    """A strong signal: a person at once, no offer."""
    topic = _topic(rng, (("utilities", 8), ("housing", 1), ("food", 1)))
    conversation.turns.append(_ask(rng, conversation, topic))
    conversation.turns.append(_say(rng, "frustrated", "action_handoff_request", pool="frustrated_strong"))
    _escalate(conversation)


def _story_frustration_offer(rng: random.Random, conversation: Conversation) -> None:
    """A milder signal: a person offered, mostly accepted."""
    topic = _topic(rng, (("utilities", 6), ("housing", 2), ("food", 2)))
    conversation.turns.append(_ask(rng, conversation, topic))
    conversation.turns.append(_say(rng, "frustrated", "action_handoff_offer", pool="frustrated_mild"))
    reasons = ["anger_words", "frustrated_intent"] if rng.random() < 0.5 else ["frustrated_intent",
                                                                                  "negative_feedback"]
    _answer_offer(rng, conversation, "frustration", reasons, accept=0.7)


def _answer_offer(rng: random.Random, conversation: Conversation, kind: str, reasons: List[str],
                  accept: float) -> None:
    accepted = rng.random() < accept
    conversation.offers.append(Offer(kind, reasons, len(conversation.turns), "accepted" if accepted else "declined"))
    if accepted:
        conversation.turns.append(_say(rng, "affirm", "action_handoff_request"))
        _escalate(conversation)
        return
    conversation.turns.append(_say(rng, "deny", "action_handoff_decline"))
    conversation.turns.append(_ask(rng, conversation, conversation.topic or _topic(rng)))
    _ending(rng, conversation)


def _story_housing_follow_up(rng: random.Random, conversation: Conversation) -> None:
    """A follow-up after the housing answer: v1 cannot read it, v2 mostly can."""
    conversation.turns.append(_ask(rng, conversation, "housing"))
    understood = conversation.model == 2 and rng.random() < 0.8
    if understood:
        conversation.turns.append(_say(rng, "ask_housing_help", texts.ANSWER["housing"], pool="housing_follow_up"))
        if rng.random() < 0.2:
            conversation.turns.append(_say(rng, "human_handoff", "action_handoff_request"))
            _escalate(conversation)
        else:
            _ending(rng, conversation)
        return
    conversation.turns.append(_say(rng, "nlu_fallback", "action_handle_fallback", pool="housing_follow_up",
                                   confidence=round(rng.uniform(0.3, 0.6), 4)))
    conversation.turns.append(_say(rng, "nlu_fallback", "action_handoff_offer", pool="housing_follow_up",
                                   confidence=round(rng.uniform(0.3, 0.6), 4)))
    _answer_offer(rng, conversation, "cant_help", ["nlu_fallback", "cant_help_turns:2"], accept=0.8)


def _story_gibberish(rng: random.Random, conversation: Conversation) -> None:
    conversation.turns.append(_say(rng, "nlu_fallback", "action_handle_fallback", pool="gibberish"))
    conversation.turns.append(_say(rng, "nlu_fallback", "action_handoff_offer", pool="gibberish"))
    _answer_offer(rng, conversation, "cant_help", ["nlu_fallback", "cant_help_turns:2"], accept=0.6)


def _story_out_of_scope_twice(rng: random.Random, conversation: Conversation) -> None:
    conversation.turns.append(_say(rng, "out_of_scope", "utter_out_of_scope"))
    conversation.turns.append(_say(rng, "out_of_scope", "action_handoff_offer"))
    _answer_offer(rng, conversation, "cant_help", ["out_of_scope", "cant_help_turns:2"], accept=0.2)


STORY_BUILDERS = {"topic": _story_topic, "capabilities": _story_capabilities,
                  "bot_challenge": _story_bot_challenge, "out_of_scope_once": _story_out_of_scope_once,
                  "explicit": _story_explicit, "frustration_now": _story_frustration_now,
                  "frustration_offer": _story_frustration_offer, "housing_follow_up": _story_housing_follow_up,
                  "gibberish": _story_gibberish, "out_of_scope_twice": _story_out_of_scope_twice}


def trigger_of(conversation: Conversation) -> Tuple[str, List[str]]:
    """The trigger and reason codes the request action sends, as the plan made it."""
    last = conversation.turns[(conversation.handoff_turn or 1) - 1]
    if last.intent == "human_handoff":
        return "explicit", ["explicit_request"]
    if last.intent == "frustrated":  # a strong signal: two to four of the detector's codes
        codes = ["anger_words", "all_caps", "repeated_punctuation", "frustrated_intent"]
        return "frustration", codes[:2 + conversation.index % 3]
    offer = conversation.offers[-1]
    return offer.kind, [*offer.reasons, "offer_accepted"]


def _handoff(rng: random.Random, history: History, conversation: Conversation) -> Handoff:
    trigger, reasons = trigger_of(conversation)
    asked = conversation.turns[(conversation.handoff_turn or 1) - 1].at
    queue = QUEUE_OF_TOPIC[conversation.topic]
    handoff = Handoff(trigger, reasons, queue, asked + 0.3, kind="", first_queue=queue)
    plan_outcome(rng, history, conversation, handoff)
    return handoff
