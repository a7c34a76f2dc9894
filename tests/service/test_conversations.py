"""Every bot conversation, folded from Rasa's event broker, and the designer's figures over them.

The events are real: ``data/rasa_broker_events.json`` is what Rasa 3.6's SQL
event broker wrote (its ``events`` table: id, sender_id, data) while six
conversations ran on the demo bot over the rest channel, with agents online:

- plain: "hi", "where is the nearest food pantry", "bye" (the bot answers all)
- explicit: "hi", "I got an eviction notice ...", "can I talk to a real person";
  then closed by an agent, the survey answered ("5", "thanks")
- cant_help: two keyboard mashes (asked to rephrase, then offered a person), "yes please"
- declined: two out-of-scope questions (offered a person), "no thanks", a utility question
- frustrated: "I can't pay my gas bill", "THIS IS USELESS!!! YOU ARE NOT HELPING"
- mild: "I can't pay my gas bill", "ugh" (offered a person), "yes"

A seeded set replays them under new senders and times, so every figure is known.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from postgres import throwaway_database
from sqlalchemy.ext.asyncio import create_async_engine

from handoff_connector.service.broker import SOURCE, BrokerTable, Gaps, tail_once
from handoff_connector.service.keys import STORE
from handoff_connector.service.storage.conversations import BrokerRow
from handoff_connector.service.storage.database import engine_url
from tests.service.conftest import DANA, SARAH, create

CAPTURED = json.loads((Path(__file__).parent / "data" / "rasa_broker_events.json").read_text())
DAY_1 = float(calendar.timegm(dt.date(2026, 3, 2).timetuple()))  # a Monday, 00:00 UTC
DAY_2 = DAY_1 + 86400
HOUR = 3600.0


def conversation(name: str) -> List[Dict[str, Any]]:
    return [row["data"] for row in CAPTURED if row["sender_id"] == name]


def replay(name: str, sender: str, start: float, handoff_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """The captured conversation ``name`` as ``sender``'s, beginning at ``start``; its handoff
    (if any) gets ``handoff_id`` (default: a new one of its own)."""
    events = copy.deepcopy(conversation(name))
    first = events[0]["timestamp"]
    for event in events:
        event["sender_id"] = sender
        event["timestamp"] = start + (event["timestamp"] - first)
        if event["event"] == "slot" and event["name"] in ("handoff_id", "survey_handoff_id") and event["value"]:
            event["value"] = handoff_id or f"h-{sender}"
    return events


class Broker:
    """Rows as Rasa's broker numbers them, fed to the store a batch at a time."""

    def __init__(self, client: TestClient) -> None:
        self.store = client.app[STORE].conversations
        self.rows: List[BrokerRow] = []

    def add(self, events: List[Dict[str, Any]]) -> None:
        for event in events:
            self.rows.append((len(self.rows) + 1, event["sender_id"], event))

    async def flush(self, batch: int = 50) -> None:
        position = await self.store.position(SOURCE)
        fresh = [row for row in self.rows if row[0] > position]
        for start in range(0, len(fresh), batch):
            chunk = fresh[start:start + batch]
            await self.store.ingest(SOURCE, chunk, chunk[-1][0])


async def seeded(client: TestClient) -> Broker:
    """Day 1 (09:00-14:00 UTC): 3 plain, explicit, cant_help, declined. Day 2 (10:00-12:00):
    plain, frustrated, mild. Interleaved, as several users at once are."""
    broker = Broker(client)
    day_1 = [replay("plain", "p1", DAY_1 + 9 * HOUR), replay("explicit", "e1", DAY_1 + 9 * HOUR + 1),
             replay("plain", "p2", DAY_1 + 10 * HOUR), replay("cant_help", "c1", DAY_1 + 10 * HOUR + 5),
             replay("plain", "p3", DAY_1 + 13 * HOUR), replay("declined", "d1", DAY_1 + 14 * HOUR)]
    day_2 = [replay("plain", "p4", DAY_2 + 10 * HOUR), replay("frustrated", "f1", DAY_2 + 11 * HOUR),
             replay("mild", "m1", DAY_2 + 12 * HOUR)]
    for events in sorted((e for c in day_1 + day_2 for e in c), key=lambda e: e["timestamp"]):
        broker.add([events])
    await broker.flush()
    return broker


