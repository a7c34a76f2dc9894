"""The supervisor's views of the people (#live, #people) in headless Chromium, over the real
processes, with a wait threshold of a few seconds so a test can go past it.

The test makes the history with words, so it knows what the pages must show. The compared
period: one user asks for a person, Dana answers and closes, the user rates 2. The period:
A (housing) is answered by Sarah at once and rates 5; B (food) by Miguel at once, rates 3;
C asks for a person and says "never mind" (abandoned); D and E wait past the threshold,
then Sarah takes D late and closes it (no rating); E is still waiting.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from stack import ROOT, Stack
from tests.e2e.conftest import AGENTS, Agent, Inbox, User, wait_for
from tests.e2e.pages import desk, insights, shot

pytestmark = pytest.mark.e2e

THRESHOLD = 6.0


@pytest.fixture(scope="module")
def short_threshold(stack: Stack) -> Iterator[Stack]:
    """The connector restarted with `insights: {wait_threshold_seconds: 6}`; put back after."""
    original = stack.connector_config
    config = Path(stack.workdir) / "connector-short-threshold.yml"
    config.write_text((ROOT / "connector.yml").read_text() + f"\ninsights:\n  wait_threshold_seconds: {THRESHOLD}\n")

    def restart(path: Path) -> None:
        stack.stop(only=["connector"])
        stack.connector_config = path
        stack.start(only=["connector"])
        stack.wait_healthy(only=["connector"])
        for name in AGENTS:
            Agent(stack, name).presence("online")

    restart(config)
    yield stack
    restart(original)


def duration(seconds: Optional[float]) -> str:
    """As the page writes it (dom.js duration)."""
    if seconds is None:
        return "—"
    s = math.floor(seconds + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def series(box: Locator) -> List[Dict[str, Any]]:
    found: List[Dict[str, Any]] = json.loads(box.get_attribute("data-series") or "null")
    return found


def value(page: Page, figure: str) -> Locator:
    return page.get_by_test_id(f"people-{figure}-value")


def cell(page: Page, key: str, figure: str) -> Locator:
    return page.locator(f'[data-testid="people-row"][data-key="{key}"] [data-testid="{figure}"] .people-value')


def ask_for_a_person(stack: Stack, inbox: Inbox, *said: str) -> User:
    user = User(stack, inbox)
    for text in said:
        user.say(text)
    return user


def serve(agent: Agent, user: User, resolution: str, rating: Optional[int]) -> Dict[str, Any]:
    """Claim, reply, close; the user answers the survey with ``rating`` (None: does not answer)."""
    handoff = agent.handoff_of(user)
    agent.call("POST", f"/handoffs/{handoff['id']}/claim")
    agent.call("POST", f"/handoffs/{handoff['id']}/messages", {"text": "Thanks for waiting, I can help."}, expect=201)
    wait_for(lambda: "Thanks for waiting, I can help." in user.received(), what="the agent's reply")
    agent.call("POST", f"/handoffs/{handoff['id']}/close", {"resolution": resolution})
    wait_for(lambda: any("How would you rate" in t for t in user.received()), what="the survey")
    if rating is not None:
        assert "Anything you'd like to tell us" in user.say(str(rating))[0]
        assert "Thank you for your feedback" in user.say("that was fine")[0]
    return handoff


def people(agent: Agent, **params: Any) -> Dict[str, Any]:
    found: Dict[str, Any] = agent.call("GET", "/insights/people?" + urlencode(params))
    return found


def test_the_supervisor_reads_the_line_and_the_team_the_test_made(
        browser: Browser, short_threshold: Stack, inbox: Inbox) -> None:
    stack = short_threshold
    sarah, miguel, dana = Agent(stack, "sarah"), Agent(stack, "miguel"), Agent(stack, "dana")
    # The compared period: one handoff, Dana's, rated 2.
    before_from = time.time()
    earlier = ask_for_a_person(stack, inbox, "can I talk to a real person")
    serve(dana, earlier, "resolved", 2)
    time.sleep(0.05)
    since = time.time()

    a = ask_for_a_person(stack, inbox, "I got an eviction notice", "can I talk to a real person")
    assert sarah.handoff_of(a)["queue"] == "housing"
    serve(sarah, a, "resolved", 5)
    b = ask_for_a_person(stack, inbox, "I need food for my kids", "can I talk to a real person")
    assert miguel.handoff_of(b)["queue"] == "food"
    serve(miguel, b, "referred", 3)
    c = ask_for_a_person(stack, inbox, "I need to talk to a person")
    assert "back with the assistant" in c.say("never mind")[0]
    d = ask_for_a_person(stack, inbox, "can I talk to a human")
    e = ask_for_a_person(stack, inbox, "can I talk to a human")
    assert [dana.handoff_of(u)["queue"] for u in (d, e)] == ["general", "general"]
    wait_for(lambda: dana.call("GET", "/insights/live")["totals"]["over_threshold"] == 2, timeout=30,
             what="D and E to wait past the threshold")

    # Live: D and E wait in the general line, both past the threshold.
    page = desk(browser, stack, "dana", "demo-dana")
    insights(page, stack, "live")
    expect(page.get_by_test_id("live-scope")).to_have_text("The line right now. Every queue.")
    expect(page.get_by_test_id("live-waiting-value")).to_have_text("2")
    expect(page.get_by_test_id("live-over-threshold-value")).to_have_text("2")
    expect(page.get_by_test_id("live-over-threshold")).to_have_class("stat is-alert")
    expect(page.get_by_test_id("live-over-threshold")).to_contain_text(f"Waiting over {duration(THRESHOLD)}")
    expect(page.locator('[data-testid="live-queue-row"][data-queue="general"] [data-testid="waiting"]')).to_have_text("2")
    expect(page.locator('[data-testid="live-queue-row"][data-queue="general"] [data-testid="over-threshold"]')).to_have_text("2")
    expect(page.locator('[data-testid="live-queue-row"][data-queue="general"] [data-testid="assigned"]')).to_have_text("0")
    expect(page.locator('[data-testid="live-queue-row"][data-queue="housing"] [data-testid="waiting"]')).to_have_text("0")
    assert page.get_by_test_id("live-queue-row").evaluate_all("rows => rows.map(r => r.dataset.queue)") == [
        "food", "general", "housing", "utilities"]
    late = page.get_by_test_id("live-late-row")
    expect(late).to_have_count(2)
    ids = {dana.handoff_of(d)["id"], dana.handoff_of(e)["id"]}
    assert {r.get_attribute("data-handoff-id") for r in late.all()} == ids
    expect(late.first.locator("td").nth(0)).to_have_text("general")
    expect(late.first.locator("td").nth(1)).to_have_text("Asked for a person")
    expect(late.first.locator("td").nth(2)).to_have_text("callback")
    expect(late.first.get_by_test_id("waiting-for")).to_have_text(re.compile(r"^\d+ s$"))
    now = dana.call("GET", "/insights/live")
    expect(page.get_by_test_id("live-agents-online-value")).to_have_text(str(now["totals"]["agents_online"]))
    assert page.get_by_test_id("live-agent").evaluate_all("rows => rows.map(r => r.dataset.agent)") == [
        a_["id"] for a_ in now["agents"]]
    expect(page.get_by_test_id("live-updated")).to_contain_text("Updated ")
    shot(page, "insights-live")

    # Sarah takes D, late; the page follows by itself, without a reload.
    serve(sarah, d, "resolved", None)
    expect(page.get_by_test_id("live-waiting-value")).to_have_text("1", timeout=15_000)
    expect(page.get_by_test_id("live-late-row")).to_have_count(1)
    until = time.time() + 1

    # The team over the period, against the period before.
    answer = people(dana, **{"from": since, "to": until, "compare_from": before_from, "compare_to": since})
    total = answer["period"]["total"]
    assert (total["handoffs"], total["answered"], total["abandoned"], total["waiting"]) == (5, 3, 1, 1)
    page.goto(f"{stack.connector_url}/desk/insights#people?"
              + urlencode({"from": since, "to": until, "compare_from": before_from, "compare_to": since}))
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "people")
    expect(page.get_by_test_id("people-scope")).to_contain_text("Every queue's handoffs (you are a supervisor).")
    for figure, shown in [("handoffs", "5"), ("answered", "3"), ("abandonment-rate", "25%"), ("service-level", "50%"),
                          ("transfers", "0"), ("satisfaction", "4.0 / 5"), ("response-rate", "66.7%"),
                          ("follow-ups-open", "0"),
                          ("wait-median", duration(total["wait_seconds"]["median"])),
                          ("wait-p90", duration(total["wait_seconds"]["p90"])),
                          ("first-response-median", duration(total["first_response_seconds"]["median"])),
                          ("handle-median", duration(total["handle_seconds"]["median"]))]:
        expect(value(page, figure)).to_have_text(shown)
    # Against one handoff rated 2: more handoffs, higher satisfaction (better).
    expect(page.get_by_test_id("people-handoffs-change")).to_have_text("+4 vs 1")
    expect(page.get_by_test_id("people-satisfaction-change")).to_have_text("+2.0 vs 2.0 / 5")
    expect(page.get_by_test_id("people-satisfaction-change")).to_have_class("stat-change is-better")
    expect(page.get_by_test_id("people-abandonment-rate-change")).to_have_class("stat-change is-worse")
    expect(page.locator('[data-testid="people-total-row"] [data-testid="abandoned"] .people-value')).to_have_text("1")

    # Per agent: Sarah A and D, Miguel B, and C and E never reached a person.
    rows = page.get_by_test_id("people-row")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.key)") == ["miguel", "sarah", "", "dana"]
    expect(rows.nth(0).locator("th")).to_have_text("Miguel")
    expect(rows.nth(2).locator("th")).to_have_text("Never reached a person")
    for key, handoffs, answered, abandoned in [("sarah", "2", "2", "0"), ("miguel", "1", "1", "0"), ("", "2", "0", "1")]:
        expect(cell(page, key, "handoffs")).to_have_text(handoffs)
        expect(cell(page, key, "answered")).to_have_text(answered)
        expect(cell(page, key, "abandoned")).to_have_text(abandoned)
    expect(cell(page, "dana", "handoffs")).to_have_text("0")  # only in the compared period
    expect(cell(page, "dana", "wait-median")).to_have_text("—")
    expect(cell(page, "sarah", "satisfaction")).to_have_text("5.0 / 5")
    expect(cell(page, "miguel", "satisfaction")).to_have_text("3.0 / 5")

    # The charts draw the API's numbers.
    answered_groups = [g for g in answer["period"]["groups"] if g["key"] is not None]
    times = page.get_by_test_id("people-times-chart")
    expect(times).to_have_attribute("data-labels", '["Miguel","Sarah"]')
    assert series(times) == [
        {"label": label, "data": [g["figures"][key]["median"] for g in answered_groups]}
        for label, key in [("Wait", "wait_seconds"), ("First response", "first_response_seconds"),
                           ("Handle", "handle_seconds")]]
    outcomes = series(page.get_by_test_id("people-resolutions-chart"))
    resolutions = {name: n for name, n in total["resolutions"].items() if n}
    assert resolutions["resolved"] == 2 and resolutions["referred"] == 1
    assert outcomes == [{"label": name.replace("_", " "),
                         "data": [g["figures"]["resolutions"].get(name, 0) for g in answer["period"]["groups"]]}
                        for name in resolutions]
    assert series(page.get_by_test_id("people-ratings-chart")) == [
        {"label": "This period", "data": [0, 0, 1, 0, 1]}, {"label": "Compared period", "data": [0, 1, 0, 0, 0]}]

    # By queue: the same handoffs, each in its queue.
    page.get_by_test_id("people-by").select_option("queue")
    expect(page.get_by_test_id("people-row")).to_have_count(3)
    assert page.get_by_test_id("people-row").evaluate_all("rows => rows.map(r => r.dataset.key)") == [
        "food", "general", "housing"]
    expect(cell(page, "general", "handoffs")).to_have_text("3")
    assert "by=queue" in page.evaluate("location.hash")
    page.get_by_test_id("people-by").select_option("agent")
    expect(page.get_by_test_id("people-row")).to_have_count(4)
    shot(page, "insights-team")
    page.context.close()

    # Sarah sees her queues only (general, housing): A, C, D, E; not Miguel's food handoff.
    mine = sarah_view(browser, stack, since, until)
    expect(mine.get_by_test_id("people-scope")).to_contain_text("Your queues only: general, housing.")
    expect(value(mine, "handoffs")).to_have_text("4")
    expect(value(mine, "answered")).to_have_text("2")
    assert mine.get_by_test_id("people-row").evaluate_all("rows => rows.map(r => r.dataset.key)") == ["sarah", ""]
    expect(cell(mine, "sarah", "handoffs")).to_have_text("2")
    insights(mine, stack, "live")
    expect(mine.get_by_test_id("live-waiting-value")).to_have_text("1")
    assert mine.get_by_test_id("live-queue-row").evaluate_all("rows => rows.map(r => r.dataset.queue)") == [
        "general", "housing"]
    mine.context.close()


def sarah_view(browser: Browser, stack: Stack, since: float, until: float) -> Page:
    page = desk(browser, stack, "sarah", "demo-sarah")
    page.goto(f"{stack.connector_url}/desk/insights#people?" + urlencode({"from": since, "to": until}))
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "people")
    return page


def test_the_period_controls_and_the_apis_errors(browser: Browser, short_threshold: Stack) -> None:
    stack = short_threshold
    page = desk(browser, stack, "dana", "demo-dana")
    # A period that ends before it starts: the API's word, on the page.
    page.goto(f"{stack.connector_url}/desk/insights#people?from=2000&to=1000")
    expect(page.get_by_test_id("people-body").get_by_role("alert")).to_have_text("Query `from` must be before `to`.")
    # A day in 1970: nothing happened, and the page says so.
    page.goto(f"{stack.connector_url}/desk/insights#people?from=86400&to=172800")
    expect(value(page, "handoffs")).to_have_text("0")
    expect(value(page, "service-level")).to_have_text("—")
    expect(page.get_by_test_id("people-body")).to_contain_text("No handoffs were created in this period")
    # The presets and the compared period (the period before by default), kept in the address.
    page.get_by_test_id("people-range").select_option("30")
    expect(page.get_by_test_id("people-period")).not_to_contain_text("compared with")
    assert page.evaluate("location.hash") == "#people?range=30"
    page.get_by_test_id("people-compare").check()
    expect(page.get_by_test_id("people-period")).to_contain_text(", compared with ")
    expect(page.get_by_test_id("people-handoffs-change")).to_be_visible()
    assert page.evaluate("location.hash") == "#people?range=30&compare=previous"
    page.get_by_test_id("people-compare").uncheck()
    expect(page.get_by_test_id("people-handoffs-change")).to_have_count(0)
    # Custom dates: whole local days, the last one included.
    page.get_by_test_id("people-range").select_option("custom")
    page.get_by_test_id("people-period-from").fill("2026-03-01")
    page.get_by_test_id("people-period-to").fill("2026-03-03")
    first, end = page.evaluate('[Date.parse("2026-03-01T00:00:00") / 1000, Date.parse("2026-03-04T00:00:00") / 1000]')
    expect(page.get_by_test_id("people-period")).to_contain_text("Mar 1, 2026 – Mar 3, 2026")
    assert page.evaluate("location.hash") == f"#people?from={first}&to={end}"
    page.context.close()


def test_the_live_view_refreshes_until_another_view_opens(browser: Browser, short_threshold: Stack) -> None:
    stack = short_threshold
    page = desk(browser, stack, "dana", "demo-dana")
    asked: List[float] = []
    page.on("request", lambda r: asked.append(time.monotonic()) if "/api/v1/insights/live" in r.url else None)
    insights(page, stack, "live")
    updated = page.get_by_test_id("live-body")
    expect(updated).to_have_attribute("data-at", re.compile(r"^[0-9.]+$"))
    first = updated.get_attribute("data-at")
    expect(updated).not_to_have_attribute("data-at", first or "", timeout=12_000)  # asked again by itself
    page.get_by_test_id("nav-people").click()
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "people")
    left = time.monotonic()
    page.wait_for_timeout(7_000)  # longer than the refresh interval
    assert [t for t in asked if t > left + 0.5] == [], "the live view kept asking after another view opened"
    page.context.close()

