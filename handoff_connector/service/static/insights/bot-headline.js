// The bot view's headline: conversations, escalation and containment, handoffs, offers of a person;
// with a compared period, both side by side and the change on each figure.

import { get } from "./api.js";
import { el, empty, number, stat, NONE } from "./dom.js";
import { cells, rate, span, table } from "./bot-parts.js";

// Which way is better: lower escalation, higher containment; the counts are neither.
const FIGURES = [
  { id: "conversations", label: "Conversations", value: (t) => t.conversations, kind: "count" },
  { id: "escalation-rate", label: "Escalation rate", value: (t) => t.escalation_rate, kind: "rate", better: -1,
    note: (t) => `${number(t.escalated)} of ${number(t.conversations)} went to a person` },
  { id: "containment-rate", label: "Containment rate", value: (t) => t.containment_rate, kind: "rate", better: 1,
    note: (t) => `${number(t.contained)} handled by the bot alone` },
  { id: "handoffs", label: "Handoffs", value: (t) => t.handoffs, kind: "count" },
  { id: "offers-made", label: "Offers of a person", value: (t) => t.offers.made, kind: "count" },
  { id: "offers-accepted", label: "Offers accepted", value: (t) => t.offers.accepted, kind: "count" },
  { id: "offers-declined", label: "Offers declined", value: (t) => t.offers.declined, kind: "count" },
  { id: "acceptance-rate", label: "Acceptance rate", value: (t) => t.offers.acceptance_rate, kind: "rate",
    note: (t) => (t.offers.unanswered ? `${number(t.offers.unanswered)} not answered` : null) },
];

function shown(figure, value) {
  return figure.kind === "rate" ? rate(value) : number(value);
}

// The change from the compared period: points for rates, a signed count for counts.
function change(figure, now, then) {
  if (now === null || now === undefined || then === null || then === undefined) return null;
  const diff = now - then;
  const text = figure.kind === "rate"
    ? `${diff > 0 ? "+" : diff < 0 ? "−" : "±"}${Math.abs(Math.round(diff * 1000) / 10)} pts`
    : `${diff > 0 ? "+" : diff < 0 ? "−" : "±"}${number(Math.abs(diff))}`;
  const direction = !figure.better || Math.abs(diff) < 1e-9 ? "same" : diff * figure.better > 0 ? "better" : "worse";
  return { text, direction };
}

function headlineStat(figure, totals, before) {
  const now = figure.value(totals);
  const moved = before ? change(figure, now, figure.value(before)) : null;
  const node = stat(`bot-${figure.id}`, figure.label, shown(figure, now),
    moved ? { text: `${moved.text} vs ${shown(figure, figure.value(before))}`, good: moved.direction === "better" } : null);
  const changed = node.querySelector(".stat-change");
  if (changed) {
    changed.setAttribute("data-testid", `bot-${figure.id}-change`);
    if (moved.direction === "same") changed.className = "stat-change is-neutral";
  }
  const note = figure.note ? figure.note(totals) : null;
  if (note) node.append(el("span", { class: "stat-note", text: note }));
  if (figure.id === "escalation-rate" && now !== null) node.classList.add("is-key");
  return node;
}

// The two periods side by side, for a before/after reading (a model deployment between them).
function sideBySide(figures) {
  const { totals, compare } = figures;
  const rows = FIGURES.map((figure) => {
    const moved = change(figure, figure.value(totals), figure.value(compare.totals));
    const changed = moved
      ? el("span", { class: "bot-change is-" + moved.direction, text: moved.text })
      : el("span", { class: "muted", text: NONE });
    return cells([figure.label, shown(figure, figure.value(totals)), shown(figure, figure.value(compare.totals)), changed],
      [1, 2, 3], { testid: "compare-row", "data-figure": figure.id });
  });
  return table("compare-table", ["Figure", `This period (${span(figures.period)})`, `Compared with (${span(compare.period)})`, "Change"],
    rows, [1, 2, 3]);
}

function content(figures) {
  const before = figures.compare ? figures.compare.totals : null;
  const nodes = [el("p", { class: "muted bot-period", testid: "bot-period" }, [
    `Bot conversations that started ${span(figures.period)}`,
    figures.compare ? `, compared with ${span(figures.compare.period)}` : "", ".",
  ])];
  nodes.push(el("div", { class: "stats bot-stats", testid: "bot-headline" },
    FIGURES.map((figure) => headlineStat(figure, figures.totals, before))));
  if (!figures.totals.conversations) {
    nodes.push(empty("No bot conversations started in this period. The connector counts them from Rasa's event "
      + "broker: if you expected some, check that Rasa's endpoints.yml has the SQL event broker and the connector's "
      + "bot_events_database points at the same database (docs/designer-insights.md)."));
  }
  if (figures.compare) {
    nodes.push(el("section", { class: "card bot-compare", testid: "bot-side-by-side" }, [
      el("h2", { class: "card-title", text: "Side by side" }), sideBySide(figures),
    ]));
  }
  return { nodes };
}

export async function loadHeadline(params, compare) {
  const query = { ...params };
  if (compare) Object.assign(query, { compare_from: compare.from, compare_to: compare.to });
  return content(await get("/api/v1/insights/bot", query));
}
