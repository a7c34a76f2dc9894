// Small pieces the bot view's panels share: trigger names, periods, links to a conversation.

import { el, day, failure, moment, percent, NONE } from "./dom.js";

export const TRIGGERS = {
  explicit: "Asked for a person",
  frustration: "Frustration",
  cant_help: "Bot couldn't help",
};

export function triggerName(key) {
  return key === null || key === undefined ? "Unknown" : TRIGGERS[key] || key;
}

// A rate as a percentage: whole numbers without decimals, others with one.
export function rate(value) {
  if (value === null || value === undefined) return NONE;
  const whole = Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
  return percent(value, whole ? 0 : 1);
}

function isMidnight(seconds) {
  const d = new Date(seconds * 1000);
  return d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
}

// A period the API answered with, for people: whole local days as days, otherwise to the minute.
export function span(period) {
  if (!period || period.from_ts === undefined) return "";
  const { from_ts: from, to_ts: to } = period;
  if (isMidnight(from) && isMidnight(to)) {
    const last = to - 1;
    return day(from) === day(last) ? day(from) : `${day(from)} – ${day(last)}`;
  }
  if (to - from < 3600) {
    // A short period (a test's, a quick look): to the second, or both ends read the same.
    const exact = (t) => new Date(t * 1000).toLocaleString("en", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    return `${exact(from)} – ${exact(to)}`;
  }
  return `${moment(from)} – ${moment(to)}`;
}

// Where an example conversation opens: its record in the history view.
export function exampleLinks(examples) {
  if (!examples || !examples.length) return el("span", { class: "muted", text: NONE });
  return el("span", { class: "bot-examples" }, examples.map((example) => el("a", {
    href: "#history?handoff=" + encodeURIComponent(example.handoff_id),
    testid: "example-link",
    "data-handoff-id": example.handoff_id,
    title: "Open this conversation's record",
    text: example.handoff_at ? moment(example.handoff_at) : example.handoff_id.slice(0, 8),
  })));
}

// {frustration: 2, cant_help: 1} as pills.
export function triggerPills(counts) {
  const entries = Object.entries(counts || {});
  if (!entries.length) return el("span", { class: "muted", text: NONE });
  return el("span", { class: "chip-row" }, entries.map(([key, count]) => el("span", {
    class: "pill", "data-trigger": key, text: `${triggerName(key)} · ${count}`,
  })));
}

// Axis titles on a chart drawn by charts.draw() (it draws none of its own).
// Counts step by whole numbers, and bars stay bars when there are only one or two.
export function axes(chart, x, y) {
  if (!chart) return;
  const { scales } = chart.options;
  scales.x.title = { display: true, text: x };
  scales.y.title = { display: true, text: y };
  const value = chart.options.indexAxis === "y" ? scales.x : scales.y;
  value.ticks = { ...value.ticks, precision: 0 };
  for (const dataset of chart.data.datasets) dataset.maxBarThickness = 56;
  chart.update("none");
}

// A table from column heads and rows of cells; `numeric` columns align right.
export function table(testid, heads, rows, numeric = []) {
  return el("div", { class: "table-scroll" }, el("table", { class: "table", testid }, [
    el("thead", {}, el("tr", {}, heads.map((head, i) => el("th", { class: numeric.includes(i) ? "num" : null, scope: "col", text: head })))),
    el("tbody", {}, rows),
  ]));
}

export function cells(values, numeric = [], props = {}) {
  return el("tr", props, values.map((value, i) => el("td", { class: numeric.includes(i) ? "num" : null }, value)));
}

// A panel's body while it loads, and after: the content, or the API's error.
export function loading() {
  return el("p", { class: "muted", text: "Loading…" });
}

// Runs `load` for a panel; a newer call wins, an older answer is dropped.
export function panel(body) {
  let generation = 0;
  return async function refresh(load) {
    const mine = ++generation;
    body.replaceChildren(loading());
    let content;
    try {
      content = await load();
    } catch (error) {
      if (mine !== generation) return;
      if (error.status === 401) return;
      body.replaceChildren(failure(error));
      return;
    }
    if (mine !== generation) return;
    body.replaceChildren(...[].concat(content.nodes));
    if (content.after) content.after();
  };
}
