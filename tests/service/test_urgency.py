"""Urgent first: signals in the user's words mark a handoff urgent, the line puts it first,
the user hears the level's message once, and agents raise or clear it by hand with a reason.

The test config (tests/connector_process.py) has two levels, urgent and crisis, and two
signals: self-harm (crisis: phrases and a pattern) and eviction today (urgent: phrases
and an intent)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service.config import ConfigError
from handoff_connector.service.signals import parse_urgency
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, create, make_config, outbox_items

CRISIS_TEXT = "If you are in danger, call 911 or 988 now."
URGENT_TEXT = "Marked urgent: a person sees it first."


def _said(*texts: str) -> List[Dict[str, Any]]:
    return [{"role": "user", "text": t, "timestamp": "2026-01-01T10:00:00.000+00:00"} for t in texts]


async def _queue(client: TestClient, headers: Dict[str, str] = SARAH, query: str = "") -> List[Dict[str, Any]]:
    return (await (await client.get(f"/api/v1/queue{query}", headers=headers)).json())["handoffs"]


async def _told(client: TestClient, text: str) -> int:
    """How many times the user is to hear ``text`` (the outbox's system messages)."""
    return sum(1 for item in await outbox_items(client.app)
               if item["kind"] == "message" and item["payload"].get("text") == text)


async def _relay(client: TestClient, handoff_id: str, message_id: str, text: str, **more: Any) -> Dict[str, Any]:
    response = await client.post(f"/bot/v1/handoffs/{handoff_id}/messages",
                                 json={"message_id": message_id, "text": text, **more}, headers=BOT)
    assert response.status in (200, 201), await response.text()
    return await response.json()


# -- the signals themselves ---------------------------------------------------------

URGENCY = parse_urgency({
    "levels": [{"name": "urgent"}, {"name": "crisis", "message": "Call 988."}],
    "signals": [
        {"label": "self-harm", "level": "crisis", "phrases": ["kill myself"], "patterns": [r"\bno reason to live\b"]},
        {"label": "shutoff", "level": "urgent", "phrases": ["shut off today", "coupé aujourd'hui"],
         "intents": ["shutoff_today"]},
    ],
}, "test")


@pytest.mark.parametrize("text, level", [
    ("I want to KILL myself", "crisis"),  # any case
    ("they SHUT it... off today??", None),  # words between: not the phrase
    ("power was shut off, today!", "urgent"),  # punctuation between words is no word
    ("le courant est coupe aujourd hui", "urgent"),  # accents and apostrophes folded
    ("there is no reason to live", "crisis"),  # a pattern
    ("they will shut off todays bill", None),  # whole words only
    ("my skill myself", None),  # "kill" inside "skill" is not the word
    ("I want to kill myself, and the power was shut off today", "crisis"),  # the most urgent wins
])
def test_phrases_and_patterns_match_whole_words_whatever_the_case_and_accents(text: str, level: Any) -> None:
    match = URGENCY.scan([text])
    assert (match.level.name if match else None) == level


def test_an_intent_matches_and_an_unknown_one_does_not() -> None:
    assert URGENCY.scan([], ["shutoff_today"]).label == "shutoff"  # type: ignore[union-attr]
    assert URGENCY.scan(["hello"], ["greet"]) is None


@pytest.mark.parametrize("section, complaint", [
    ({"levels": [{"name": "urgent"}], "signals": [{"label": "x", "level": "crisis", "phrases": ["a"]}]},
     "`level` must be one of"),
    ({"levels": [{"name": "urgent"}], "signals": [{"label": "x", "level": "urgent", "patterns": ["("]}]},
     "not a valid regular expression"),
    ({"levels": [{"name": "urgent"}], "signals": [{"label": "x", "level": "urgent", "patterns": ["a*"]}]},
     "matches empty text"),
    ({"levels": [{"name": "urgent"}], "signals": [{"label": "x", "level": "urgent"}]}, "needs phrases"),
    ({"levels": [{"name": "none"}]}, "is taken"),
    ({"levels": [{"name": "urgent"}], "signals": [{"label": "x", "level": "urgent", "phrase": ["a"]}]},
     "unknown key"),
    ({"level": []}, "must be a mapping with"),
])
def test_a_wrong_urgency_section_fails_at_start_naming_the_key(tmp_path: Any, section: Any, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as error:
        make_config(tmp_path, urgency=section)
    assert "urgency" in str(error.value)


# -- over the API, on both databases --------------------------------------------------

async def test_words_before_the_handoff_make_it_urgent_first_in_line_and_the_user_is_told(
        client: TestClient) -> None:
    older = await create(client, "k1", sender="u1")
    ticket = await create(client, "k2", sender="u2", transcript=_said("hello", "I want to end my life"))
    queue = await _queue(client)
    assert [h["id"] for h in queue] == [ticket["id"], older["id"]]
    assert (queue[0]["urgency"], queue[0]["urgency_level"], queue[0]["urgency_label"]) == (2, "crisis", "self-harm")
    assert await _told(client, CRISIS_TEXT) == 1
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert [(c["level"], c["actor"]) for c in detail["urgency_changes"]] == [("crisis", "signal")]
    assert "end my life" in detail["urgency_changes"][0]["reason"]
    # The same request again (a retry) changes nothing and tells the user nothing more.
    again = await create(client, "k2", sender="u2", transcript=_said("hello", "I want to end my life"))
    assert again["id"] == ticket["id"] and await _told(client, CRISIS_TEXT) == 1


async def test_words_during_the_handoff_raise_it_once_and_never_lower_it(client: TestClient) -> None:
    first = await create(client, "k1", sender="u1")
    ticket = await create(client, "k2", sender="u2")
    assert [h["id"] for h in await _queue(client)] == [first["id"], ticket["id"]]
    await _relay(client, ticket["id"], "m1", "and the water gets shut off today")
    queue = await _queue(client)
    assert [h["id"] for h in queue] == [ticket["id"], first["id"]] and queue[0]["urgency_level"] == "urgent"
    await _relay(client, ticket["id"], "m1", "and the water gets shut off today")  # a retry
    await _relay(client, ticket["id"], "m2", "it will be shut off today, really")  # as urgent: no news
    assert await _told(client, URGENT_TEXT) == 1
    await _relay(client, ticket["id"], "m3", "honestly I don't want to live like this")
    await _relay(client, ticket["id"], "m4", "we might get evicted today", intent="eviction_today")
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert (detail["urgency"], detail["urgency_label"]) == (2, "self-harm")  # the milder match did not lower it
    assert [c["level"] for c in detail["urgency_changes"]] == ["urgent", "crisis"]
    assert (await _told(client, URGENT_TEXT), await _told(client, CRISIS_TEXT)) == (1, 1)


async def test_a_message_that_came_late_is_looked_through_too(client: TestClient) -> None:
    ticket = await create(client, "k1", sender="u1")
    earlier = [{"message_id": "m1", "text": "we got evicted today", "timestamp": 1.0}]
    await _relay(client, ticket["id"], "m2", "are you there?", earlier=earlier)
    assert (await _queue(client))[0]["urgency_label"] == "eviction today"


async def test_the_line_is_most_urgent_first_then_oldest_and_pages_keep_that_order(client: TestClient) -> None:
    made = [(await create(client, f"k{n}", sender=f"u{n}"))["id"] for n in range(6)]
    await _relay(client, made[4], "m", "we were evicted today")
    await _relay(client, made[2], "m", "I will kill myself")
    await _relay(client, made[5], "m", "shut off today")
    line = [made[2], made[4], made[5], made[0], made[1], made[3]]
    assert [h["id"] for h in await _queue(client)] == line
    seen, cursor = [], None
    while True:
        page = await (await client.get("/api/v1/queue?limit=2" + (f"&after={cursor}" if cursor else ""),
                                       headers=SARAH)).json()
        seen += [h["id"] for h in page["handoffs"]]
        if (cursor := page["next"]) is None:
            break
    assert seen == line
    # The place each user is told follows the same order.
    for handoff_id, sender, place in ((made[2], "u2", 1), (made[0], "u0", 4)):
        found = await (await client.get(f"/bot/v1/conversations/{sender}/handoff", headers=BOT)).json()
        assert (found["id"], found["position"]) == (handoff_id, place)


async def test_an_agent_raises_and_clears_it_by_hand_with_a_reason_that_is_recorded(client: TestClient) -> None:
    older = await create(client, "k1", sender="u1")
    ticket = await create(client, "k2", sender="u2")
    url = f"/api/v1/handoffs/{ticket['id']}/urgency"
    raised = await client.post(url, json={"level": "crisis", "reason": "caller is in danger", "label": "safety"},
                               headers=SARAH)
    assert raised.status == 200, await raised.text()
    assert (await raised.json())["urgency_label"] == "safety"
    assert [h["id"] for h in await _queue(client)] == [ticket["id"], older["id"]]
    assert await _told(client, CRISIS_TEXT) == 1
    cleared = await client.post(url, json={"level": "none", "reason": "a misunderstanding"}, headers=DANA)
    assert cleared.status == 200 and (await cleared.json())["urgency"] == 0
    assert [h["id"] for h in await _queue(client)] == [older["id"], ticket["id"]]
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=SARAH)).json()
    assert [(c["level"], c["actor"], c["reason"]) for c in detail["urgency_changes"]] == [
        ("crisis", "agent:sarah", "caller is in danger"), ("none", "agent:dana", "a misunderstanding")]
    events = (await (await client.get("/api/v1/events?after=0", headers=DANA)).json())["events"]
    assert [e["urgency_level"] for e in events if e["type"] == "handoff.urgency"] == ["crisis", "none"]


