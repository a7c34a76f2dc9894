// Where in the conversation the handoffs begin: at which user turn, after which intents and actions,
// and after which of the bot's responses (the ones that did not help).

import { get } from "./api.js";
import { el, empty, number } from "./dom.js";
import { chartBox, draw } from "./charts.js";
import { axes, cells, exampleLinks, rate, table, triggerName, triggerPills } from "./bot-parts.js";

const handoffs = (n) => `${number(n)} handoff${n === 1 ? "" : "s"}`;

function nothing(what, trigger) {
  return trigger
    ? `No handoffs with the trigger “${triggerName(trigger)}” began in this period, so there are no ${what}.`
    : `No handoffs began in this period, so there are no ${what}.`;
}

// Every turn from the first to the latest, those without a handoff as zero.
async function turns(params, trigger) {
  const found = await get("/api/v1/insights/bot/turns", { ...params, trigger });
  if (!found.escalated) return { nodes: empty(nothing("turns to show", trigger)) };
  const counts = new Map(found.turns.map((t) => [t.turn, t.count]));
  const last = Math.max(...found.turns.map((t) => t.turn));
  const labels = Array.from({ length: last }, (_, i) => String(i + 1));
  const data = labels.map((turn) => counts.get(Number(turn)) || 0);
  const box = chartBox("turns-chart", "Handoffs by the user turn they began at", 220);
  const figures = el("div", { class: "bot-turn-figures" }, [
    el("span", {}, ["Median turn ", el("strong", { testid: "turns-median", text: number(found.median) })]),
    el("span", {}, ["Mean turn ", el("strong", { testid: "turns-mean", text: number(found.mean) })]),
    el("span", { class: "muted", text: `over ${number(found.escalated)} escalated conversations` }),
  ]);
  return {
    nodes: [figures, box],
    after: () => axes(draw(box, { labels, series: [{ label: "Handoffs", data }] }), "User turn at which the handoff began", "Handoffs"),
  };
}

function chain(path) {
  if (!path.length) return el("span", { class: "muted", text: "(the handoff came before anything else)" });
  const nodes = [];
  path.forEach((step, i) => {
    if (i) nodes.push(el("span", { class: "bot-arrow", "aria-hidden": "true", text: "›" }));
    nodes.push(el("span", {
      class: "chip bot-step is-" + step.kind, testid: "path-step", "data-kind": step.kind, "data-name": step.name,
      title: step.kind === "intent" ? "The user's intent" : "The bot's action or response", text: step.name,
    }));
  });
  return el("span", { class: "bot-chain" }, nodes);
}

async function paths(params, trigger) {
  const found = await get("/api/v1/insights/bot/paths", { ...params, trigger });
  if (!found.paths.length) return { nodes: empty(nothing("paths to show", trigger)) };
  const rows = found.paths.map((p) => cells(
    [chain(p.path), number(p.count), rate(p.share), triggerPills(p.triggers), exampleLinks(p.examples)],
    [1, 2], { testid: "path-row", "data-key": p.key },
  ));
  return {
    nodes: [
      el("p", { class: "muted bot-note" }, [
        `The last ${found.steps} steps before ${found.escalated === 1 ? "the one handoff" : `each of ${handoffs(found.escalated)}`}: `,
        el("span", { class: "chip bot-step is-intent", text: "intent" }), " what the user said, ",
        el("span", { class: "chip bot-step is-action", text: "action" }), " what the bot did.",
      ]),
      table("paths-table", ["Path into the handoff", "Handoffs", "Share", "Triggers", "Example conversations"], rows, [1, 2]),
    ],
  };
}

async function responses(params, trigger) {
  const found = await get("/api/v1/insights/bot/responses", { ...params, trigger });
  const which = found.triggers.map((key) => `“${triggerName(key)}”`).join(" or ");
  if (!found.escalated) {
    return { nodes: empty(`No handoffs triggered by ${which} began in this period, so no response led to one.`) };
  }
  const rows = found.responses.map((r) => cells([
    el("div", { class: "bot-response" }, [
      el("code", { text: r.response }),
      r.text ? el("q", { class: "muted", text: r.text }) : null,
    ]),
    number(r.count), rate(r.share), triggerPills(r.triggers), exampleLinks(r.examples),
  ], [1, 2], { testid: "response-row", "data-response": r.response }));
  const nodes = [el("p", { class: "muted bot-note", text: `The bot's last response before ${found.escalated === 1 ? "the one handoff" : `each of ${handoffs(found.escalated)}`} triggered by ${which}.` })];
  nodes.push(rows.length
    ? table("responses-table", ["Bot response", "Handoffs", "Share", "Triggers", "Example conversations"], rows, [1, 2])
    : empty("The bot had said nothing before these handoffs."));
  if (found.without_response) {
    nodes.push(el("p", { class: "muted bot-note", text: `${number(found.without_response)} of them came before the bot had said anything.` }));
  }
  return { nodes };
}

export const WHERE = [
  { id: "turns", title: "At which user turn the handoffs began", load: turns },
  { id: "paths", title: "Most common paths into a handoff", load: paths },
  { id: "responses", title: "Bot responses that came right before a handoff", load: responses },
];
