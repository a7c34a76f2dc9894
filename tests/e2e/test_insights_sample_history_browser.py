"""The insights pages in Chromium over the demo's sample history, as a newcomer sees them
after `make demo`: a connector process on a database `seed-history` wrote.

The figures are the ones docs/designer-insights.md gives for that history
(tests/service/test_sample_history.py derives them from the seed's plans and
checks the docs against them); here the pages must show them, and agree with
the API for the same period.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
import requests
from playwright.sync_api import Browser, expect

from stack import Ports, Stack
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e

DANA = {"Authorization": "Bearer demo-token-dana"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Stack, int, int]]:
    """A connector alone, on a new database with the sample history; the history's 14 days."""
    system = Stack(workdir=tmp_path_factory.mktemp("sample"), ports=Ports.free())
    said = system.seed_history()
    assert said["seeded"] is True, said
    system.start(only=["connector"])
    try:
        system.wait_healthy(timeout=120, only=["connector"])
        yield system, int(said["from_ts"]), int(said["to_ts"])  # the 14 days before the seeding's day
    finally:
        system.stop()
        log = Path(system.workdir) / "connector.log"
        if log.exists():
            print(log.read_text(errors="replace")[-3000:])


def api(stack: Stack, path: str, **query: Any) -> Dict[str, Any]:
    response = requests.get(f"{stack.connector_url}/api/v1{path}", params=query, headers=DANA, timeout=30)
    assert response.status_code == 200, response.text
    answer: Dict[str, Any] = response.json()
    return answer


def test_the_designer_and_the_supervisor_read_the_sample_history(
        browser: Browser, sample: Tuple[Stack, int, int]) -> None:
    stack, start, end = sample
    figures = api(stack, "/insights/bot", **{"from": start, "to": end})["totals"]
    assert (figures["conversations"], figures["handoffs"], figures["escalation_rate"]) == (436, 103, 0.2362)

    page = desk(browser, stack, "dana", "demo-dana")
    page.goto(f"{stack.connector_url}/desk/insights#bot?from={start}&to={end}&trigger=frustration")
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "bot")
    expect(page.get_by_test_id("bot-conversations-value")).to_have_text("436")
    expect(page.get_by_test_id("bot-handoffs-value")).to_have_text("103")
    expect(page.get_by_test_id("bot-escalation-rate-value")).to_have_text("23.6%")
    expect(page.get_by_test_id("bot-containment-rate-value")).to_have_text("76.4%")
    # The story built into it: one response comes before most frustration handoffs.
    responses = api(stack, "/insights/bot/responses", **{"from": start, "to": end, "trigger": "frustration"})
    top = responses["responses"][0]
    assert top["response"] == "utter_utility_help" and top["count"] == 24
    first = page.get_by_test_id("response-row").first
    expect(first).to_have_attribute("data-response", "utter_utility_help")
    shot(page, "insights-sample-bot")

    page.goto(f"{stack.connector_url}/desk/insights#people?from={start}&to={end}&by=queue")
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "people")
    people = api(stack, "/insights/people", **{"from": start, "to": end, "by": "queue"})["period"]["total"]
    assert (people["handoffs"], people["answered"], people["transfers"]) == (103, 79, 9)
    expect(page.get_by_test_id("people-handoffs-value")).to_have_text("103")
    expect(page.get_by_test_id("people-answered-value")).to_have_text("79")
    expect(page.get_by_test_id("people-transfers-value")).to_have_text("9")
    shot(page, "insights-sample-team")

    page.goto(f"{stack.connector_url}/desk/insights#history")
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "history")
    total = api(stack, "/history", limit=1)["total"]
    assert total == 103
    expect(page.get_by_test_id("history-total")).to_have_attribute("data-total", "103")
    shot(page, "insights-sample-history")