@pytest.mark.parametrize("body, headers, status", [
    ({"level": "urgent", "reason": "x"}, MIGUEL, 403),  # not in the housing queue
    ({"level": "severe", "reason": "x"}, SARAH, 400),  # no such level
    ({"level": "urgent"}, SARAH, 400),  # a reason is required
    ({"level": "urgent", "reason": "   "}, SARAH, 400),
    ({"level": "urgent", "reason": "x" * 501}, SARAH, 400),
    ({"level": 2, "reason": "x"}, SARAH, 400),
])
async def test_by_hand_refuses_clearly_and_changes_nothing(
        client: TestClient, body: Dict[str, Any], headers: Dict[str, str], status: int) -> None:
    ticket = await create(client, "k1", sender="u1")
    response = await client.post(f"/api/v1/handoffs/{ticket['id']}/urgency", json=body, headers=headers)
    assert response.status == status, await response.text()
    assert "error" in await response.json()
    detail = await (await client.get(f"/api/v1/handoffs/{ticket['id']}", headers=DANA)).json()
    assert (detail["urgency"], detail["urgency_changes"]) == (0, [])


async def test_by_hand_on_a_closed_or_unknown_handoff_is_a_409_or_404(client: TestClient) -> None:
    ticket = await create(client, "k1", sender="u1")
    await client.post(f"/api/v1/handoffs/{ticket['id']}/claim", headers=SARAH)
    await client.post(f"/api/v1/handoffs/{ticket['id']}/close", json={"resolution": "resolved"}, headers=SARAH)
    body = {"level": "urgent", "reason": "x"}
    assert (await client.post(f"/api/v1/handoffs/{ticket['id']}/urgency", json=body, headers=SARAH)).status == 409
    assert (await client.post("/api/v1/handoffs/nope/urgency", json=body, headers=SARAH)).status == 404
