"""The record: history filters and full-text search, one conversation's record, exports, access.

Four conversations are seeded through the real API (their creation days set
afterwards), so each filter's answer is known by construction:

====  ========  =======  ========  ==========  ======  =========  ========  ==========
name  sender    queue    channel   trigger     agent   outcome    rating    day (2026)
====  ========  =======  ========  ==========  ======  =========  ========  ==========
H1    u-ana     housing  webchat   explicit    sarah   resolved   5         01-05
H2    u-ana     general  callback  cant_help   miguel  referred   2         01-10
H3    u-bo      food     twilio    frustration -       (queued)   -         01-15
H4    u-cy      general  webchat   explicit    sarah   resolved   -         01-20
====  ========  =======  ========  ==========  ======  =========  ========  ==========
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.schema import handoffs
from tests.connector_process import config_dict
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, make_config

PRIYA = {"Authorization": "Bearer t-priya"}
OUTSIDER = {"id": "priya", "name": "Priya", "title": "food bank coordinator", "token": "t-priya", "queues": ["food"]}
ODD = '=HYPERLINK("http://evil.example") a, b "quoted"\nsecond line 日本語 ü'


def day(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


SEED: Dict[str, Dict[str, Any]] = {
    "H1": {"sender": "u-ana", "queue": "housing", "channel": "webchat", "trigger": "explicit",
           "said": "I got an eviction notice", "agent": SARAH, "user": "My landlord wants me out in 3 days",
           "note": "Tenant owes the deposit", "resolution": "resolved", "rating": 5, "comment": "kind and quick",
           "day": "2026-01-05T09:00:00"},
    "H2": {"sender": "u-ana", "queue": "general", "channel": "callback", "trigger": "cant_help",
           "said": "my benefits stopped", "agent": MIGUEL, "user": "The form says ÉCHEC, then nothing",
           "resolution": "referred", "close_note": "sent to legal aid", "rating": 2, "day": "2026-01-10T12:00:00"},
    "H3": {"sender": "u-bo", "queue": "food", "channel": "twilio", "trigger": "frustration",
           "said": "no food since monday", "day": "2026-01-15T08:30:00"},
    "H4": {"sender": "u-cy", "queue": "general", "channel": "webchat", "trigger": "explicit", "said": ODD,
           "agent": SARAH, "user": "+1 call me, maybe", "resolution": "resolved", "day": "2026-01-20T17:45:00"},
}


async def _post(client: TestClient, path: str, headers: Dict[str, str], body: Any = None) -> Dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status in (200, 201), (path, await response.text())
    answer: Dict[str, Any] = await response.json()
    return answer


async def seed(client: TestClient) -> Dict[str, str]:
    """The four conversations; their ids by name."""
    ids: Dict[str, str] = {}
    for name, s in SEED.items():
        ticket = await _post(client, "/bot/v1/handoffs", {**BOT, "Idempotency-Key": name}, {
            "sender_id": s["sender"], "channel": s["channel"], "trigger": s["trigger"], "queue": s["queue"],
            "slots": {"name": "Ana"} if s["sender"] == "u-ana" else {},
            "transcript": [{"role": "user", "text": s["said"], "timestamp": s["day"] + "+00:00"},
                           {"role": "bot", "text": "Let me find someone", "timestamp": s["day"] + "+00:00"}]})
        handoff_id = ids[name] = ticket["id"]
        url = f"/api/v1/handoffs/{handoff_id}"
        if "agent" in s:
            await _post(client, f"{url}/claim", s["agent"])
            await _post(client, f"/bot/v1/handoffs/{handoff_id}/messages", BOT, {"message_id": f"{name}-1",
                                                                                "text": s["user"]})
            await _post(client, f"{url}/messages", s["agent"], {"text": f"Thanks, looking at it ({name})"})
            if "note" in s:
                await _post(client, f"{url}/notes", s["agent"], {"text": s["note"]})
            await _post(client, f"{url}/close", s["agent"], {"resolution": s["resolution"],
                                                             "note": s.get("close_note")})
        if "rating" in s:
            await _post(client, f"/bot/v1/handoffs/{handoff_id}/survey", BOT,
                        {"rating": s["rating"], "comment": s.get("comment")})
        at = day(s["day"])
        await client.app[STORE].db.run(lambda tx, i=handoff_id, at=at: tx.run(handoffs.update().where(
            handoffs.c.id == i).values(created_at=at, claimed_at=sa.case(
                (handoffs.c.claimed_at.is_(None), None), else_=at + 60), closed_at=sa.case(
                (handoffs.c.closed_at.is_(None), None), else_=at + 600))))
    return ids


@pytest.fixture
async def desk(tmp_path: Path, database: str, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    config = make_config(tmp_path, database, agents=[*config_dict(tmp_path)["agents"], OUTSIDER],
                         retention={"days": 30, "action": "delete"})
    return await aiohttp_client(create_app(config))


async def history(client: TestClient, query: str, headers: Dict[str, str] = DANA) -> Dict[str, Any]:
    response = await client.get(f"/api/v1/history?{query}", headers=headers)
    answer: Dict[str, Any] = await response.json()
    assert response.status == 200, answer
    return answer


def names(ids: Dict[str, str], answer: Dict[str, Any]) -> List[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[h["id"]] for h in answer["handoffs"]]


FILTERS = [
    ("", ["H4", "H3", "H2", "H1"]),  # everything, newest first
    ("queue=general", ["H4", "H2"]),
    ("queue=housing", ["H1"]),
    ("agent=sarah", ["H4", "H1"]),
    ("agent=miguel", ["H2"]),
    ("trigger=cant_help", ["H2"]),
    ("trigger=frustration", ["H3"]),
    ("resolution=referred", ["H2"]),
    ("resolution=resolved", ["H4", "H1"]),
    ("rating=5", ["H1"]),
    ("rating=2", ["H2"]),
    ("rating=4", []),
    ("channel=twilio", ["H3"]),
    ("state=queued", ["H3"]),
    ("state=closed", ["H4", "H2", "H1"]),
    ("from=2026-01-10", ["H4", "H3", "H2"]),  # a day from its start, UTC
    ("to=2026-01-10", ["H2", "H1"]),  # a date as `to`: through its end
    ("from=2026-01-06&to=2026-01-15", ["H3", "H2"]),
    (f"from={day('2026-01-10T12:00:00'):.0f}&to=2026-01-10T12:00:00Z", []),  # epoch; a time as `to` is exclusive
    ("from=2026-01-10T13:00:00%2B01:00", ["H4", "H3", "H2"]),  # 12:00 UTC
    ("queue=general&agent=sarah", ["H4"]),
    # Full text: the context transcript, a user message, a note, a close note, any case, prefixes.
    ("q=eviction", ["H1"]),
    ("q=landlord", ["H1"]),
    ("q=deposit", ["H1"]),
    ("q=legal", ["H2"]),
    ("q=%C3%A9chec", ["H2"]),  # "échec" finds "ÉCHEC"
    ("q=evict*", ["H1"]),
    ("q=Landlord+DEPOSIT", ["H1"]),  # every word, in any of the conversation's texts
    ("q=landlord+benefits", []),
    ("q=looking", ["H4", "H2", "H1"]),  # the agents' messages
    ("q=evict", []),  # a whole word unless it ends with *
    ("q=%21%21%21", ["H4", "H3", "H2", "H1"]),  # no words: no full-text filter
    ("q=looking&queue=general&state=closed", ["H4", "H2"]),
]


@pytest.mark.parametrize("query, expected", FILTERS)
async def test_each_filter_and_search_finds_exactly_the_seeded_answer(desk: TestClient, query: str,
                                                                      expected: List[str]) -> None:
    ids = await seed(desk)
    answer = await history(desk, query)
    assert names(ids, answer) == expected
    assert answer["total"] == len(expected) and answer["next"] is None


async def test_results_say_where_the_words_matched(desk: TestClient) -> None:
    ids = await seed(desk)
    found = (await history(desk, "q=deposit+eviction"))["handoffs"]
    assert [h["id"] for h in found] == [ids["H1"]]
    assert [(m["source"], m["role"], m["text"]) for m in found[0]["matches"]] == [
        ("transcript", "user", "I got an eviction notice"), ("note", "note", "Tenant owes the deposit")]
    assert found[0]["rating"] == 5
    legal = (await history(desk, "q=legal"))["handoffs"][0]["matches"]
    assert [(m["source"], m["text"]) for m in legal] == [("close_note", "sent to legal aid")]


async def test_pages_newest_first_with_a_cursor(desk: TestClient) -> None:
    ids = await seed(desk)
    first = await history(desk, "limit=3")
    assert names(ids, first) == ["H4", "H3", "H2"] and first["total"] == 4 and first["next"]
    second = await history(desk, f"limit=3&after={first['next']}")
    assert names(ids, second) == ["H1"] and second["next"] is None


@pytest.mark.parametrize("who, expected", [
    (PRIYA, ["H3"]),  # food only
    (MIGUEL, ["H4", "H3", "H2"]),  # general and food
    (SARAH, ["H4", "H2", "H1"]),  # general and housing
])
async def test_agents_see_only_their_queues_history(desk: TestClient, who: Dict[str, str],
                                                    expected: List[str]) -> None:
    ids = await seed(desk)
    assert names(ids, await history(desk, "", who)) == expected
    # The words of a conversation outside their queues find nothing either.
    assert names(ids, await history(desk, "q=eviction", who)) == [n for n in expected if n == "H1"]


async def test_an_agent_asking_for_another_queue_is_refused(desk: TestClient) -> None:
    await seed(desk)
    response = await desk.get("/api/v1/history?queue=housing", headers=PRIYA)
    assert response.status == 403


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-45", "rating=6", "rating=x", "state=gone",
                                   "trigger=x", "resolution=x", "limit=0", "after=nope", "queue=" + "q" * 101])
async def test_bad_filters_are_a_clear_400(desk: TestClient, query: str) -> None:
    response = await desk.get(f"/api/v1/history?{query}", headers=DANA)
    assert response.status == 400
    assert (await response.json())["error"]


async def test_the_record_has_everything_and_the_users_other_conversations(desk: TestClient) -> None:
    ids = await seed(desk)
    record = await (await desk.get(f"/api/v1/handoffs/{ids['H1']}/record", headers=DANA)).json()
    assert [t["text"] for t in record["transcript"]] == ["I got an eviction notice", "Let me find someone"]
    assert [(m["role"], m["text"]) for m in record["messages"]] == [
        ("agent", "Hi, this is Sarah, a housing specialist. I've read your conversation with the assistant "
                  "and can help from here."),
        ("user", "My landlord wants me out in 3 days"), ("agent", "Thanks, looking at it (H1)"),
        ("note", "Tenant owes the deposit")]
    assert [t["to_state"] for t in record["transitions"]] == ["requested", "queued", "assigned", "closed"]
    assert (record["survey"]["rating"], record["survey"]["comment"]) == (5, "kind and quick")
    assert record["user_name"] == "Ana" and record["team"] == "Housing Help team"
    assert [h["id"] for h in record["previous"]] == [ids["H2"]]
    # Miguel sees H2 but not H1 (housing, Sarah's): H2's previous is empty for him, H1 unknown.
    mine = await (await desk.get(f"/api/v1/handoffs/{ids['H2']}/record", headers=MIGUEL)).json()
    assert mine["previous"] == []
    assert (await desk.get(f"/api/v1/handoffs/{ids['H1']}/record", headers=MIGUEL)).status == 404
    assert (await desk.get(f"/api/v1/handoffs/{ids['H1']}/transcript", headers=PRIYA)).status == 404
    assert (await desk.get(f"/api/v1/handoffs/{'0' * 32}/record", headers=DANA)).status == 404


def _read_back(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r") else value


async def _csv(client: TestClient, path: str, headers: Dict[str, str] = DANA) -> List[Dict[str, str]]:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8"), newline="")))


async def test_csv_round_trip(desk: TestClient) -> None:
    ids = await seed(desk)
    rows = await _csv(desk, "/api/v1/export/handoffs.csv")
    listed = (await history(desk, ""))["handoffs"]
    assert [r["id"] for r in rows] == [h["id"] for h in listed]
    for row, handoff in zip(rows, listed, strict=True):
        assert (row["queue"], row["state"], row["trigger"], row["agent_id"] or None, row["resolution"] or None) == (
            handoff["queue"], handoff["state"], handoff["trigger"], handoff["agent_id"], handoff["resolution"])
        assert (int(row["rating"]) if row["rating"] else None) == handoff["rating"]
        assert datetime.fromisoformat(row["created_at"]).timestamp() == handoff["created_at"]
    assert [(r["messages"], r["notes"]) for r in rows] == [("3", "0"), ("0", "0"), ("3", "0"), ("3", "1")]
    said = await _csv(desk, "/api/v1/export/messages.csv?channel=webchat")
    assert {r["handoff_id"] for r in said} == {ids["H1"], ids["H4"]}
    for name in ("H4", "H1"):
        record = await (await desk.get(f"/api/v1/handoffs/{ids[name]}/record", headers=DANA)).json()
        mine = [r for r in said if r["handoff_id"] == ids[name]]
        expected = [t["text"] for t in record["transcript"]] + [m["text"] for m in record["messages"]]
        assert [_read_back(r["text"]) for r in mine] == expected
        assert [r["position"] for r in mine] == [str(n) for n in range(1, len(expected) + 1)]
    odd = next(r for r in said if r["handoff_id"] == ids["H4"] and r["source"] == "transcript")
    assert odd["text"] == "'" + ODD  # a formula, a comma, quotes, a newline, unicode: intact, defused
    plus = next(r for r in said if r["text"].startswith("'+1"))
    assert _read_back(plus["text"]) == "+1 call me, maybe"
    # An agent's export holds their queues only.
    assert [r["id"] for r in await _csv(desk, "/api/v1/export/handoffs.csv", PRIYA)] == [ids["H3"]]
    assert (await desk.get("/api/v1/export/messages.csv?queue=housing", headers=PRIYA)).status == 403


async def test_the_transcript_file(desk: TestClient) -> None:
    ids = await seed(desk)
    response = await desk.get(f"/api/v1/handoffs/{ids['H1']}/transcript", headers=SARAH)
    assert response.status == 200 and response.content_type == "text/plain"
    assert response.headers["Content-Disposition"] == f'attachment; filename="handoff-{ids["H1"]}.txt"'
    text = await response.text()
    assert "[2026-01-05T09:00:00+00:00] User: I got an eviction notice" in text
    assert "NOTE by sarah (internal, not seen by the user): Tenant owes the deposit" in text
    assert "User: My landlord wants me out in 3 days" in text
    assert "Started: 2026-01-05 09:00:00 UTC" in text and 'Survey: 5/5 "kind and quick"' in text
