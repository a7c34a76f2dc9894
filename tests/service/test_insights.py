"""The supervisor's figures (issue 12) from a seeded history whose answers are known by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Tuple

import pytest
from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.config import ConfigError
from handoff_connector.service.insights_api import instant
from handoff_connector.service.keys import STORE
from tests.service.conftest import BOT, DANA, MIGUEL, SARAH, make_config
from tests.service.insights_history import (
    COUNT,
    PLANS,
    T0,
    THRESHOLD,
    Clock,
    expected,
    expected_groups,
    seed,
)

END = T0 + 1000 * COUNT
HALF = T0 + 1000 * COUNT / 2
QUIET = {"abandon_after_seconds": 10**7, "abandon_assigned_after_seconds": 10**7,
         "housekeeping_seconds": 3600, "position_update_seconds": 3600,
         "insights": {"wait_threshold_seconds": THRESHOLD}}


@pytest.fixture
async def history(tmp_path: Path, database: str,
                  aiohttp_client: Callable[..., Awaitable[TestClient]]) -> Tuple[TestClient, Clock, Dict[int, str]]:
    """The app on the test's clock, with the 40 plans driven through it."""
    client = await aiohttp_client(create_app(make_config(tmp_path, database, **QUIET)))
    clock = Clock()
    client.app[STORE].db.clock = clock
    for headers in (SARAH, MIGUEL):  # transfers go to people who are online
        assert (await client.put("/api/v1/me/presence", json={"status": "online"}, headers=headers)).status == 200
    ids = await seed(client, clock)
    clock.now = END + 500
    return client, clock, ids


async def people(client: TestClient, headers: Dict[str, str], **query: Any) -> Dict[str, Any]:
    response = await client.get("/api/v1/insights/people", params={k: str(v) for k, v in query.items()},
                                headers=headers)
    answer: Dict[str, Any] = await response.json()
    assert response.status == 200, answer
    return answer


def without_labels(groups: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{"key": g["key"], "figures": g["figures"]} for g in groups]


