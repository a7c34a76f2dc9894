"""The demo's sample history (``seed-history``): its figures through the API equal what its plans say.

The history is seeded once per database backend (it takes a few seconds), the
way ``make demo`` does it: into an empty database, before the connector
starts. Every expected figure is counted from the plans (``build``), never
read back from the database.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import statistics
from collections import Counter
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from aiohttp.test_utils import TestClient
from postgres import throwaway_database

from handoff_connector.service import create_app
from handoff_connector.service.bot_events import PATH_STEPS, UNSEEN_ACTIONS, path_key
from handoff_connector.service.config import Config
from handoff_connector.service.sample_history import SampleHistoryError, build, seed, texts
from handoff_connector.service.sample_history.model import Conversation, Handoff, History
from handoff_connector.service.sample_history.plans import DEPLOYED_ON_DAY
from handoff_connector.service.sample_history.seed import history_end, status
from handoff_connector.service.storage import Storage
from tests.service.conftest import DANA, make_config
from tests.service.insights_history import share, stats

ROOT = Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load((ROOT / "connector.yml").read_text())
NOW = float(calendar.timegm(dt.datetime(2026, 3, 20, 15, 30).timetuple()))
HISTORY = build(history_end(NOW))  # 2026-03-06 .. 2026-03-19
FIRST, LAST = "2026-03-06", "2026-03-19"
BEFORE = f"compare_from={FIRST}&compare_to=2026-03-12"  # days 1-7: model v1
AFTER = "from=2026-03-13&to=2026-03-19"  # days 8-14: model v2
THRESHOLD = 120.0  # the default wait_threshold_seconds


def demo_line(tmp_path: Path, database: str) -> Config:
    """The demo's queues, routing, resolutions and agents (tokens for the tests, no passwords)."""
    agents = [{**{k: v for k, v in a.items() if k != "password"}, "token": f"t-{a['id']}"} for a in DEMO["agents"]]
    return make_config(tmp_path, database, queues=DEMO["queues"], routing=DEMO["routing"],
                       resolutions=DEMO["resolutions"], agents=agents)


async def _seed(config: Config) -> Dict[str, Any]:
    storage = Storage(config.database)
    await storage.open()
    try:
        await storage.accounts.seed(config)
        return await seed(storage, config, now=NOW)
    finally:
        await storage.shutdown()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Config, Dict[str, Any]]]:
    """One seeded database per backend for the whole module (a database of its own on PostgreSQL)."""
    tmp_path = tmp_path_factory.mktemp("sample")
    if request.param == "sqlite":
        config = demo_line(tmp_path, str(tmp_path / "handoff.db"))
        yield config, asyncio.run(_seed(config))
        return
    with throwaway_database("sample_history") as url:
        config = demo_line(tmp_path, url)
        yield config, asyncio.run(_seed(config))


