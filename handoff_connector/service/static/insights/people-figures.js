// The team view's figures: what each one is called, how it reads, which way is better; the headline.

import { el, duration, number, stat, NONE } from "./dom.js";
import { rate, triggerName } from "./bot-parts.js";

// `better`: 1 higher is better, -1 lower is better, 0 neither (a count of work, the time a conversation takes).
export const FIGURES = [
  { id: "handoffs", label: "Handoffs", get: (f) => f.handoffs, kind: "count", better: 0 },
  { id: "answered", label: "Answered", get: (f) => f.answered, kind: "count", better: 0 },
  { id: "abandoned", label: "Abandoned", get: (f) => f.abandoned, kind: "count", better: -1, table: true },
  { id: "abandonment-rate", label: "Abandonment rate", get: (f) => f.abandonment_rate, kind: "rate", better: -1 },
  { id: "service-level", label: "Service level", get: (f) => f.service_level, kind: "rate", better: 1 },
  { id: "wait-median", label: "Wait (median)", get: (f) => f.wait_seconds.median, kind: "duration", better: -1 },
  { id: "wait-p90", label: "Wait (p90)", get: (f) => f.wait_seconds.p90, kind: "duration", better: -1 },
  { id: "first-response-median", label: "First response (median)", get: (f) => f.first_response_seconds.median, kind: "duration", better: -1 },
  { id: "handle-median", label: "Handle (median)", get: (f) => f.handle_seconds.median, kind: "duration", better: 0 },
  { id: "transfers", label: "Transfers", get: (f) => f.transfers, kind: "count", better: -1 },
  { id: "satisfaction", label: "Satisfaction", get: (f) => f.satisfaction.average, kind: "rating", better: 1 },
  { id: "response-rate", label: "Survey response rate", get: (f) => f.satisfaction.response_rate, kind: "rate", better: 1 },
  { id: "follow-ups-open", label: "Follow-ups open", get: (f) => f.follow_ups_open, kind: "count", better: -1 },
];

const missing = (value) => value === null || value === undefined;

export function shown(figure, value) {
  if (figure.kind === "rate") return rate(value);
  if (figure.kind === "duration") return duration(value);
  if (figure.kind === "rating") return missing(value) ? NONE : `${Number(value).toFixed(1)} / 5`;
  return number(value);
}

const sign = (diff) => (diff > 0 ? "+" : diff < 0 ? "−" : "±");

// A change (this period − the compared one, as the API computes it): its text and which way it went.
export function moved(figure, diff) {
  if (missing(diff)) return null;
  // Under half a second reads as "0 s": no change, whichever way the milliseconds went.
  if (figure.kind === "duration" && Math.abs(diff) < 0.5) diff = 0;
  let text;
  if (figure.kind === "rate") text = `${sign(diff)}${Math.abs(Math.round(diff * 1000) / 10)} pts`;
  else if (figure.kind === "duration") text = `${sign(diff)}${duration(Math.abs(diff))}`;
  else if (figure.kind === "rating") text = `${sign(diff)}${Math.abs(diff).toFixed(1)}`;
  else text = `${sign(diff)}${number(Math.abs(diff))}`;
  const direction = !figure.better || Math.abs(diff) < 1e-9 ? "same" : diff * figure.better > 0 ? "better" : "worse";
  return { text, direction };
}

// Who or what a group is: an agent's name, a queue (and its team), a trigger.
export function groupName(by, group) {
  if (by === "agent") return group.key === null ? "Never reached a person" : group.label || group.key;
  if (by === "trigger") return triggerName(group.key);
  return group.key === null ? "No queue" : group.key;
}

function notes(figure, total, threshold) {
  if (figure.id === "answered") {
    const open = [total.waiting ? `${number(total.waiting)} still waiting` : null,
      total.assigned ? `${number(total.assigned)} with a person now` : null].filter(Boolean);
    return open.length ? open.join(", ") : null;
  }
  if (figure.id === "abandonment-rate") {
    return `${number(total.abandoned)} left: ${number(total.cancelled)} went back to the bot, ${number(total.timed_out)} fell silent`;
  }
  if (figure.id === "service-level") return `${number(total.answered_within_threshold)} answered within ${duration(threshold)}`;
  if (figure.id === "satisfaction") return `${number(total.satisfaction.rated)} rated of ${number(total.satisfaction.closed_by_a_person)} closed`;
  if (figure.id === "transfers") return `${number(total.transferred_handoffs)} handoffs transferred`;
  if (figure.id === "follow-ups-open") return `of ${number(total.follow_ups)} follow-ups`;
  return null;
}

// The headline: each figure of the period, and with a compared period the change and what it was.
export function headline(answer) {
  const total = answer.period.total;
  const before = answer.compare ? answer.compare.total : null;
  const changes = answer.change ? answer.change.total : null;
  return el("div", { class: "stats people-stats", testid: "people-headline" }, FIGURES.filter((f) => !f.table).map((figure) => {
    const change = changes ? moved(figure, figure.get(changes)) : null;
    const node = stat(`people-${figure.id}`, figure.label, shown(figure, figure.get(total)),
      change ? { text: `${change.text} vs ${shown(figure, figure.get(before))}`, good: change.direction === "better" } : null);
    const changed = node.querySelector(".stat-change");
    if (changed) {
      changed.setAttribute("data-testid", `people-${figure.id}-change`);
      changed.setAttribute("data-direction", change.direction);
      if (change.direction === "same") changed.className = "stat-change is-neutral";
    } else if (before) {
      node.append(el("span", { class: "stat-change is-neutral", testid: `people-${figure.id}-change`, text: `vs ${shown(figure, figure.get(before))}` }));
    }
    const note = notes(figure, total, answer.wait_threshold_seconds);
    if (note) node.append(el("span", { class: "stat-note", text: note }));
    return node;
  }));
}