async def get(client: TestClient, path: str, headers: Dict[str, str] = DANA, status: int = 200) -> Any:
    response = await client.get(path, headers=headers)
    body = await response.json()
    assert response.status == status, body
    return body


ALL = "from=2026-03-02&to=2026-03-03"  # both days (a date as `to` takes in that day)
OFFERS_NONE = {"made": 0, "accepted": 0, "declined": 0, "unanswered": 0, "acceptance_rate": None}


async def test_every_conversation_counts_and_the_rates_are_exact(client: TestClient) -> None:
    await seeded(client)
    day_1 = await get(client, "/api/v1/insights/bot?from=2026-03-02&to=2026-03-02")
    assert day_1["totals"] == {
        "conversations": 6, "escalated": 2, "contained": 4, "escalation_rate": 0.3333,
        "containment_rate": 0.6667, "handoffs": 2,
        # cant_help was offered twice: accepted once (c1), declined once (d1)
        "offers": {"made": 2, "accepted": 1, "declined": 1, "unanswered": 0, "acceptance_rate": 0.5},
        "offers_by_trigger": {"frustration": OFFERS_NONE,
                              "cant_help": {"made": 2, "accepted": 1, "declined": 1, "unanswered": 0,
                                            "acceptance_rate": 0.5}}}
    both = await get(client, f"/api/v1/insights/bot?{ALL}")
    assert (both["totals"]["conversations"], both["totals"]["escalated"]) == (9, 4)
    assert both["totals"]["escalation_rate"] == 0.4444
    assert both["period"]["from"] == "2026-03-02T00:00:00Z" and both["period"]["to"] == "2026-03-04T00:00:00Z"
    assert both["by"] is None and both["groups"] == [] and "compare" not in both


async def test_per_trigger_with_reason_codes_and_offers(client: TestClient) -> None:
    await seeded(client)
    found = await get(client, f"/api/v1/insights/bot?{ALL}&by=trigger")
    assert [(g["key"], g["escalated"], g["conversations"], g["escalation_rate"], g["share_of_escalations"])
            for g in found["groups"]] == [
        ("cant_help", 1, 9, 0.1111, 0.25), ("explicit", 1, 9, 0.1111, 0.25), ("frustration", 2, 9, 0.2222, 0.5)]
    groups = {g["key"]: g for g in found["groups"]}
    # Without the connector's handoff rows, the reasons come from the events (the offer's slots).
    assert groups["cant_help"]["reasons"] == {"cant_help_turns:2": 1, "nlu_fallback": 1, "offer_accepted": 1}
    assert groups["explicit"]["reasons"] == {"explicit_request": 1}
    assert groups["frustration"]["reasons"] == {"anger_words": 1, "frustrated_intent": 1, "offer_accepted": 1}
    assert groups["frustration"]["offers"] == {"made": 1, "accepted": 1, "declined": 0, "unanswered": 0,
                                               "acceptance_rate": 1.0}
    assert groups["explicit"]["offers"] is None and groups["explicit"]["containment_rate"] is None


async def test_per_channel_day_and_hour(client: TestClient) -> None:
    await seeded(client)
    by_day = await get(client, f"/api/v1/insights/bot?{ALL}&by=day")
    assert [(g["key"], g["conversations"], g["escalated"], g["escalation_rate"], g["containment_rate"])
            for g in by_day["groups"]] == [("2026-03-02", 6, 2, 0.3333, 0.6667), ("2026-03-03", 3, 2, 0.6667, 0.3333)]
    by_hour = await get(client, f"/api/v1/insights/bot?{ALL}&by=hour")
    assert [(g["key"], g["conversations"], g["escalated"]) for g in by_hour["groups"]] == [
        (9, 2, 1), (10, 3, 1), (11, 1, 1), (12, 1, 1), (13, 1, 0), (14, 1, 0)]
    by_channel = await get(client, f"/api/v1/insights/bot?{ALL}&by=channel")
    assert [(g["key"], g["conversations"], g["escalated"]) for g in by_channel["groups"]] == [("rest", 9, 4)]