@pytest.fixture
async def client(seeded: Tuple[Config, Dict[str, Any]],
                 aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await aiohttp_client(create_app(seeded[0]))


async def get(client: TestClient, path: str) -> Any:
    response = await client.get(path, headers=DANA)
    body = await response.json()
    assert response.status == 200, body
    return body


# What the plans say.

def escalated(conversations: List[Conversation], trigger: Optional[str] = None) -> List[Conversation]:
    return [c for c in conversations if c.handoff is not None and trigger in (None, c.handoff.trigger)]


def in_days(first: int, last: int) -> List[Conversation]:
    return [c for c in HISTORY.conversations if first <= c.day <= last]


def offers(conversations: List[Conversation], kind: str) -> Dict[str, Any]:
    made = [o for c in conversations for o in c.offers if o.kind == kind]
    accepted = sum(1 for o in made if o.answer == "accepted")
    declined = sum(1 for o in made if o.answer == "declined")
    return {"made": len(made), "accepted": accepted, "declined": declined, "unanswered": 0,
            "acceptance_rate": share(accepted, len(made))}


def steps_before(c: Conversation) -> List[Dict[str, str]]:
    """The intents and the bot's actions up to the handoff, as the plan has them."""
    steps: List[Dict[str, str]] = []
    for turn in c.turns[:c.handoff_turn]:
        steps.append({"kind": "intent", "name": turn.intent})
        steps.extend({"kind": "action", "name": a} for a in turn.actions if a not in UNSEEN_ACTIONS)
    return steps[-PATH_STEPS:]


def response_before(c: Conversation) -> Optional[str]:
    return c.response_before()  # the plan's own: which response it put last before the handoff


# The tests.

async def test_the_history_is_two_weeks_of_the_demo_line(seeded: Tuple[Config, Dict[str, Any]]) -> None:
    summary = seeded[1]
    assert (summary["seeded"], summary["from"], summary["to"]) == (True, FIRST, LAST)
    assert summary["conversations"] == len(HISTORY.conversations) and 300 <= len(HISTORY.conversations) <= 500
    assert summary["handoffs"] == len(HISTORY.handoffs)
    assert summary["seconds"] < 20
    # Every kind of ending is there.
    assert {h.kind for h in HISTORY.handoffs} >= {"closed", "handed_over", "requeued", "cancelled", "timed_out",
                                                   "follow_up", "no_wait"}
    assert {c.channel for c in HISTORY.conversations} == {"webchat", "rest", "socketio", "callback"}


def test_the_plans_are_the_same_every_time_only_the_dates_move() -> None:
    later = build(history_end(NOW + 3 * 86400))
    assert [(c.story, c.turns[0].text, c.started_at + 3 * 86400) for c in HISTORY.conversations] == [
        (c.story, c.turns[0].text, c.started_at) for c in later.conversations]


def test_the_bot_says_the_demo_domains_words() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    handoff = yaml.safe_load((ROOT / "handoff_connector/rasa/resources/domain/handoff.yml").read_text())["responses"]
    for name, text in texts.RESPONSES.items():
        assert text == {**domain, **handoff}[name][0]["text"], name


async def test_escalation_containment_and_offers_equal_the_plans(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/bot?from={FIRST}&to={LAST}&by=trigger")
    every = HISTORY.conversations
    assert found["totals"]["conversations"] == len(every)
    assert found["totals"]["escalated"] == found["totals"]["handoffs"] == len(escalated(every))
    assert found["totals"]["contained"] == len(every) - len(escalated(every))
    assert found["totals"]["offers_by_trigger"] == {kind: offers(every, kind) for kind in ("frustration", "cant_help")}
    assert {g["key"]: g["escalated"] for g in found["groups"]} == dict(
        Counter(c.handoff.trigger for c in escalated(every) if c.handoff))
    # The request's reason codes, from the connector's own rows.
    reasons = {g["key"]: g["reasons"] for g in found["groups"]}
    assert reasons["cant_help"] == dict(sorted(Counter(
        r for c in escalated(every, "cant_help") if c.handoff for r in c.handoff.reasons).items()))
    queues = await get(client, f"/api/v1/insights/bot?from={FIRST}&to={LAST}&by=queue")
    assert {g["key"]: g["escalated"] for g in queues["groups"]} == dict(
        Counter(c.handoff.queue for c in escalated(every) if c.handoff))


@pytest.mark.parametrize("by, key", [
    ("day", lambda c: dt.datetime.fromtimestamp(c.started_at, dt.timezone.utc).strftime("%Y-%m-%d")),  # 14 days
    ("hour", lambda c: c.hour),  # UTC, mostly daytime
    ("channel", lambda c: c.channel),  # webchat, rest, socketio, callback
])
async def test_each_day_hour_and_channel(client: TestClient, by: str, key: Callable[[Conversation], Any]) -> None:
    found = await get(client, f"/api/v1/insights/bot?from={FIRST}&to={LAST}&by={by}")
    groups: Dict[Any, List[Conversation]] = {}
    for c in HISTORY.conversations:
        groups.setdefault(key(c), []).append(c)
    assert [(g["key"], g["conversations"], g["escalated"]) for g in found["groups"]] == [
        (k, len(groups[k]), len(escalated(groups[k]))) for k in sorted(groups)]


async def test_the_turn_each_handoff_began_at(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/bot/turns?from={FIRST}&to={LAST}")
    turns = [c.handoff_turn for c in escalated(HISTORY.conversations) if c.handoff_turn is not None]
    assert found["turns"] == [{"turn": t, "count": n} for t, n in sorted(Counter(turns).items())]
    assert (found["escalated"], found["median"]) == (len(turns), statistics.median(turns))


async def test_cant_help_clusters_on_the_housing_follow_up_path(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/bot/paths?from={FIRST}&to={LAST}&trigger=cant_help&limit=50")
    planned = Counter(path_key(steps_before(c)) for c in escalated(HISTORY.conversations, "cant_help"))
    assert {p["key"]: p["count"] for p in found["paths"]} == dict(planned)
    top = found["paths"][0]
    assert top["key"] == ("utter_housing_help > intent:nlu_fallback > action_handle_fallback > intent:nlu_fallback"
                          " > action_handoff_offer > intent:affirm")
    assert top["share"] > 0.6


async def test_one_response_precedes_most_frustration(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/bot/responses?from={FIRST}&to={LAST}&trigger=frustration")
    planned = Counter(response_before(c) for c in escalated(HISTORY.conversations, "frustration"))
    assert [(r["response"], r["count"]) for r in found["responses"]] == sorted(
        planned.items(), key=lambda item: -item[1])[:len(found["responses"])]
    top = found["responses"][0]
    assert top["response"] == "utter_utility_help" and top["share"] > 0.7
    assert top["text"] == texts.RESPONSES["utter_utility_help"][:200]


async def test_after_the_deployment_cant_help_falls(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/bot?{AFTER}&{BEFORE}&by=trigger")
    before, after = in_days(1, DEPLOYED_ON_DAY - 1), in_days(DEPLOYED_ON_DAY, 14)
    groups = {g["key"]: g["escalated"] for g in found["groups"]}
    earlier = {g["key"]: g["escalated"] for g in found["compare"]["groups"]}
    assert (groups["cant_help"], earlier["cant_help"]) == (len(escalated(after, "cant_help")),
                                                          len(escalated(before, "cant_help")))
    assert groups["cant_help"] * 2 < earlier["cant_help"]  # more than halved
    assert found["compare"]["change"]["escalation_rate"] < 0
    assert found["totals"]["escalation_rate"] == share(len(escalated(after)), len(after))


def people(handoffs: List[Handoff]) -> Dict[str, Any]:
    answered = [h for h in handoffs if h.wait is not None]
    left = [h for h in handoffs if h.kind in ("cancelled", "timed_out", "no_wait")]
    closed = [h for h in answered if h.handle is not None]
    ratings = [h.rating for h in closed if h.rating is not None]
    within = sum(1 for h in answered if h.wait is not None and h.wait <= THRESHOLD)
    follow_ups = [h for h in handoffs if h.kind in ("follow_up", "follow_up_open")]
    return {
        "handoffs": len(handoffs), "answered": len(answered), "waiting": 0, "assigned": 0,
        "abandoned": len(left), "cancelled": sum(1 for h in left if h.state == "cancelled"),
        "timed_out": sum(1 for h in left if h.state == "abandoned"),
        "abandonment_rate": share(len(left), len(answered) + len(left)),
        "answered_within_threshold": within, "service_level": share(within, len(answered) + len(left)),
        "follow_ups": len(follow_ups), "follow_ups_open": sum(1 for h in follow_ups if h.state == "no_agent"),
        "transfers": sum(h.transfers for h in handoffs), "transferred_handoffs": sum(1 for h in handoffs if h.transfers),
        "wait_seconds": stats([h.wait for h in answered if h.wait is not None]),
        "first_response_seconds": stats([h.first_response for h in answered if h.first_response is not None]),
        "handle_seconds": stats([h.handle for h in closed if h.handle is not None]),
        "resolutions": {name: sum(1 for h in handoffs if h.resolution == name)
                        for name in [*DEMO["resolutions"], "abandoned"]},
        "satisfaction": {
            "closed_by_a_person": len(closed), "rated": len(ratings), "skipped": sum(1 for h in closed if h.skipped),
            "response_rate": share(len(ratings), len(closed)),
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)}},
    }


@pytest.mark.parametrize("by, key", [
    ("agent", lambda h: h.agent),  # the last agent; follow-ups and those who left: nobody
    ("queue", lambda h: h.queue),  # where it ended
    ("trigger", lambda h: h.trigger),
])
async def test_the_people_figures_equal_the_plans(client: TestClient, by: str, key: Callable[[Handoff], Any]) -> None:
    found = await get(client, f"/api/v1/insights/people?from={HISTORY.start}&to={HISTORY.end}&by={by}")
    assert found["period"]["total"] == people(HISTORY.handoffs)
    groups: Dict[Any, List[Handoff]] = {}
    for h in HISTORY.handoffs:
        groups.setdefault(key(h), []).append(h)
    assert [(g["key"], g["figures"]) for g in found["period"]["groups"]] == [
        (k, people(groups[k])) for k in sorted(groups, key=lambda k: (k is None, k or ""))]


async def test_utilities_waits_longest(client: TestClient) -> None:
    found = await get(client, f"/api/v1/insights/people?from={HISTORY.start}&to={HISTORY.end}&by=queue")
    medians = {g["key"]: g["figures"]["wait_seconds"]["median"] for g in found["period"]["groups"]}
    assert max(medians, key=lambda k: medians[k] or 0) == "utilities"


async def test_a_seeded_database_is_left_as_it_is(seeded: Tuple[Config, Dict[str, Any]]) -> None:
    again = await _seed(seeded[0])
    assert again["seeded"] is False and "already" in again["status"]


async def test_a_database_with_a_line_of_its_own_is_refused(tmp_path: Path, database: str) -> None:
    config = demo_line(tmp_path, database)
    storage = Storage(config.database)
    await storage.open()
    try:
        await storage.accounts.seed(config)
        assert await status(storage) == "empty"
        await storage.handoffs.create("k1", "someone", "webchat", "general", "explicit", [], {})
        with pytest.raises(SampleHistoryError, match="handoffs or bot conversations of its own"):
            await seed(storage, config, now=NOW)
        assert await status(storage) == "in_use"
    finally:
        await storage.shutdown()


async def test_another_line_is_refused_before_anything_is_written(tmp_path: Path, database: str) -> None:
    config = make_config(tmp_path, database)  # the tests' line: no utilities queue
    storage = Storage(config.database)
    await storage.open()
    try:
        await storage.accounts.seed(config)
        with pytest.raises(SampleHistoryError, match="queue utilities"):
            await seed(storage, config, now=NOW)
        assert await status(storage) == "empty"
    finally:
        await storage.shutdown()


def test_the_figures_in_the_docs_are_the_historys() -> None:
    """The docs and the README quote the history: counted here from the plans, so they cannot go stale."""
    history: History = HISTORY
    doc = " ".join((ROOT / "docs/designer-insights.md").read_text().split("## What the demo's history shows")[1].split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    every = history.conversations
    frustration = escalated(every, "frustration")
    after_utility = sum(1 for c in frustration if response_before(c) == "utter_utility_help")
    before, after = in_days(1, DEPLOYED_ON_DAY - 1), in_days(DEPLOYED_ON_DAY, 14)
    channels = Counter(c.channel for c in every)
    quoted = [
        f"{len(every)} bot conversations", f"the {len(history.handoffs)} handoffs",
        f"web chat ({channels['webchat']}), Rasa's `socketio` ({channels['socketio']}), "
        f"`callback` ({channels['callback']}) and `rest` ({channels['rest']})",
        f"{after_utility} of the {len(frustration)} frustration escalations",
        f"fell from {len(escalated(before, 'cant_help'))} to {len(escalated(after, 'cant_help'))}",
        f"explicit requests stayed ({len(escalated(before, 'explicit'))}, {len(escalated(after, 'explicit'))}) "
        f"and so did frustration ({len(escalated(before, 'frustration'))}, {len(escalated(after, 'frustration'))})",
        f"{len(escalated(every, 'explicit'))} by explicit request, {len(escalated(every, 'cant_help'))} because the "
        f"bot could not help, {len(frustration)} out of frustration",
    ]
    for text in quoted:
        assert text in doc, text
    assert f"writes {len(every)} bot conversations of the help line and the {len(history.handoffs)} handoffs" in readme


def test_the_command_line_seeds_once_and_refuses_a_line_of_its_own(tmp_path: Path) -> None:
    from handoff_connector.service.__main__ import main

    agents = [{**{k: v for k, v in a.items() if k != "password"}, "token": f"t-{a['id']}"} for a in DEMO["agents"]]
    config = {**DEMO, "database": str(tmp_path / "handoff.db"), "agents": agents, "bot_events_database": None}
    path = tmp_path / "connector.yml"
    path.write_text(yaml.safe_dump(config))
    assert main(["seed-history", "--config", str(path)]) == 0
    assert main(["seed-history", "--config", str(path)]) == 0  # seeded before: left as it is
    config["database"] = str(tmp_path / "other.db")
    path.write_text(yaml.safe_dump(config))
    storage = Storage(config["database"])

    async def a_line_of_its_own() -> None:
        await storage.open()
        await storage.handoffs.create("k1", "someone", "webchat", "general", "explicit", [], {})
        await storage.shutdown()

    asyncio.run(a_line_of_its_own())
    assert main(["seed-history", "--config", str(path)]) == 2