async def test_every_figure_per_agent_queue_and_trigger(history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, _, _ = history
    for by in ("agent", "queue", "trigger"):
        answer = await people(client, DANA, **{"from": T0, "to": END, "by": by})
        assert answer["period"]["total"] == expected(PLANS), by
        assert without_labels(answer["period"]["groups"]) == expected_groups(PLANS, by), by
    # A few of them spelled out, as a reader can check them against the plans.
    total = answer["period"]["total"]
    assert (total["handoffs"], total["answered"], total["abandoned"], total["follow_ups"]) == (40, 25, 8, 4)
    assert (total["cancelled"], total["timed_out"], total["waiting"], total["assigned"]) == (4, 4, 3, 1)
    assert (total["transfers"], total["follow_ups_open"]) == (8, 2)
    # Waits 20 + 3i for the 25 answered; within 60 s: i = 0..13 of them (i <= 13): 0-5 and 10-13.
    assert total["wait_seconds"]["count"] == 25 and total["wait_seconds"]["max"] == 137.0
    assert total["answered_within_threshold"] == 10 and total["service_level"] == round(10 / 33, 4)
    assert total["satisfaction"]["closed_by_a_person"] == 24
    assert total["resolutions"] == {"resolved": 20, "referred": 6, "abandoned": 4}
    agents = {g["key"]: g["label"] for g in (await people(client, DANA, **{"from": T0, "to": END}))["period"]["groups"]}
    assert agents == {"dana": "Dana", "miguel": "Miguel", "sarah": "Sarah", None: None}


async def test_first_response_counts_what_the_agent_wrote_not_the_introduction(
        history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, _, _ = history
    one = await people(client, DANA, **{"from": T0, "to": T0 + 1000, "by": "agent"})
    figures = one["period"]["total"]
    # Handoff 0: claimed after 20 s (the introduction goes out then), first words 5 s later.
    assert figures["wait_seconds"]["mean"] == 20.0
    assert figures["first_response_seconds"]["mean"] == 25.0
    assert figures["handle_seconds"]["mean"] == 100.0
    assert figures["satisfaction"]["average"] == 1.0


async def test_two_periods_side_by_side_with_the_change(history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, _, _ = history
    answer = await people(client, DANA, **{"from": HALF, "to": END, "compare_from": "2023-11-14T22:13:20Z",
                                           "compare_to": HALF, "by": "queue"})
    later, earlier = [p for p in PLANS if p.i >= 20], [p for p in PLANS if p.i < 20]
    assert answer["period"]["from"] == HALF and answer["compare"]["to"] == HALF
    assert answer["period"]["total"] == expected(later) and answer["compare"]["total"] == expected(earlier)
    now, before = expected(later), expected(earlier)
    change = answer["change"]["total"]
    for key in ("handoffs", "answered", "abandoned", "transfers", "follow_ups_open", "service_level"):
        assert change[key] == round(now[key] - before[key], 4), key
    assert change["wait_seconds"]["mean"] == round(now["wait_seconds"]["mean"] - before["wait_seconds"]["mean"], 4)
    assert change["satisfaction"]["average"] == round(
        now["satisfaction"]["average"] - before["satisfaction"]["average"], 4)
    assert change["resolutions"] == {k: now["resolutions"][k] - before["resolutions"][k] for k in now["resolutions"]}
    assert [g["key"] for g in answer["change"]["groups"]] == ["general", "housing"]
    general = answer["change"]["groups"][0]["figures"]
    assert general["handoffs"] == (sum(1 for p in later if p.queue == "general")
                                   - sum(1 for p in earlier if p.queue == "general"))


async def test_an_agent_sees_only_their_queues(history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, _, _ = history
    general = [p for p in PLANS if p.queue == "general"]
    mine = await people(client, MIGUEL, **{"from": T0, "to": END, "by": "queue"})
    assert [g["key"] for g in mine["period"]["groups"]] == ["general"]
    assert mine["period"]["total"] == expected(general)
    by_agent = await people(client, MIGUEL, **{"from": T0, "to": END, "by": "agent"})
    assert without_labels(by_agent["period"]["groups"]) == expected_groups(general, "agent")
    live = await (await client.get("/api/v1/insights/live", headers=MIGUEL)).json()
    assert [q["queue"] for q in live["queues"]] == ["food", "general"]
    assert {h["queue"] for h in live["over_threshold"]} == {"general"}
    assert [a["id"] for a in live["agents"]] == ["miguel", "sarah"]  # both in general
    sarah = await people(client, SARAH, **{"from": T0, "to": END, "by": "queue"})
    assert sarah["period"]["total"] == expected(PLANS)  # general and housing: everything seeded


async def test_the_line_now(history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, clock, ids = history
    live = await (await client.get("/api/v1/insights/live", headers=DANA)).json()
    waiting = [p for p in PLANS if p.state == "queued"]
    assert live["at"] == clock.now and live["wait_threshold_seconds"] == THRESHOLD
    assert [h["id"] for h in live["over_threshold"]] == [ids[p.i] for p in waiting]
    assert [h["waiting_seconds"] for h in live["over_threshold"]] == [clock.now - p.created for p in waiting]
    queues = {q["queue"]: q for q in live["queues"]}
    assert queues["general"] == {"queue": "general", "team": "Community Help team", "waiting": 2,
                                 "longest_wait_seconds": clock.now - (T0 + 9000), "over_threshold": 2,
                                 "assigned": 0, "follow_ups_open": 1}
    assert queues["housing"] == {"queue": "housing", "team": "Housing Help team", "waiting": 1,
                                 "longest_wait_seconds": clock.now - (T0 + 19000), "over_threshold": 1,
                                 "assigned": 1, "follow_ups_open": 1}
    assert queues["food"]["waiting"] == 0 and queues["food"]["longest_wait_seconds"] is None
    assert live["totals"] == {"waiting": 3, "over_threshold": 3, "assigned": 1, "follow_ups_open": 2,
                              "longest_wait_seconds": clock.now - (T0 + 9000), "agents_online": 2, "agents_away": 0}
    assert live["agents"] == [
        {"id": "miguel", "name": "Miguel", "role": "agent", "presence": "online", "capacity": 3, "load": 0},
        {"id": "sarah", "name": "Sarah", "role": "agent", "presence": "online", "capacity": 3, "load": 1}]
    # Back when handoff 29 had waited 100 s it was past the 60 s threshold; at 30 s it was not.
    clock.now = T0 + 29000 + 100
    soon = await (await client.get("/api/v1/insights/live", headers=DANA)).json()
    assert soon["totals"]["over_threshold"] == 3
    clock.now = T0 + 29000 + 30
    assert (await (await client.get("/api/v1/insights/live", headers=DANA)).json())["totals"]["over_threshold"] == 2


@pytest.mark.parametrize("query, status, message", [
    ({"by": "mood"}, 400, "`by` must be one of"),  # an unknown grouping
    ({"from": "yesterday"}, 400, "`from` must be a time"),  # not a time
    ({"to": "1e300"}, 400, "out of range"),  # beyond any real time
    ({"to": "nan"}, 400, "out of range"),  # not a number at all
    ({"from": "2026-02-30"}, 400, "`from` must be a time"),  # no such day
    # Each a time, together no period:
    ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "`from` must be before `to`"),  # backwards
    ({"from": "2020-01-01", "to": "2026-01-01"}, 422, "at most 366 days"),  # too long to read
    ({"compare_from": "2026-01-01"}, 422, "both `compare_from` and `compare_to`"),  # half a second period
])
async def test_bad_periods_are_refused_saying_why(client: TestClient, query: Dict[str, str], status: int,
                                                  message: str) -> None:
    response = await client.get("/api/v1/insights/people", params=query, headers=DANA)
    assert response.status == status
    assert message in (await response.json())["error"]


@pytest.mark.parametrize("written, seconds", [
    ("2023-11-14T22:13:20Z", T0),  # RFC 3339
    ("2023-11-14t22:13:20z", T0),  # RFC 3339 allows lower case
    ("2023-11-14T23:13:20+01:00", T0),  # another zone
    ("2023-11-14 22:13:20", T0),  # no zone: UTC
    ("2023-11-14T22:13:20.25Z", T0 + 0.25),
    ("2016-12-31T23:59:60Z", 1483228800.0),  # a leap second: the next day's first second
    ("2023-11-14", T0 - 80000),  # a date alone: its midnight, UTC
    ("1700000000", T0),  # seconds since the epoch
])
def test_times_are_read_as_written(written: str, seconds: float) -> None:
    assert instant(written, "from") == seconds


async def test_signed_in_agents_only(client: TestClient) -> None:
    for path in ("/api/v1/insights/live", "/api/v1/insights/people"):
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers=BOT)).status == 401  # the bot's secret is not an agent


async def test_periods_in_iso_and_seconds_agree(history: Tuple[TestClient, Clock, Dict[int, str]]) -> None:
    client, _, _ = history
    iso = await people(client, DANA, **{"from": "2023-11-14T22:13:20+00:00", "to": "2023-11-14T22:30:00"})
    seconds = await people(client, DANA, **{"from": T0, "to": T0 + 1000})
    assert iso["period"] == seconds["period"] and seconds["period"]["total"]["handoffs"] == 1
    assert seconds["period"]["from_iso"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("insights, message", [
    ({"wait_threshold_seconds": 0}, "must be a number of seconds > 0"),
    ({"wait_threshold_seconds": "2m"}, "must be a number of seconds > 0"),
    ({"wait_threshold": 120}, "unknown key(s) in `insights`"),
    ("120", "`insights` must be a mapping"),
])
def test_the_wait_threshold_is_checked_at_start(tmp_path: Path, insights: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_config(tmp_path, insights=insights)
