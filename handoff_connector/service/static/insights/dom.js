// Building the pages: elements from data (the shared el), the formats and the figures' parts.

import { el } from "../common/dom.js";

export { el };

// "—" stands for a figure there is nothing to compute from (no rating, no answered handoff).
export const NONE = "—";

export function number(value) {
  return value === null || value === undefined ? NONE : Number(value).toLocaleString("en");
}

export function percent(share, digits = 0) {
  return share === null || share === undefined ? NONE : (share * 100).toFixed(digits) + "%";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return NONE;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export function day(isoOrSeconds) {
  const when = typeof isoOrSeconds === "number" ? new Date(isoOrSeconds * 1000) : new Date(isoOrSeconds);
  return when.toLocaleDateString("en", { day: "numeric", month: "short", year: "numeric" });
}

export function moment(isoOrSeconds) {
  const when = typeof isoOrSeconds === "number" ? new Date(isoOrSeconds * 1000) : new Date(isoOrSeconds);
  return when.toLocaleString("en", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

// A headline figure: label, value, and an optional change against the compared period.
export function stat(testid, label, value, change) {
  return el("div", { class: "stat", testid }, [
    el("span", { class: "stat-label", text: label }),
    el("strong", { class: "stat-value", testid: testid + "-value", text: value }),
    change ? el("span", { class: "stat-change " + (change.good ? "is-better" : "is-worse"), text: change.text }) : null,
  ]);
}

export function card(title, children, testid) {
  return el("section", { class: "card", testid }, [el("h2", { class: "card-title", text: title }), ...[].concat(children)]);
}

export function empty(text) {
  return el("p", { class: "empty muted", text });
}

export function failure(error) {
  return el("p", { class: "form-error", role: "alert", text: error.message || String(error) });
}

// <input type="date"> values (local days) to the API's ISO instants, and back.
export function dateInput(value) {
  const d = new Date(value);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function startOf(dateValue) {
  return new Date(dateValue + "T00:00:00").toISOString();
}

export function endOf(dateValue) {
  const d = new Date(dateValue + "T00:00:00");
  d.setDate(d.getDate() + 1);
  return d.toISOString();
}
