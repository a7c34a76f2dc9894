"""The bot designer's view (#bot) in headless Chromium, over the real processes and
Rasa's SQL event broker (as test_designer_e2e.py runs them).

The test makes the conversations, with words, so it knows what the page must show.
Before: one user asks for a person straight away. After: one is helped and says bye,
one is offered a person after two out-of-scope questions and declines, one asks
about an eviction and then for a person (turn 2), one accepts the offer after two
out-of-scope questions (turn 3). The page is opened on exactly these two periods.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Callable, Dict, List
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from stack import Stack
from tests.e2e.conftest import Agent, Inbox, User, wait_for
from tests.e2e.pages import desk, shot

pytestmark = pytest.mark.e2e

OFFER = "Would you like me to connect you with a person"


def figures(supervisor: Agent, **params: Any) -> Dict[str, Any]:
    found: Dict[str, Any] = supervisor.call("GET", "/insights/bot?" + urlencode(params))
    return found


def series(box: Locator) -> List[Dict[str, Any]]:
    found: List[Dict[str, Any]] = json.loads(box.get_attribute("data-series") or "null")
    return found


def intents(row: Locator) -> List[str]:
    return [step.get_attribute("data-name") or "" for step in row.locator('[data-kind="intent"]').all()]


def value(page: Page, figure: str) -> Locator:
    return page.get_by_test_id(f"bot-{figure}-value")


def test_the_designer_reads_the_conversations_the_test_made(
        browser: Browser, stack: Stack, inbox: Inbox, agent: Callable[[str], Agent]) -> None:
    # The compared period: one conversation, and it went to a person at once.
    before_from = time.time()
    assert "connecting you" in User(stack, inbox).say("can I talk to a real person")[0]
    time.sleep(0.05)
    since = time.time()
    helped = User(stack, inbox)
    assert "food" in helped.say("where is the nearest food pantry")[0]
    assert "Take care" in helped.say("bye")[0]
    declined = User(stack, inbox)
    declined.say("can you book me a flight to chicago")
    assert OFFER in declined.say("what's the score of the game tonight")[-1]
    assert "let's keep going" in declined.say("no thanks")[0]
    explicit = User(stack, inbox)
    assert "housing" in explicit.say("I got an eviction notice")[0]
    assert "Housing Help team" in explicit.say("can I talk to a real person")[0]
    cant_help = User(stack, inbox)
    assert "outside what I can help with" in cant_help.say("can you order me a pizza")[0]
    assert OFFER in cant_help.say("what's the weather in paris")[-1]
    assert "connecting you" in cant_help.say("yes please")[0]
    until = time.time() + 1

    dana = agent("dana")
    asked = handoff_explicit, handoff_cant = dana.handoff_of(explicit), dana.handoff_of(cant_help)
    assert [h["trigger"] for h in asked] == ["explicit", "cant_help"]
    seen: Dict[str, Any] = {}

    def folded() -> bool:
        seen["now"] = figures(dana, **{"from": since, "to": until})["totals"]
        seen["before"] = figures(dana, **{"from": before_from, "to": since})["totals"]
        return bool((seen["now"]["conversations"], seen["now"]["escalated"], seen["now"]["offers"]["made"],
                     seen["before"]["conversations"]) == (4, 2, 2, 1))

    try:
        wait_for(folded, timeout=30, what="the conversations folded in")
    except AssertionError:
        raise AssertionError(f"folded so far: {seen}") from None

    page = desk(browser, stack, "dana", "demo-dana")
    page.goto(f"{stack.connector_url}/desk/insights#bot?"
              + urlencode({"from": since, "to": until, "compare_from": before_from, "compare_to": since}))
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "bot")
    expect(page.get_by_test_id("nav-bot")).to_be_visible()

    # The headline: 4 conversations, 2 to a person; 2 offers, 1 accepted, 1 declined.
    for figure, shown in [("conversations", "4"), ("escalation-rate", "50%"), ("containment-rate", "50%"),
                          ("handoffs", "2"), ("offers-made", "2"), ("offers-accepted", "1"),
                          ("offers-declined", "1"), ("acceptance-rate", "50%")]:
        expect(value(page, figure)).to_have_text(shown)
    # Against the period before (1 conversation, escalated): lower escalation is better.
    change = page.get_by_test_id("bot-escalation-rate-change")
    expect(change).to_have_text("−50 pts vs 100%")
    expect(change).to_have_class("stat-change is-better")
    expect(page.get_by_test_id("bot-containment-rate-change")).to_have_text("+50 pts vs 0%")
    expect(page.get_by_test_id("bot-conversations-change")).to_have_text("+3 vs 1")
    row = page.locator('[data-testid="compare-row"][data-figure="escalation-rate"] td')
    expect(row).to_have_text(["Escalation rate", "50%", "100%", "−50 pts"])

    # By trigger (the default): one each, with the reason codes the handoffs carry.
    rows = page.get_by_test_id("breakdown-row")
    expect(rows).to_have_count(2)
    assert [r.get_attribute("data-key") for r in rows.all()] == ["cant_help", "explicit"]
    chart = page.get_by_test_id("breakdown-chart")
    expect(chart).to_have_attribute("data-series", json.dumps(
        [{"label": "Escalated conversations", "data": [1, 1]}], separators=(",", ":")))
    reasons = page.locator('[data-testid="breakdown-row"][data-key="cant_help"] [data-testid="reason"]')
    assert sorted(r.get_attribute("data-reason") or "" for r in reasons.all()) == sorted(
        ["out_of_scope", "cant_help_turns:2", "offer_accepted"]) == sorted(handoff_cant["reasons"])
    # The cant_help trigger's offers: the declined one and the accepted one.
    expect(page.locator('[data-testid="breakdown-row"][data-key="cant_help"] td')).to_have_text(
        ["Bot couldn't help", "1", "50%", "25%", "2", "1", "1", "50%", "cant_help_turns:2 · 1offer_accepted · 1out_of_scope · 1"])

    # Per hour: all four conversations on the chart, the rate as a line.
    page.get_by_test_id("bot-by").select_option("hour")
    expect(page.get_by_test_id("breakdown-chart")).to_have_attribute("data-labels", '["00:00"' + "".join(
        f',"{h:02d}:00"' for h in range(1, 24)) + "]")
    by_hour = series(page.get_by_test_id("breakdown-chart"))
    assert [s["label"] for s in by_hour] == ["Conversations", "Escalation rate"]
    assert sum(by_hour[0]["data"]) == 4
    assert "by=hour" in page.evaluate("location.hash")
    shot(page, "insights-bot-by-hour")
    page.get_by_test_id("bot-by").select_option("trigger")
    expect(page.get_by_test_id("breakdown-row")).to_have_count(2)

    # The turns: one handoff at turn 2 (explicit), one at turn 3 (after the offer).
    turns = page.get_by_test_id("turns-chart")
    expect(turns).to_have_attribute("data-series", '[{"label":"Handoffs","data":[0,1,1]}]')
    expect(turns).to_have_attribute("data-labels", '["1","2","3"]')
    expect(page.get_by_test_id("turns-median")).to_have_text("2.5")
    expect(page.get_by_test_id("turns-mean")).to_have_text("2.5")

    # The paths carry the intents the users' words had, and link to those conversations.
    paths = page.get_by_test_id("path-row")
    expect(paths).to_have_count(2)
    by_handoff = {r.get_by_test_id("example-link").first.get_attribute("data-handoff-id"): r for r in paths.all()}
    assert set(by_handoff) == {handoff_explicit["id"], handoff_cant["id"]}
    assert intents(by_handoff[handoff_explicit["id"]]) == ["ask_housing_help", "human_handoff"]
    assert intents(by_handoff[handoff_cant["id"]]) == ["out_of_scope", "out_of_scope", "affirm"]

    # The response before the can't-help handoff, with a link to the conversation's record.
    responses = page.get_by_test_id("response-row")
    expect(responses).to_have_count(1)
    expect(responses).to_have_attribute("data-response", "utter_out_of_scope")
    expect(responses).to_contain_text("Sorry, that's outside what I can help with.")
    link = responses.get_by_test_id("example-link")
    expect(link).to_have_attribute("data-handoff-id", handoff_cant["id"])
    expect(link).to_have_attribute("href", f"#history?handoff={handoff_cant['id']}")

    # One trigger only: the chart and the paths follow.
    page.get_by_test_id("bot-trigger").select_option("cant_help")
    expect(turns).to_have_attribute("data-series", '[{"label":"Handoffs","data":[0,0,1]}]')
    expect(paths).to_have_count(1)
    page.get_by_test_id("bot-trigger").select_option("")
    expect(paths).to_have_count(2)
    expect(turns).to_have_attribute("data-series", '[{"label":"Handoffs","data":[0,1,1]}]')
    shot(page, "insights-bot")

    link.click()
    expect(page.get_by_test_id("insights-view")).to_have_attribute("data-view", "history")
    assert page.evaluate("location.hash") == f"#history?handoff={handoff_cant['id']}"
    page.context.close()


def test_an_agent_has_no_bot_view(browser: Browser, stack: Stack) -> None:
    page = desk(browser, stack, "sarah", "demo-sarah")
    page.goto(f"{stack.connector_url}/desk/insights#bot")
    view = page.get_by_test_id("insights-view")
    expect(view).to_have_attribute("data-view", "people")
    expect(page.get_by_test_id("nav-bot")).to_be_hidden()
    expect(page.get_by_test_id("view-refused")).to_have_text(
        "The Bot view is for supervisors. Here is the Team view instead.")
    # Another view by the nav: the message goes.
    page.get_by_test_id("nav-history").click()
    expect(view).to_have_attribute("data-view", "history")
    expect(page.get_by_test_id("view-refused")).to_have_count(0)
    page.context.close()


def test_the_period_controls_empty_periods_and_errors(browser: Browser, stack: Stack) -> None:
    page = desk(browser, stack, "dana", "demo-dana")
    # A period that ends before it starts: the API's word, on the page.
    page.goto(f"{stack.connector_url}/desk/insights#bot?from=2000&to=1000")
    expect(page.get_by_test_id("bot-headline-panel").get_by_role("alert")).to_have_text(
        "Query `from` must come before `to`.")
    expect(page.get_by_test_id("turns-body").get_by_role("alert")).to_have_text("Query `from` must come before `to`.")
    # A day in 1970: nothing happened, and each panel says so.
    page.goto(f"{stack.connector_url}/desk/insights#bot?from=86400&to=172800")
    expect(page.get_by_test_id("bot-conversations-value")).to_have_text("0")
    expect(page.get_by_test_id("bot-escalation-rate-value")).to_have_text("—")
    expect(page.get_by_test_id("bot-headline-panel")).to_contain_text("No bot conversations started in this period")
    expect(page.get_by_test_id("breakdown-body")).to_contain_text("nothing to break down")
    expect(page.get_by_test_id("turns-body")).to_contain_text("No handoffs began in this period")
    expect(page.get_by_test_id("responses-body")).to_contain_text("No handoffs triggered by")

    # The presets and the compared period, kept in the address.
    page.get_by_test_id("bot-range").select_option("30")
    expect(page.get_by_test_id("bot-conversations-value")).to_have_text(re.compile(r"^[0-9,]+$"))
    assert page.evaluate("location.hash") == "#bot?range=30"
    page.get_by_test_id("bot-compare").select_option("previous")
    expect(page.get_by_test_id("compare-table")).to_be_visible()
    expect(page.get_by_test_id("bot-period")).to_contain_text(", compared with ")
    assert page.evaluate("location.hash") == "#bot?range=30&compare=previous"
    page.get_by_test_id("bot-compare").select_option("none")
    expect(page.get_by_test_id("compare-table")).to_have_count(0)

    # Custom dates: whole local days, the last one included.
    page.get_by_test_id("bot-range").select_option("custom")
    page.get_by_test_id("bot-period-from").fill("2026-03-01")
    page.get_by_test_id("bot-period-to").fill("2026-03-03")
    first, end = page.evaluate('[Date.parse("2026-03-01T00:00:00") / 1000, Date.parse("2026-03-04T00:00:00") / 1000]')
    expect(page.get_by_test_id("bot-period")).to_contain_text("Mar 1, 2026 – Mar 3, 2026")
    assert page.evaluate("location.hash") == f"#bot?from={first}&to={end}"
    page.context.close()
