// What the history and the record share: the address's parameters, names for ids, labels,
// and the searched words marked in a text (DOM nodes only).
import { get } from "./api.js";
import { el } from "./dom.js";

export const TRIGGERS = ["explicit", "cant_help", "frustration", "resume", "follow_up"];
export const STATES = ["queued", "assigned", "closed", "returned", "cancelled", "abandoned", "no_agent"];

const TRIGGER_LABELS = {
  explicit: "Asked for a person", cant_help: "Bot couldn't help", frustration: "Frustration", resume: "Came back by link", follow_up: "Answered a follow-up",
};
const STATE_LABELS = {
  queued: "Waiting", assigned: "With an agent", closed: "Closed", returned: "Back with the bot",
  cancelled: "Cancelled", abandoned: "Abandoned", no_agent: "Follow-up",
};

export const humanize = (code) => (code ? String(code).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()) : "");
export const triggerLabel = (code) => TRIGGER_LABELS[code] || humanize(code);
export const stateLabel = (code) => STATE_LABELS[code] || humanize(code);

// The parameters after "#history?": the filters, or `handoff` (a record).
export function hashParams() {
  const query = window.location.hash.split("?")[1] || "";
  return new URLSearchParams(query);
}

// Where "← History" goes back to: the list as it was last shown (its filters).
let listHash = "#history";
export const listAddress = () => listHash;
export function rememberList(hash) { listHash = hash || "#history"; }

export function recordHref(id) {
  return "#history?handoff=" + encodeURIComponent(id);
}

// Queue teams and agent names, asked once per page load (they change rarely).
let names = null;
export function lookups() {
  if (!names) {
    names = Promise.all([get("/api/v1/queues"), get("/api/v1/agents")]).then(([q, a]) => ({
      queues: q.queues,
      agents: a.agents,
      team: (name) => (q.queues.find((x) => x.name === name) || {}).team || name,
      agent: (id) => (a.agents.find((x) => x.id === id) || {}).name || id,
    })).catch((error) => { names = null; throw error; });
  }
  return names;
}

// The words of a search as the API reads them: letters and digits, "word*" a prefix.
export function terms(q) {
  return (String(q || "").match(/[\p{L}\p{N}]+\*?/gu) || []).slice(0, 8).map((w) => ({
    word: w.replace(/\*$/, "").toLowerCase(), prefix: w.endsWith("*"),
  }));
}

// `text` as nodes, each word the search matched in a <mark>.
export function marked(text, words) {
  const nodes = [];
  let at = 0;
  for (const found of String(text).matchAll(/[\p{L}\p{N}]+/gu)) {
    const token = found[0].toLowerCase();
    if (!words.some((t) => (t.prefix ? token.startsWith(t.word) : token === t.word))) continue;
    if (found.index > at) nodes.push(String(text).slice(at, found.index));
    nodes.push(el("mark", { text: found[0] }));
    at = found.index + found[0].length;
  }
  if (at < String(text).length) nodes.push(String(text).slice(at));
  return nodes;
}

export function stars(rating) {
  return rating ? el("span", { class: "history-stars", title: `${rating} of 5`, text: `${"★".repeat(rating)}${"☆".repeat(5 - rating)}` }) : "—";
}