async def test_per_queue_from_the_connectors_own_handoffs(client: TestClient) -> None:
    """With the handoff row in the connector, its trigger, reasons and queue are the ones counted."""
    ticket = await create(client, "k-e1", sender="e1", trigger="explicit", reasons=["explicit_request"],
                          slots={"topic": "housing"})
    broker = Broker(client)
    broker.add(replay("explicit", "e1", DAY_1 + 9 * HOUR, handoff_id=ticket["id"]))
    broker.add(replay("cant_help", "c1", DAY_1 + 10 * HOUR))
    await broker.flush()
    found = await get(client, "/api/v1/insights/bot?from=2026-03-02&to=2026-03-02&by=queue")
    # The events alone know no queue: the cant_help handoff (no row here) has none.
    assert [(g["key"], g["escalated"], g["share_of_escalations"]) for g in found["groups"]] == [
        ("housing", 1, 0.5), (None, 1, 0.5)]
    by_trigger = await get(client, "/api/v1/insights/bot?from=2026-03-02&to=2026-03-02&by=trigger")
    assert by_trigger["groups"][1]["key"] == "explicit"
    assert by_trigger["groups"][1]["reasons"] == {"explicit_request": 1}  # the row's own
    paths = await get(client, "/api/v1/insights/bot/paths?from=2026-03-02&to=2026-03-02&trigger=explicit")
    assert [(e["handoff_id"], e["sender_id"]) for e in paths["paths"][0]["examples"]] == [(ticket["id"], "e1")]


async def test_the_turn_of_each_handoff(client: TestClient) -> None:
    await seeded(client)
    found = await get(client, f"/api/v1/insights/bot/turns?{ALL}")
    # explicit: the 3rd message; cant_help: "yes please" is the 3rd; frustrated: the 2nd; mild: "yes", the 3rd
    assert found["turns"] == [{"turn": 2, "count": 1}, {"turn": 3, "count": 3}]
    assert (found["escalated"], found["median"], found["mean"]) == (4, 3, 2.75)
    only = await get(client, f"/api/v1/insights/bot/turns?{ALL}&trigger=frustration")
    assert only["turns"] == [{"turn": 2, "count": 1}, {"turn": 3, "count": 1}] and only["trigger"] == "frustration"


async def test_the_paths_into_a_handoff(client: TestClient) -> None:
    await seeded(client)
    found = await get(client, f"/api/v1/insights/bot/paths?{ALL}&steps=3")
    assert found["escalated"] == 4 and found["steps"] == 3
    assert {p["key"]: (p["count"], p["triggers"]) for p in found["paths"]} == {
        "intent:ask_housing_help > utter_housing_help > intent:human_handoff": (1, {"explicit": 1}),
        "intent:nlu_fallback > action_handoff_offer > intent:affirm": (1, {"cant_help": 1}),
        "intent:ask_utility_help > utter_utility_help > intent:frustrated": (1, {"frustration": 1}),
        "intent:frustrated > action_handoff_offer > intent:affirm": (1, {"frustration": 1}),
    }
    whole = await get(client, f"/api/v1/insights/bot/paths?{ALL}&trigger=cant_help")
    # The whole conversation: shorter than six steps (action_listen and the request itself are left out).
    assert whole["paths"][0]["path"] == [
        {"kind": "intent", "name": "nlu_fallback"}, {"kind": "action", "name": "action_handle_fallback"},
        {"kind": "intent", "name": "nlu_fallback"}, {"kind": "action", "name": "action_handoff_offer"},
        {"kind": "intent", "name": "affirm"}]
    assert whole["paths"][0]["examples"][0]["sender_id"] == "c1"
    # The two frustration handoffs end differently: an offer accepted, or frustration at once.
    one = await get(client, f"/api/v1/insights/bot/paths?{ALL}&steps=1&trigger=frustration")
    assert [(p["key"], p["count"], p["share"], [e["sender_id"] for e in p["examples"]]) for p in one["paths"]] == [
        ("intent:affirm", 1, 0.5, ["m1"]), ("intent:frustrated", 1, 0.5, ["f1"])]  # a tie: the latest first


