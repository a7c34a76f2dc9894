"""Whole conversations through the real processes, on Rasa's callback channel."""

from __future__ import annotations

from typing import Callable, Iterator, List

import pytest
import requests

from stack import Stack
from tests.e2e.conftest import Agent, Inbox, User, wait_for

pytestmark = pytest.mark.e2e


def test_explicit_request_relay_close_return_and_survey(user: User, agent: Callable[[str], Agent]) -> None:
    assert "Community Help Line assistant" in user.say("hi")[0]
    assert "housing" in user.say("I got an eviction notice and don't know what to do")[0]
    reply = user.say("can I talk to a real person")
    assert len(reply) == 1 and "Housing Help team" in reply[0] and "won't need to repeat" in reply[0]

    sarah, miguel = agent("sarah"), agent("miguel")
    waiting = sarah.handoff_of(user)
    assert (waiting["state"], waiting["queue"], waiting["trigger"]) == ("queued", "housing", "explicit")
    transcript = [(t["role"], t["text"]) for t in waiting["transcript"]]
    assert transcript[:2] == [("user", "hi"), ("bot", user.received()[0])]
    assert transcript[-1] == ("user", "can I talk to a real person")
    assert waiting["context"]["slots"]["topic"] == "housing"
    assert waiting["context"]["channel"] == "callback"
    assert waiting["context"]["recent_intents"][-1]["intent"] == "human_handoff"

    handoff_id = waiting["id"]
    sarah.call("POST", f"/handoffs/{handoff_id}/claim")
    dana = agent("dana")
    dana.call("POST", f"/handoffs/{handoff_id}/claim", expect=409)  # already taken
    miguel.call("GET", f"/handoffs/{handoff_id}", expect=403)  # not his queue

    sarah.call("POST", f"/handoffs/{handoff_id}/messages", {"text": "Hi, this is Sarah. How much rent is due?"}, expect=201)
    wait_for(lambda: "Hi, this is Sarah. How much rent is due?" in user.received(), what="the agent's reply")

    # While Sarah is on, every message reaches her, in order, and the bot is silent.
    said = ["about 800 dollars", "HELLO??", "can I talk to a human", "I need food too", "asdf qwer zxcv"]
    for text in said:
        assert user.say(text) == [], f"the bot answered {text!r} during the handoff"
    detail = sarah.call("GET", f"/handoffs/{handoff_id}")
    assert [m["text"] for m in detail["messages"] if m["role"] == "user"] == said

    sarah.call("POST", f"/handoffs/{handoff_id}/close", {"resolution": "referred", "note": "rental assistance"})
    wait_for(lambda: any("How would you rate" in t for t in user.received()), what="the survey")
    survey_question = next(m for m in user.inbox.all(user.id) if "How would you rate" in (m.get("text") or ""))
    assert [b["title"] for b in survey_question["buttons"]] == ["1", "2", "3", "4", "5", "Skip"]
    assert any("You're back with the assistant" in t for t in user.received())

    assert "Anything you'd like to tell us" in user.say("4")[0]
    assert "Thank you for your feedback" in user.say("Sarah was patient and kind")[0]
    done = sarah.call("GET", f"/handoffs/{handoff_id}")
    assert done["survey"]["rating"] == 4 and done["survey"]["comment"] == "Sarah was patient and kind"
    assert [t["to_state"] for t in done["transitions"]] == ["requested", "queued", "assigned", "closed", "returned"]

    # The bot is back and answers normally.
    assert "food help" in user.say("where can I get free groceries")[0]
    assert "Take care" in user.say("bye")[0]


