"""The designer's view over the real processes: Rasa's SQL event broker, the action
server, the connector. A conversation that never escalates counts as much as one
that does: both reach the connector through the broker, not through a handoff."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

from stack import Stack
from tests.e2e.conftest import Agent, User, wait_for


def insights(supervisor: Agent, path: str, since: float) -> Dict[str, Any]:
    found: Dict[str, Any] = supervisor.call("GET", f"/insights/bot{path}{'&' if '?' in path else '?'}from={since}")
    return found


def two_conversations(stack: Stack, user: User, inbox: Any, dana: Agent,
                      source: str) -> Tuple[User, Dict[str, Any], Dict[str, Any]]:
    """One contained conversation and one that asks for a person, both folded in from the
    broker: the escalating user, their handoff, and the figures by channel."""
    # This test's conversations only: the stack is shared, and the test before may have
    # started some a moment ago (Rasa, on this machine's clock, stamps ours after this).
    since = time.time()
    assert "food" in user.say("where is the nearest food pantry")[0]
    assert "Take care" in user.say("bye")[0]  # contained: the bot helped, nobody was asked for
    escalating = User(stack, inbox)
    assert "connecting you" in escalating.say("can I talk to a real person")[0]
    handoff = dana.handoff_of(escalating)
    seen: Dict[str, Any] = {"since": since}

    def folded() -> Any:
        seen.update(insights(dana, "?by=channel", since))
        return (seen["totals"]["conversations"], seen["totals"]["escalated"]) == (2, 1)

    try:
        wait_for(folded, timeout=30, what=f"both conversations folded in {source}")
    except AssertionError:
        raise AssertionError(f"folded so far: {seen}") from None
    return escalating, handoff, seen


def test_every_conversation_counts_in_the_escalation_rate(
        stack: Stack, user: User, inbox: Any, agent: Callable[[str], Agent]) -> None:
    dana = agent("dana")
    escalating, handoff, seen = two_conversations(stack, user, inbox, dana, "from the SQL broker")
    since = seen["since"]
    totals = seen["totals"]
    assert totals["escalation_rate"] == 0.5 and totals["containment_rate"] == 0.5
    assert totals["contained"] == 1 and totals["handoffs"] == 1
    by_trigger = insights(dana, "?by=trigger", since)["groups"]
    # The connector's own handoff row says why: the trigger and reason codes the action sent.
    assert [(g["key"], g["escalated"], g["reasons"]) for g in by_trigger] == [
        ("explicit", 1, {reason: 1 for reason in handoff["reasons"]})]
    assert handoff["trigger"] == "explicit"
    by_channel = insights(dana, "?by=channel", since)["groups"]
    assert [(g["key"], g["conversations"], g["escalated"]) for g in by_channel] == [("callback", 2, 1)]
    by_queue = insights(dana, "?by=queue", since)["groups"]
    assert [(g["key"], g["escalated"]) for g in by_queue] == [(handoff["queue"], 1)]
    turns = insights(dana, "/turns", since)
    assert turns["turns"] == [{"turn": 1, "count": 1}]
    paths = insights(dana, "/paths", since)["paths"]
    assert [p["path"] for p in paths] == [[{"kind": "intent", "name": "human_handoff"}]]
    assert [(e["handoff_id"], e["sender_id"]) for e in paths[0]["examples"]] == [(handoff["id"], escalating.id)]
    # Agents do not see the designer's figures.
    assert agent("sarah").call("GET", "/insights/bot", expect=403)["status"] == 403