async def test_the_responses_before_frustration_and_cant_help(client: TestClient) -> None:
    await seeded(client)
    found = await get(client, f"/api/v1/insights/bot/responses?{ALL}")
    assert found["triggers"] == ["frustration", "cant_help"] and found["escalated"] == 3
    assert [(r["response"], r["count"], r["share"], r["triggers"], [e["sender_id"] for e in r["examples"]])
            for r in found["responses"]] == [
        ("utter_utility_help", 2, 0.6667, {"frustration": 2}, ["m1", "f1"]),
        ("utter_ask_rephrase", 1, 0.3333, {"cant_help": 1}, ["c1"])]
    assert found["responses"][1]["text"] == "Sorry, I didn't quite understand. Could you say it another way?"
    explicit = await get(client, f"/api/v1/insights/bot/responses?{ALL}&trigger=explicit")
    assert [(r["response"], r["count"]) for r in explicit["responses"]] == [("utter_housing_help", 1)]


async def test_two_periods_compared(client: TestClient) -> None:
    await seeded(client)
    found = await get(client, "/api/v1/insights/bot?from=2026-03-03&to=2026-03-03"
                              "&compare_from=2026-03-02&compare_to=2026-03-02&by=trigger")
    assert (found["totals"]["escalation_rate"], found["compare"]["totals"]["escalation_rate"]) == (0.6667, 0.3333)
    assert found["compare"]["change"] == {"conversations": -3, "escalated": 0, "escalation_rate": 0.3334,
                                          "containment_rate": -0.3334, "offer_acceptance_rate": 0.5}
    assert [g["key"] for g in found["compare"]["groups"]] == ["cant_help", "explicit"]
    assert found["compare"]["period"]["from"] == "2026-03-02T00:00:00Z"


async def test_an_event_counts_once_whatever_is_fed_again(client: TestClient) -> None:
    broker = await seeded(client)
    store = client.app[STORE].conversations
    assert await store.position(SOURCE) == len(broker.rows)
    # Another instance that read the same rows before the cursor moved: nothing counts twice.
    assert await store.ingest(SOURCE, broker.rows[:40], 40) == 0
    found = await get(client, f"/api/v1/insights/bot?{ALL}")
    assert (found["totals"]["conversations"], found["totals"]["escalated"]) == (9, 4)
    assert await store.position(SOURCE) == len(broker.rows)


async def test_a_batch_cut_anywhere_folds_the_same(client: TestClient) -> None:
    """Rows arrive in batches of any size: the fold keeps its state between them."""
    broker = Broker(client)
    for name, sender in (("mild", "m1"), ("declined", "d1")):
        broker.add(replay(name, sender, DAY_1 + HOUR))
    await broker.flush(batch=1)
    found = await get(client, "/api/v1/insights/bot?from=2026-03-02&to=2026-03-02&by=trigger")
    assert found["totals"]["offers_by_trigger"] == {
        "frustration": {"made": 1, "accepted": 1, "declined": 0, "unanswered": 0, "acceptance_rate": 1.0},
        "cant_help": {"made": 1, "accepted": 0, "declined": 1, "unanswered": 0, "acceptance_rate": 0.0}}
    assert [(g["key"], g["escalated"]) for g in found["groups"]] == [("frustration", 1)]


async def test_a_session_without_a_word_from_the_user_is_no_conversation(client: TestClient) -> None:
    broker = Broker(client)
    opened = [e for e in replay("plain", "quiet", DAY_1 + HOUR) if e["event"] in ("action", "session_started", "slot")]
    broker.add(opened[:8])  # action_session_start, session_started, the handoff slots, action_listen
    await broker.flush()
    found = await get(client, "/api/v1/insights/bot?from=2026-03-02&to=2026-03-02")
    assert found["totals"]["conversations"] == 0 and found["totals"]["escalation_rate"] is None