@pytest.mark.parametrize(
    "first, second, reasons",
    [
        # out of scope twice: the second answer is the offer
        ("can you order me a pizza", "what's the weather in paris", ["out_of_scope", "cant_help_turns:2"]),
        # keyboard mash twice: asked to rephrase, then offered a person
        ("asdkjh qwe zzz", "hdhdhdhd jjjj", ["nlu_fallback", "cant_help_turns:2"]),
    ],
)
def test_two_turns_the_bot_cannot_help_offer_a_person(
    user: User, agent: Callable[[str], Agent], first: str, second: str, reasons: List[str]
) -> None:
    reply = user.say(first)
    assert len(reply) == 1 and "haven't been able to help" not in reply[0]
    assert "Would you like me to connect you with a person" in user.say(second)[-1]
    assert "connecting you with someone from our Community Help team" in user.say("yes please")[0]
    handoff = agent("dana").handoff_of(user)
    assert handoff["trigger"] == "cant_help"
    assert handoff["reasons"] == [*reasons, "offer_accepted"]


def test_gibberish_asks_to_rephrase(user: User) -> None:
    assert "say it another way" in user.say("pppppppp")[0]


def test_declining_the_offer_keeps_the_bot(user: User) -> None:
    user.say("can you book me a flight to chicago")
    assert "Would you like me to connect you" in user.say("what's the score of the game tonight")[-1]
    assert "let's keep going" in user.say("no thanks")[0]
    assert "LIHEAP" in user.say("my electricity is about to be shut off")[0]


@pytest.mark.parametrize("text", [
    "I like turtles", "my landlord won't fix the heat", "thanks, that helps", "hello there",
    "I need help with my water bill", "where is the nearest food pantry",
])
def test_ordinary_messages_are_answered_not_escalated(user: User, text: str) -> None:
    reply = user.say(text)
    assert reply and not any("Would you like me to connect you" in t or "connecting you" in t for t in reply), reply


def test_my_landlord_wont_fix_the_heat_is_a_housing_question(user: User) -> None:
    assert "housing" in user.say("my landlord won't fix the heat")[0]


def test_strong_frustration_escalates_with_reason_codes(user: User, agent: Callable[[str], Agent]) -> None:
    assert "LIHEAP" in user.say("I can't pay my gas bill")[0]
    reply = user.say("THIS IS USELESS!!! YOU ARE NOT HELPING")
    assert "Utility Assistance team" in reply[0]
    handoff = agent("miguel").handoff_of(user)
    assert handoff["trigger"] == "frustration" and handoff["queue"] == "utilities"
    assert {"negative_feedback", "all_caps", "repeated_punctuation"} <= set(handoff["reasons"])
    assert handoff["context"]["frustration"]["score"] >= 3


def test_mild_frustration_gets_an_offer(user: User, agent: Callable[[str], Agent]) -> None:
    assert "LIHEAP" in user.say("I can't pay my gas bill")[0]
    assert "Would you like me to connect you" in user.say("ugh")[0]
    assert "Utility Assistance team" in user.say("yes")[0]
    handoff = agent("miguel").handoff_of(user)
    assert handoff["trigger"] == "frustration" and "offer_accepted" in handoff["reasons"]


@pytest.fixture
def nobody_free(agent: Callable[[str], Agent]) -> Iterator[Agent]:
    """Every agent away for the test; the supervisor is returned to look things up."""
    everyone = [agent(name) for name in ("sarah", "miguel", "dana")]
    for person in everyone:
        person.presence("away")
    yield everyone[2]
    for person in everyone:
        person.presence("online")


def test_nobody_free_the_user_leaves_a_number_for_a_callback(user: User, nobody_free: Agent) -> None:
    reply = user.say("can I talk to a human please")
    assert "nobody is free right this minute" in reply[0] and "won't need to repeat yourself" in reply[0]
    handoff = nobody_free.handoff_of(user)
    assert handoff["state"] == "queued"  # nothing is dropped
    assert "phone number or email" in user.say("/request_callback")[0]  # the button
    assert "doesn't look like a phone number" in user.say("tomorrow maybe")[0]
    confirmed = user.say("555-010-0199")
    assert "will contact you at 555-010-0199" in confirmed[0]
    tickets = nobody_free.call("GET", "/tickets")["handoffs"]
    assert [(t["id"], t["contact"]) for t in tickets if t["sender_id"] == user.id] == [(handoff["id"], "555-010-0199")]
    assert "food help" in user.say("I need food for my kids")[0]  # the bot carries on


