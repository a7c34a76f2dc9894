"""A planned conversation as the events Rasa 3.6's SQL event broker writes.

The shapes are those of a real run (``tests/service/data/rasa_broker_events.json``):
``Event.as_dict()`` plus ``sender_id``, the model's id in each event's metadata,
a bot event's ``utter_action``, the handoff's slots as the handoff actions set
them, and the agents' messages as the connector appends them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional

from handoff_connector.service.sample_history import texts
from handoff_connector.service.sample_history.model import Conversation, Step, Turn

ASSISTANT = "community-help-line"
TOPIC_INTENTS = {"ask_food_help": "food", "ask_housing_help": "housing", "ask_utility_help": "utilities"}
HANDOFF_SLOTS = ("handoff_id", "handoff_team", "handoff_offer", "handoff_reasons", "handoff_pending")
RELAYED_INTENTS = {"never_mind": "cancel_handoff", "deny": "deny", "callback": "request_callback"}
TICK = 0.004  # between the events of one turn


class Writer:
    """Appends one conversation's events, each a little after the one before."""

    def __init__(self, conversation: Conversation, models: Dict[int, str]) -> None:
        self.c = conversation
        self.model_id = models[conversation.model]
        self.events: List[Dict[str, Any]] = []
        self.at = conversation.started_at

    def add(self, at: Optional[float], kind: str, meta: Optional[Dict[str, Any]] = None,
             **fields: Any) -> None:
        """One event at ``at``, or just after the one before (Rasa's order is time order)."""
        self.at = max(self.at + TICK, at if at is not None else 0.0)
        metadata = {**(meta or {}), "model_id": self.model_id, "assistant_id": ASSISTANT}
        self.events.append({"sender_id": self.c.sender_id, "event": kind, "timestamp": round(self.at, 6),
                            "metadata": metadata, **fields})

    def action(self, name: str, policy: Optional[str] = "RulePolicy", at: Optional[float] = None) -> None:
        self.add(at, "action", name=name, policy=policy, confidence=1.0 if policy else None,
                  action_text=None, hide_rule_turn=False)

    def bot(self, text: str, meta: Dict[str, Any], at: Optional[float] = None) -> None:
        self.add(at, "bot", meta, text=text, data={"elements": None, "quick_replies": None, "buttons": None,
                                                    "attachment": None, "image": None, "custom": None})

    def utter(self, name: str, at: Optional[float] = None, template: bool = False, **values: Any) -> None:
        text = texts.RESPONSES[name].format(**values) if values else texts.RESPONSES[name]
        self.bot(text, {"utter_action": name, **({"template": name} if template else {})}, at)

    def slot(self, name: str, value: Any) -> None:
        self.add(None, "slot", name=name, value=value)

    def user(self, at: float, text: str, intent: str, confidence: Optional[float] = 0.99,
             external: bool = False) -> None:
        message_id = message_id_of(self.c.sender_id, at)
        parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
                 "message_id": message_id, "metadata": {}}
        if not external:
            parse["intent_ranking"] = [{"name": intent, "confidence": confidence}]
        self.add(at, "user", {"is_external": True} if external else None, text=text, parse_data=parse,
                  input_channel=self.c.channel, message_id=message_id)
        if not external:
            self.add(None, "user_featurization", use_text_for_featurization=False)

    def listen(self, policy: Optional[str] = "RulePolicy") -> None:
        self.action("action_listen", policy)


def message_id_of(sender_id: str, at: float) -> str:
    """A stable id per message, as Rasa's are unique (the relay and the connector share it)."""
    return hashlib.sha256(f"{sender_id}@{at:.3f}".encode()).hexdigest()[:32]


def render(conversation: Conversation, handoff_id: Optional[str], teams: Dict[str, str],
           models: Dict[int, str]) -> List[Dict[str, Any]]:
    """Every event of ``conversation``; its handoff (if any) carries ``handoff_id``."""
    w = Writer(conversation, models)
    w.action("action_session_start", policy=None, at=conversation.started_at)
    w.add(None, "session_started")
    for name in HANDOFF_SLOTS:
        w.slot(name, None)
    w.action("action_listen", policy=None)
    for number, turn in enumerate(conversation.turns, start=1):
        _turn(w, conversation, number, turn, handoff_id, teams)
    if conversation.handoff is not None and handoff_id is not None:
        team = teams[conversation.handoff.first_queue]
        for step in conversation.handoff.steps:
            _after(w, step, handoff_id, team)
    return w.events


def _turn(w: Writer, c: Conversation, number: int, turn: Turn, handoff_id: Optional[str],
          teams: Dict[str, str]) -> None:
    w.user(turn.at, turn.text, turn.intent, turn.confidence)
    if turn.intent in TOPIC_INTENTS:
        w.slot("topic", TOPIC_INTENTS[turn.intent])
    offer = next((o for o in c.offers if o.turn == number), None)
    if offer is not None:
        w.slot("handoff_offer", offer.kind)
        w.slot("handoff_reasons", offer.reasons)
    for action in turn.actions:
        if action.startswith("utter_"):
            w.action(action)
            w.utter(action)
        elif action == "action_handle_fallback":
            w.action(action)
            w.utter("utter_ask_rephrase", template=True)
        elif action == "action_handoff_offer":
            w.action(action, policy="CantHelpPolicy" if offer and offer.kind == "cant_help" else "FrustrationPolicy")
            w.utter("utter_handoff_offer", template=True)
        elif action == "action_handoff_decline":
            w.action(action)
            w.utter("utter_handoff_declined", template=True)
            w.slot("handoff_offer", None)
            w.slot("handoff_reasons", None)
        elif action == "action_handoff_request" and handoff_id is not None and c.handoff is not None:
            _request(w, c, handoff_id, teams)
            return
    w.listen()


