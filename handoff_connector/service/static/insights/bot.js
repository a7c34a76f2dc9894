// The bot view (#bot, supervisors): where the bot hands over to a person, and why.
//
// The period, the compared period, the breakdown and the trigger filter live in the address
// (#bot?from=<seconds>&to=<seconds>&compare_from=…&compare_to=…&by=day&trigger=cant_help), so a
// designer can share or come back to what they were looking at.

import { el, card, dateInput } from "./dom.js";
import { DAY, RANGES, dayEnd, days, hashQuery, periodOf, readRange, replaceHash, seconds, select, writeRange } from "./period.js";
import { TRIGGERS, panel } from "./bot-parts.js";
import { loadHeadline } from "./bot-headline.js";
import { GROUPS, loadBreakdown } from "./bot-breakdown.js";
import { WHERE } from "./bot-where.js";

const COMPARES = { none: "Nothing", previous: "The period before", custom: "Custom dates" };

// What the address asks for; what it does not say (or says wrongly) is the default.
function readState() {
  const query = hashQuery();
  const state = {
    ...readRange(query),
    compare: query.get("compare") === "previous" ? "previous" : "none",
    compareFrom: seconds(query, "compare_from"), compareTo: seconds(query, "compare_to"),
    by: query.get("by") in GROUPS ? query.get("by") : "trigger",
    trigger: query.get("trigger") in TRIGGERS ? query.get("trigger") : "",
  };
  if (state.compareFrom !== null && state.compareTo !== null) state.compare = "custom";
  return state;
}

function writeState(state) {
  const query = new URLSearchParams();
  writeRange(query, state);
  if (state.compare === "custom") {
    query.set("compare_from", state.compareFrom);
    query.set("compare_to", state.compareTo);
  } else if (state.compare === "previous") query.set("compare", "previous");
  if (state.by !== "trigger") query.set("by", state.by);
  if (state.trigger) query.set("trigger", state.trigger);
  replaceHash("bot", query);
}

// The periods to ask the API for, in seconds since the epoch.
function periods(state) {
  const { from, to } = periodOf(state);
  let compare = null;
  if (state.compare === "previous") compare = { from: from - (to - from), to: from };
  if (state.compare === "custom") compare = { from: state.compareFrom, to: state.compareTo };
  return { period: { from, to }, compare };
}

function toolbar(state, changed) {
  const { period, compare } = periods(state);
  const bar = el("div", { class: "toolbar", testid: "bot-toolbar" }, [
    select("bot-range", "Period", RANGES, state.range, (value) => {
      state.range = value;
      if (value === "custom") {
        // Start from the last 7 whole days, to be changed.
        const today = dateInput(Date.now());
        state.to = dayEnd(today);
        state.from = state.to - 7 * DAY;
      }
      changed();
    }),
    ...(state.range === "custom" ? days("bot-period", period.from, period.to, (from, to) => {
      Object.assign(state, { from, to });
      changed();
    }) : []),
    select("bot-compare", "Compare with", COMPARES, state.compare, (value) => {
      state.compare = value;
      if (value === "custom") {
        const length = Math.max(DAY, period.to - period.from);
        Object.assign(state, { compareFrom: period.from - length, compareTo: period.from });
      }
      changed();
    }),
    ...(state.compare === "custom" ? days("bot-compare", compare.from, compare.to, (from, to) => {
      Object.assign(state, { compareFrom: from, compareTo: to });
      changed();
    }) : []),
  ]);
  return bar;
}

export function render(container) {
  const state = readState();
  const head = el("div", { class: "view-head" }, [
    el("div", {}, [
      el("h1", { text: "Bot" }),
      el("p", { text: "Where the bot hands over to a person, and why: every bot conversation, escalated or not." }),
    ]),
  ]);
  const headline = el("div", { testid: "bot-headline-panel" });
  const breakdownBody = el("div", { testid: "breakdown-body" });
  const breakdownHead = el("div", { class: "bot-card-head" });
  const whereBodies = WHERE.map((part) => el("div", { testid: part.id + "-body" }));
  const whereHead = el("div", { class: "bot-section-head" });
  const refreshHeadline = panel(headline);
  const refreshBreakdown = panel(breakdownBody);
  const refreshWhere = whereBodies.map((body) => panel(body));

  const loadBreakdownNow = (asked = periods(state)) => refreshBreakdown(() => loadBreakdown(asked.period, state.by));
  const loadWhere = (asked = periods(state)) => WHERE.forEach((part, i) => refreshWhere[i](() => part.load(asked.period, state.trigger)));
  // One moment for every panel, so "the last 7 days" is the same period in each.
  function loadAll() {
    const asked = periods(state);
    refreshHeadline(() => loadHeadline(asked.period, asked.compare));
    loadBreakdownNow(asked);
    loadWhere(asked);
  }

  function controls() {
    head.replaceChildren(head.firstChild, toolbar(state, () => {
      writeState(state);
      controls();
      loadAll();
    }));
    breakdownHead.replaceChildren(
      el("h2", { class: "card-title", text: "Breakdown" }),
      el("div", { class: "toolbar" }, select("bot-by", "By", GROUPS, state.by, (value) => {
        state.by = value;
        writeState(state);
        loadBreakdownNow();
      })),
    );
    whereHead.replaceChildren(
      el("div", {}, [
        el("h2", { text: "Where in the conversation" }),
        el("p", { class: "muted", text: "The turn, the steps and the bot's response just before each handoff: the story to fix." }),
      ]),
      el("div", { class: "toolbar" }, select("bot-trigger", "Trigger", { "": "All triggers", ...TRIGGERS }, state.trigger, (value) => {
        state.trigger = value;
        writeState(state);
        loadWhere();
      })),
    );
  }

  controls();
  container.append(
    head, headline,
    el("section", { class: "card bot-breakdown", testid: "bot-breakdown" }, [breakdownHead, breakdownBody]),
    whereHead,
    el("div", { class: "bot-where" }, WHERE.map((part, i) => card(part.title, whereBodies[i], "bot-" + part.id))),
  );
  loadAll();
}