def test_nobody_free_the_user_waits_anyway(user: User, nobody_free: Agent) -> None:
    user.say("I want to speak to someone")
    assert "you're in line" in user.say("yes")[0]
    assert user.say("hello? anyone?") == []  # relayed to the queue, not answered by the bot
    handoff = nobody_free.handoff_of(user)
    assert handoff["messages"][-1]["text"] == "hello? anyone?"


def test_nobody_free_the_user_carries_on_with_the_bot(user: User, nobody_free: Agent) -> None:
    user.say("get me a real person")
    handoff = nobody_free.handoff_of(user)
    assert "let's keep going" in user.say("/deny")[0]
    assert nobody_free.call("GET", f"/handoffs/{handoff['id']}")["state"] == "cancelled"


def test_an_agent_claiming_is_introduced_to_the_user(user: User, agent: Callable[[str], Agent]) -> None:
    user.say("I need help paying rent")
    user.say("can I talk to a human")
    sarah = agent("sarah")
    sarah.call("POST", f"/handoffs/{sarah.handoff_of(user)['id']}/claim")
    wait_for(lambda: any(t.startswith("Hi, this is Sarah, a housing specialist") for t in user.received()),
             what="the introduction")


def test_connector_down_the_user_is_told_and_the_bot_carries_on(stack: Stack, user: User) -> None:
    stack.stop(only=["connector"])
    try:
        reply = user.say("let me speak to a human")
        assert "can't reach our team right now" in reply[0]
        assert "food help" in user.say("I need food for my kids")[0]
    finally:
        stack.start(only=["connector"])
        stack.wait_healthy(only=["connector"])