def _request(w: Writer, c: Conversation, handoff_id: str, teams: Dict[str, str]) -> None:
    assert c.handoff is not None
    team = teams[c.handoff.first_queue]
    w.action("action_handoff_request", at=c.handoff.created - 0.05)
    nobody = c.handoff.kind in ("follow_up", "follow_up_open", "no_wait")
    if nobody:
        w.utter("utter_handoff_no_agent", template=True, team=team, position=1)
    else:
        w.utter("utter_handoff_queued", template=True, team=team, position=1, wait="")
    w.slot("handoff_pending" if nobody else "handoff_id", handoff_id)
    w.slot("handoff_team", team)
    w.slot("handoff_offer", None)
    w.slot("handoff_reasons", None)
    w.listen("HandoffPolicy" if not nobody else "RulePolicy")


def _agent_meta(handoff_id: str, agent: Dict[str, str]) -> Dict[str, Any]:
    return {"handoff_id": handoff_id, "agent_id": agent["id"], "agent_name": agent["name"],
            "agent_title": agent["title"], "system": False}


def _ended(w: Writer, template: str) -> None:
    w.utter(template, template=True)
    for name in HANDOFF_SLOTS:
        w.slot(name, None)
    w.listen()


def _after(w: Writer, step: Step, handoff_id: str, team: str) -> None:
    """The moments after the handoff began, as the tracker records them."""
    pool = step.data.get("pool", "")
    if step.kind == "user":
        w.user(step.at, step.text, RELAYED_INTENTS.get(pool, "nlu_fallback"), 0.62)
        w.action("action_handoff_relay", policy="HandoffPolicy")
        w.listen("HandoffPolicy")
    elif step.kind == "choice":
        w.user(step.at, step.text, RELAYED_INTENTS.get(pool, "nlu_fallback"))
        if pool == "callback":
            w.action("callback_form")
            w.add(None, "active_loop", name="callback_form")
            w.slot("requested_slot", "callback_contact")
            w.utter("utter_ask_callback_contact")
            w.listen()
        else:
            w.action("action_handoff_cancel")
    elif step.kind == "callback":
        w.user(step.at, step.text, "nlu_fallback", 0.41)
        w.slot("callback_contact", step.text)
        w.action("callback_form")
        w.add(None, "active_loop", name=None)
        w.action("action_callback_submit")
        w.utter("utter_callback_confirmed", template=True, team=team, contact=step.text)
        w.slot("handoff_pending", None)
        w.listen()
    elif step.kind == "cancel":
        _ended(w, "utter_handoff_cancelled")
    elif step.kind == "abandon":
        w.user(step.at, "EXTERNAL: EXTERNAL_handoff_abandoned", "EXTERNAL_handoff_abandoned", None, external=True)
        w.action("action_handoff_ended")
        _ended(w, "utter_handoff_abandoned")
    elif step.kind in ("claim", "agent", "transfer_agent", "transfer_queue"):
        for agent, text in step.data.get("said", []):
            w.bot(text, _agent_meta(handoff_id, agent), at=step.at)
    elif step.kind == "close" and not step.data.get("follow_up"):
        _close(w, step, handoff_id)
    elif step.kind == "survey":
        _survey(w, step)


def _close(w: Writer, step: Step, handoff_id: str) -> None:
    w.user(step.at + 0.4, "EXTERNAL: EXTERNAL_handoff_closed", "EXTERNAL_handoff_closed", None, external=True)
    w.action("action_handoff_return")
    w.utter("utter_handoff_returned", template=True)
    for name in HANDOFF_SLOTS:
        w.slot(name, None)
    w.slot("survey_handoff_id", handoff_id)
    w.action("survey_form")
    w.add(None, "active_loop", name="survey_form")
    w.slot("requested_slot", "survey_rating")
    w.utter("utter_ask_survey_rating")
    w.listen()


def _survey(w: Writer, step: Step) -> None:
    rating = step.data.get("rating")
    w.user(step.at, "skip" if rating is None else str(rating), "skip" if rating is None else "nlu_fallback",
           0.97 if rating is None else 0.55)
    w.slot("survey_rating", "skip" if rating is None else str(rating))
    w.action("survey_form")
    if rating is not None:
        w.slot("requested_slot", "survey_comment")
        w.utter("utter_ask_survey_comment")
        w.listen()
        comment = step.data.get("comment")
        w.user(step.at + 12, comment or "skip", "nlu_fallback" if comment else "skip", 0.6)
        w.slot("survey_comment", comment)
        w.action("survey_form")
    w.slot("requested_slot", None)
    w.add(None, "active_loop", name=None)
    w.action("action_survey_submit")
    w.utter("utter_survey_thanks" if rating is not None else "utter_survey_skipped", template=True)
    for name in ("survey_handoff_id", "survey_rating", "survey_comment"):
        w.slot(name, None)
    w.listen()
