// The bot view's breakdown: the period's figures by trigger, queue, channel, day or hour (UTC).

import { get } from "./api.js";
import { el, empty, number, NONE } from "./dom.js";
import { chartBox, draw } from "./charts.js";
import { axes, cells, rate, table, triggerName } from "./bot-parts.js";

export const GROUPS = {
  trigger: "Trigger",
  queue: "Queue",
  channel: "Channel",
  day: "Day (UTC)",
  hour: "Hour of day (UTC)",
};
const MAX_DAYS = 92; // a longer period shows only the days that had conversations
const DAY = 86400;

function keyName(by, key) {
  if (by === "trigger") return triggerName(key);
  if (key === null || key === undefined) return by === "queue" ? "No queue" : "Unknown";
  if (by === "day") return new Date(key + "T00:00:00Z").toLocaleDateString("en", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  if (by === "hour") return `${String(key).padStart(2, "0")}:00`;
  return String(key);
}

// Every day (or hour) of the period, those without conversations as zero, so the chart reads as a timeline.
function timeline(by, groups, period) {
  const found = new Map(groups.map((g) => [String(g.key), g]));
  let keys;
  if (by === "hour") {
    keys = Array.from({ length: 24 }, (_, h) => String(h));
  } else {
    keys = [];
    for (let t = Math.floor(period.from_ts / DAY) * DAY; t < period.to_ts && keys.length <= MAX_DAYS; t += DAY) {
      keys.push(new Date(t * 1000).toISOString().slice(0, 10));
    }
    if (keys.length > MAX_DAYS) keys = groups.map((g) => String(g.key));
  }
  return keys.map((key) => found.get(key) || { key, conversations: 0, escalated: 0, escalation_rate: null });
}

// The escalation rate as a line on its own axis (right), over the bars of conversations.
function rateOnRight(chart, index) {
  if (!chart) return;
  const line = chart.data.datasets[index];
  Object.assign(line, { type: "line", yAxisID: "rate", backgroundColor: line.borderColor, borderWidth: 2, pointRadius: 3, order: -1 });
  chart.options.scales.rate = {
    position: "right", beginAtZero: true, suggestedMax: 1, grid: { drawOnChartArea: false },
    ticks: { callback: (v) => Math.round(v * 100) + "%" }, title: { display: true, text: "Escalation rate" },
  };
  chart.options.plugins.tooltip = {
    callbacks: { label: (c) => `${c.dataset.label}: ${c.dataset.yAxisID === "rate" ? rate(c.raw) : number(c.raw)}` },
  };
  chart.update("none");
}

function offerCells(offers) {
  if (!offers) return [NONE, NONE, NONE, NONE];
  return [number(offers.made), number(offers.accepted), number(offers.declined), rate(offers.acceptance_rate)];
}

function reasonChips(reasons) {
  const entries = Object.entries(reasons || {});
  if (!entries.length) return el("span", { class: "muted", text: NONE });
  return el("span", { class: "chip-row" }, entries.map(([code, count]) =>
    el("span", { class: "chip chip-reason", testid: "reason", "data-reason": code, text: `${code} · ${count}` })));
}

// Triggers and queues: the escalated conversations, each group's share of them and of all conversations.
function escalationsTable(by, groups) {
  const trigger = by === "trigger";
  const heads = [GROUPS[by], "Escalated", "Share of escalations", "Of all conversations"];
  if (trigger) heads.push("Offers made", "Accepted", "Declined", "Acceptance", "Reason codes");
  const rows = groups.map((g) => cells([
    keyName(by, g.key), number(g.escalated), rate(g.share_of_escalations), rate(g.escalation_rate),
    ...(trigger ? [...offerCells(g.offers), reasonChips(g.reasons)] : []),
  ], [1, 2, 3, 4, 5, 6, 7], { testid: "breakdown-row", "data-key": g.key === null ? "" : String(g.key) }));
  return table("breakdown-table", heads, rows, [1, 2, 3, 4, 5, 6, 7]);
}

// Channels, days, hours: each group's own conversations and rates.
function conversationsTable(by, groups) {
  const heads = [GROUPS[by], "Conversations", "Escalated", "Escalation rate", "Containment", "Offers made", "Accepted", "Declined", "Acceptance"];
  const numeric = [1, 2, 3, 4, 5, 6, 7, 8];
  const rows = groups.map((g) => cells([
    keyName(by, g.key), number(g.conversations), number(g.escalated), rate(g.escalation_rate), rate(g.containment_rate),
    ...offerCells(g.offers),
  ], numeric, { testid: "breakdown-row", "data-key": g.key === null ? "" : String(g.key) }));
  return table("breakdown-table", heads, rows, numeric);
}

function chartOf(by, figures) {
  const groups = figures.groups;
  const box = chartBox("breakdown-chart", `${GROUPS[by]}: conversations and escalations`, 260);
  let after;
  if (by === "day" || by === "hour") {
    const line = timeline(by, groups, figures.period);
    after = () => {
      const chart = draw(box, {
        labels: line.map((g) => keyName(by, g.key)),
        series: [{ label: "Conversations", data: line.map((g) => g.conversations) },
          { label: "Escalation rate", data: line.map((g) => g.escalation_rate), colour: "#c0303a" }],
      });
      axes(chart, GROUPS[by], "Conversations");
      rateOnRight(chart, 1);
    };
  } else if (by === "channel") {
    after = () => axes(draw(box, {
      labels: groups.map((g) => keyName(by, g.key)),
      series: [{ label: "Conversations", data: groups.map((g) => g.conversations) },
        { label: "Escalated", data: groups.map((g) => g.escalated), colour: "#c0303a" }],
    }), "Channel", "Conversations");
  } else {
    after = () => axes(draw(box, {
      labels: groups.map((g) => keyName(by, g.key)), horizontal: true,
      series: [{ label: "Escalated conversations", data: groups.map((g) => g.escalated) }],
    }), "Escalated conversations", GROUPS[by]);
  }
  return { box, after };
}

// The breakdown's content for `figures` (GET /api/v1/insights/bot with `by`).
function content(by, figures) {
  const total = figures.totals.conversations;
  if (!total) {
    return { nodes: empty("No bot conversations started in this period, so there is nothing to break down.") };
  }
  if (!figures.groups.length) {
    return { nodes: empty(`None of the ${number(total)} conversations in this period went to a person.`) };
  }
  const { box, after } = chartOf(by, figures);
  const note = by === "trigger"
    ? el("p", { class: "muted bot-note", text: "Escalated conversations by what started the handoff; the reason codes say what the bot detected." })
    : by === "queue" ? el("p", { class: "muted bot-note", text: "Escalated conversations by the queue they went to." }) : null;
  const tableNode = by === "trigger" || by === "queue" ? escalationsTable(by, figures.groups) : conversationsTable(by, figures.groups);
  return { nodes: [note, box, tableNode].filter(Boolean), after };
}

export async function loadBreakdown(params, by) {
  const figures = await get("/api/v1/insights/bot", { ...params, by });
  return content(by, figures);
}