def test_agent_messages_wait_while_rasa_is_down_and_arrive_in_order_once(
    stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    user.say("I need a person")
    sarah = agent("sarah")
    handoff_id = sarah.handoff_of(user)["id"]
    sarah.call("POST", f"/handoffs/{handoff_id}/claim")
    stack.stop(only=["rasa"])
    try:
        for n in range(1, 4):
            sarah.call("POST", f"/handoffs/{handoff_id}/messages", {"text": f"message {n}"}, expect=201)
        health = requests.get(f"{stack.connector_url}/health", timeout=5).json()
        assert health["outbox_pending"] >= 3
    finally:
        stack.start(only=["rasa"])
        stack.wait_healthy(only=["rasa"], timeout=300)
    wait_for(lambda: "message 3" in user.received(), timeout=90, what="the queued agent messages")
    relayed = [t for t in user.received() if t.startswith("message ")]
    assert relayed == ["message 1", "message 2", "message 3"]
    tracker = requests.get(f"{stack.rasa_url}/conversations/{user.id}/tracker",
                           params={"token": stack.rasa_token}, timeout=30).json()
    in_tracker = [e["text"] for e in tracker["events"] if e["event"] == "bot" and e["text"].startswith("message ")]
    assert in_tracker == ["message 1", "message 2", "message 3"]
    # The user is still with Sarah after the restart: their messages reach her.
    assert user.say("thanks, got them") == []
    assert sarah.call("GET", f"/handoffs/{handoff_id}")["messages"][-1]["text"] == "thanks, got them"


def test_a_retried_delivery_that_already_reached_rasa_is_not_sent_twice(
    stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    import sqlite3

    user.say("I want to talk to someone")
    sarah = agent("sarah")
    handoff_id = sarah.handoff_of(user)["id"]
    sarah.call("POST", f"/handoffs/{handoff_id}/claim")
    sarah.call("POST", f"/handoffs/{handoff_id}/messages", {"text": "only once, please"}, expect=201)
    wait_for(lambda: "only once, please" in user.received(), what="the agent message")
    # Pretend Rasa's answer was lost after it had applied the event: the
    # outbox sees an unfinished item with one failed attempt behind it.
    db = sqlite3.connect(stack.workdir / "handoff.db")
    with db:
        db.execute("UPDATE outbox SET delivered_at = NULL, attempts = 1 WHERE handoff_id = ?", (handoff_id,))
    wait_for(lambda: db.execute("SELECT COUNT(*) FROM outbox WHERE handoff_id = ? AND delivered_at IS NULL",
                                (handoff_id,)).fetchone()[0] == 0, what="the outbox to settle")
    db.close()
    assert user.received().count("only once, please") == 1


def test_never_mind_while_waiting_goes_back_to_the_bot(user: User, agent: Callable[[str], Agent]) -> None:
    user.say("I need to talk to a person")
    assert "back with the assistant" in user.say("never mind")[0]
    assert agent("dana").call("GET", "/queue")["handoffs"] == [] or all(
        h["sender_id"] != user.id for h in agent("dana").call("GET", "/queue")["handoffs"])
    assert "food help" in user.say("I need food for my family")[0]


def test_a_new_session_does_not_hand_an_open_handoff_back_to_the_bot(
    stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    user.say("can I talk to a human")
    handoff = agent("dana").handoff_of(user)
    # A new session whose slots were not carried over (carry_over_slots_to_new_session:
    # false, or a lost tracker): the handoff slot is empty when the session starts.
    # "/session_start" runs what Rasa runs when a session expires; backdating the
    # last message instead does not work with the SQL tracker store, which orders
    # events by their timestamps.
    response = requests.post(f"{stack.rasa_url}/conversations/{user.id}/tracker/events",
                             params={"token": stack.rasa_token},
                             json=[{"event": "slot", "name": "handoff_id", "value": None}], timeout=30)
    assert response.status_code == 200
    user.say("/session_start")
    assert user.say("are you still there?") == []  # relayed to the team, not answered by the bot
    messages = agent("dana").call("GET", f"/handoffs/{handoff['id']}")["messages"]
    assert messages[-1]["text"] == "are you still there?"
    tracker = requests.get(f"{stack.rasa_url}/conversations/{user.id}/tracker",
                           params={"token": stack.rasa_token, "include_events": "ALL"}, timeout=30).json()
    assert [e["event"] for e in tracker["events"]].count("session_started") == 2  # it did expire


def test_an_abandoned_handoff_hands_the_user_back_quietly(
    stack: Stack, user: User, agent: Callable[[str], Agent]
) -> None:
    user.say("can I talk to a person")
    assert agent("dana").handoff_of(user)["state"] == "queued"
    # What the connector's housekeeping sends when the user has been silent past
    # abandon_after_seconds (its decision is tested in tests/service/test_waiting.py).
    response = requests.post(f"{stack.rasa_url}/conversations/{user.id}/trigger_intent",
                             params={"token": stack.rasa_token, "output_channel": "latest"},
                             json={"name": "EXTERNAL_handoff_abandoned"}, timeout=60)
    assert response.status_code == 200
    wait_for(lambda: any("hadn't heard from you" in t for t in user.received()), what="the notice")
    assert "Community Help Line assistant" in user.say("hello")[0]  # the bot answers again


def test_a_waiting_user_is_told_when_they_move_up(stack: Stack, inbox: Inbox, agent: Callable[[str], Agent]) -> None:
    first, second = User(stack, inbox), User(stack, inbox)
    assert "food help" in first.say("I need food for my kids")[0]
    first.say("can I talk to a person")
    assert "food help" in second.say("where can I get free groceries")[0]
    reply = second.say("can I speak to someone please")
    assert "Food Assistance team" in reply[0] and "number 2 in line" in reply[0]
    miguel = agent("miguel")
    miguel.call("POST", f"/handoffs/{miguel.handoff_of(first)['id']}/claim")
    wait_for(lambda: any(t.startswith("You're now number 1 in line") for t in second.received()),
             what="the place-in-line update")
    assert not any("You're now number" in t for t in first.received())
