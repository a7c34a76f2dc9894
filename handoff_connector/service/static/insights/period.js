// The period controls the Bot and Team views share: the period in the address, the last 7
// or 30 days or custom whole days, and the date inputs that set one.

import { el, dateInput, startOf, endOf } from "./dom.js";

export const DAY = 86400;
export const RANGES = { 7: "Last 7 days", 30: "Last 30 days", custom: "Custom dates" };

export const local = (seconds) => dateInput(seconds * 1000);
export const dayStart = (value) => Date.parse(startOf(value)) / 1000;
export const dayEnd = (value) => Date.parse(endOf(value)) / 1000;

// The address's query (after "#view?"), and a number of seconds in it or null.
export function hashQuery() {
  return new URLSearchParams(window.location.hash.split("?")[1] || "");
}

export function seconds(query, name) {
  const raw = query.get(name);
  return raw !== null && raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : null;
}

// range ("7", "30" or "custom"), from, to: what the address says, else the last 7 days.
export function readRange(query) {
  const state = { range: query.get("range") === "30" ? "30" : "7", from: seconds(query, "from"), to: seconds(query, "to") };
  if (state.from !== null || state.to !== null) state.range = "custom";
  return state;
}

export function writeRange(query, state) {
  if (state.range === "custom") {
    if (state.from !== null) query.set("from", state.from);
    if (state.to !== null) query.set("to", state.to);
  } else if (state.range !== "7") query.set("range", state.range);
}

// replaceState: no hashchange, so the view is not drawn again from scratch.
export function replaceHash(view, query) {
  const text = query.toString();
  window.history.replaceState(null, "", "#" + view + (text ? "?" + text : ""));
}

// The period to ask the API for, in seconds since the epoch.
export function periodOf(state) {
  const now = Math.ceil(Date.now() / 1000);
  if (state.range !== "custom") return { from: now - Number(state.range) * DAY, to: now };
  const to = state.to ?? now;
  return { from: state.from ?? to - 7 * DAY, to };
}

// Two date inputs (first and last day, local) that set a period of whole days.
export function days(prefix, from, to, onChange, names = ["From", "To (including)"]) {
  const change = () => {
    if (first.value && last.value) onChange(dayStart(first.value), dayEnd(last.value));
  };
  const first = el("input", { type: "date", testid: prefix + "-from", value: local(from), onchange: change });
  const last = el("input", { type: "date", testid: prefix + "-to", value: local(to - 1), onchange: change });
  return [el("label", {}, [names[0], first]), el("label", {}, [names[1], last])];
}

export function select(testid, label, options, value, onChange) {
  const node = el("select", { testid, "aria-label": label, onchange: (event) => onChange(event.target.value) },
    Object.entries(options).map(([key, text]) => el("option", { value: key, text, selected: key === value })));
  return el("label", {}, [label, node]);
}
