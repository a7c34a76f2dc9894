// The team view (#people): how the people did over a period, per agent, queue or trigger, and
// against a compared period. Supervisors see every queue; an agent the queues they belong to.
//
// The period, the compared period and the grouping live in the address
// (#people?from=<seconds>&to=<seconds>&compare_from=…&compare_to=…&by=queue, or range=30 and
// compare=previous), so a supervisor can share or come back to what they were looking at.

import { get } from "./api.js";
import { el, card, dateInput, duration, empty } from "./dom.js";
import { DAY, RANGES, dayEnd, days, hashQuery, periodOf, readRange, replaceHash, seconds, select, writeRange } from "./period.js";
import { panel, span } from "./bot-parts.js";
import { headline } from "./people-figures.js";
import { BY, groupTable } from "./people-table.js";
import { charts } from "./people-charts.js";

// What the address asks for; what it does not say (or says wrongly) is the default.
function readState() {
  const query = hashQuery();
  const state = {
    ...readRange(query),
    compare: query.get("compare") === "previous", compareFrom: seconds(query, "compare_from"),
    compareTo: seconds(query, "compare_to"), by: query.get("by") in BY ? query.get("by") : "agent",
  };
  if (state.compareFrom === null || state.compareTo === null) state.compareFrom = state.compareTo = null;
  else state.compare = true;
  return state;
}

function writeState(state) {
  const query = new URLSearchParams();
  writeRange(query, state);
  if (state.compare && state.compareFrom !== null) {
    query.set("compare_from", state.compareFrom);
    query.set("compare_to", state.compareTo);
  } else if (state.compare) query.set("compare", "previous");
  if (state.by !== "agent") query.set("by", state.by);
  replaceHash("people", query);
}

// The periods to ask for, in seconds since the epoch; the compared one is the period just
// before, of the same length, unless dates were given.
function periods(state) {
  const { from, to } = periodOf(state);
  let compare = null;
  if (state.compare) {
    compare = state.compareFrom !== null ? { from: state.compareFrom, to: state.compareTo } : { from: from - (to - from), to: from };
  }
  return { period: { from, to }, compare };
}

function toolbar(state, changed) {
  const { period, compare } = periods(state);
  const tick = el("input", {
    type: "checkbox", testid: "people-compare", checked: state.compare,
    onchange: (event) => {
      state.compare = event.target.checked;
      state.compareFrom = state.compareTo = null; // the period before, until dates are chosen
      changed();
    },
  });
  return el("div", { class: "toolbar", testid: "people-toolbar" }, [
    select("people-range", "Period", RANGES, state.range, (value) => {
      state.range = value;
      if (value === "custom") {
        // Start from the last 7 whole days, to be changed.
        state.to = dayEnd(dateInput(Date.now()));
        state.from = state.to - 7 * DAY;
      }
      changed();
    }),
    ...(state.range === "custom" ? days("people-period", period.from, period.to, (from, to) => {
      Object.assign(state, { from, to });
      changed();
    }) : []),
    el("label", { class: "people-tick" }, [el("span", { text: "Compare with" }), el("span", { class: "people-tick-box" }, [tick, state.compareFrom === null ? " the period before" : " these dates"])]),
    ...(compare ? days("people-compare", compare.from, compare.to, (from, to) => {
      Object.assign(state, { compareFrom: from, compareTo: to });
      changed();
    }, ["Compared from", "Compared to (including)"]) : []),
    select("people-by", "By", BY, state.by, (value) => {
      state.by = value;
      changed();
    }),
  ]);
}

function whose(me) {
  if (me.role === "supervisor") return "Every queue's handoffs (you are a supervisor).";
  const queues = me.queues || [];
  return queues.length
    ? `Your queues only: ${queues.join(", ")}. A supervisor sees every queue.`
    : "You belong to no queue, so there are no figures for you. A supervisor can add you to one.";
}

const periodText = (p) => span({ from_ts: p.from, to_ts: p.to });

function content(answer) {
  const total = answer.period.total;
  const nodes = [el("p", { class: "muted people-period", testid: "people-period" }, [
    `Handoffs created ${periodText(answer.period)}`,
    answer.compare ? `, compared with ${periodText(answer.compare)}` : "",
    `. A wait counts as on time within ${duration(answer.wait_threshold_seconds)}.`,
  ]), headline(answer)];
  if (!total.handoffs && !(answer.compare && answer.compare.total.handoffs)) {
    nodes.push(empty("No handoffs were created in this period" + (answer.compare ? " or the compared one" : "")
      + ": choose a longer period, or check that the bot hands conversations over."));
    return { nodes };
  }
  const drawn = charts(answer);
  nodes.push(drawn.node, card(`Per ${BY[answer.by].toLowerCase()}`, groupTable(answer), "people-groups"));
  return { nodes, after: drawn.after };
}

async function load(asked, by) {
  const query = { ...asked.period, by };
  if (asked.compare) Object.assign(query, { compare_from: asked.compare.from, compare_to: asked.compare.to });
  return content(await get("/api/v1/insights/people", query));
}

export function render(container, { me }) {
  const state = readState();
  const head = el("div", { class: "view-head" }, [
    el("div", {}, [
      el("h1", { text: "Team" }),
      el("p", { testid: "people-scope", text: "How the people did: waits, answers, resolutions, satisfaction. " + whose(me) }),
    ]),
  ]);
  const body = el("div", { testid: "people-body" });
  const refresh = panel(body);

  function controls() {
    head.replaceChildren(head.firstChild, toolbar(state, () => {
      writeState(state);
      controls();
      refresh(() => load(periods(state), state.by));
    }));
  }

  controls();
  container.append(head, body);
  refresh(() => load(periods(state), state.by));
}