@pytest.mark.parametrize("query, status", [
    ("by=week", 400),  # not a grouping
    ("from=yesterday", 400),  # not a date
    ("from=-5", 400),  # before the epoch
    ("from=2026-02-30", 422),  # no such day
    ("from=2026-03-03&to=2026-03-02", 422),  # ends before it starts
    ("compare_from=2026-03-01", 422),  # half a second period
])
async def test_bad_queries_are_refused_clearly(client: TestClient, query: str, status: int) -> None:
    body = await get(client, f"/api/v1/insights/bot?{query}", status=status)
    assert body["status"] == status and body["error"]


@pytest.mark.parametrize("path", ["", "/turns", "/paths", "/responses"])
async def test_agents_are_refused_supervisors_see(client: TestClient, path: str) -> None:
    await seeded(client)
    refused = await get(client, f"/api/v1/insights/bot{path}?{ALL}", headers=SARAH, status=403)
    assert "supervisors" in refused["error"]
    await get(client, f"/api/v1/insights/bot{path}?{ALL}", headers={}, status=401)


def test_a_gap_in_the_ids_is_waited_for_then_passed() -> None:
    now = [100.0]

    def clock() -> float:
        return now[0]

    gaps = Gaps(wait=5.0, clock=clock)
    assert gaps.readable(10, [11, 12, 14, 15]) == 2  # 13 may still commit
    now[0] += 4.0
    assert gaps.readable(12, [14, 15]) == 0
    now[0] += 2.0
    assert gaps.readable(12, [14, 15]) == 2  # 13 never came: a rolled-back insert
    assert gaps.readable(15, [16]) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def broker_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where Rasa's SQL event broker writes: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield str(tmp_path / "rasa_events.db")
        return
    with throwaway_database("rasa_events") as url:
        yield url


async def rasa_writes(database: str, rows: List[Dict[str, Any]]) -> None:
    """As ``SQLEventBroker.publish`` does: its table (as its ORM makes it), one row per event."""
    table = sa.Table("events", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("sender_id", sa.String(255)), sa.Column("data", sa.Text))
    values = [{"sender_id": row["sender_id"], "data": json.dumps(row["data"])} for row in rows]
    if "://" in database:
        engine = create_async_engine(engine_url(database))
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            await connection.execute(table.insert(), values)
        await engine.dispose()
        return
    sync = sa.create_engine(f"sqlite:///{database}")
    table.metadata.create_all(sync)
    with sync.begin() as connection:
        connection.execute(table.insert(), values)
    sync.dispose()


async def test_the_connector_reads_rasas_broker_table(client: TestClient, broker_database: str) -> None:
    """The captured rows as Rasa's broker stores them, read by the connector in batches from where it stopped."""
    table = BrokerTable(broker_database)
    try:
        assert await tail_once(client.app, table, Gaps()) == 0  # Rasa has not made its table yet
        await rasa_writes(broker_database, CAPTURED[:100])
        assert await tail_once(client.app, table, Gaps()) == 100
        await rasa_writes(broker_database, CAPTURED[100:])
        assert await tail_once(client.app, table, Gaps()) == len(CAPTURED) - 100
        assert await tail_once(client.app, table, Gaps()) == 0
    finally:
        await table.close()
    found = await get(client, f"/api/v1/insights/bot?from={CAPTURED[0]['data']['timestamp'] - 1}&by=trigger")
    # The six captured conversations (the one that came back from its handoff starts a seventh
    # session at the survey's end, without a word from the user: not counted).
    assert (found["totals"]["conversations"], found["totals"]["escalated"]) == (6, 4)
    assert [(g["key"], g["escalated"]) for g in found["groups"]] == [("cant_help", 1), ("explicit", 1),
                                                                      ("frustration", 2)]
