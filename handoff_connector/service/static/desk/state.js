// The desk's shared state (one object, S), its sessionStorage keys, and lookups over it (names, teams, roles).

import { TOKEN_KEY, store } from "../common/session.js";

export { store };

export const STORE_KEYS = {
  token: TOKEN_KEY,
  presence: "desk.presence",
  tabs: "desk.tabs",
  active: "desk.active",
  filter: "desk.filter",
  brief: "desk.briefCollapsed",
};

export const BASE_TITLE = "Agent desk · Community Help Line";

// The live socket's reconnect delays (ms): doubled after each failure, up to the most.
export const RECONNECT_MIN = 500;
export const RECONNECT_MAX = 10000;

export const S = {
  token: null,
  me: null,
  agents: new Map(),
  queues: new Map(),
  replies: [],
  summaries: new Map(),
  waiting: new Map(),
  mine: new Map(),
  tickets: new Map(),
  help: new Map(),
  ticketsError: null,
  resumeUrls: new Map(),
  announced: new Set(),
  details: new Map(),
  lastText: new Map(),
  unread: new Map(),
  eventMessages: new Map(),
  pending: new Map(),
  fresh: new Map(),
  drafts: new Map(),
  noteMode: new Map(),
  refreshing: new Map(),
  tabs: [],
  active: null,
  renderedSig: null,
  filter: "",
  presence: "online",
  listsLoaded: false,
  synced: false,
  buffer: [],
  lastEventId: null,
  ws: null,
  wsTimer: null,
  syncTimer: null,
  backoff: RECONNECT_MIN,
  failures: 0,
  lastBeep: 0,
  serverOffset: 0,
  briefCollapsed: false,
};

// The saved-reply menu (replies.js), the typing signal (typing.js) and the team panel (team.js).
export const menu = { open: false, mode: null, query: "", items: [], index: 0, dismissed: false };
export const typing = { id: null, active: false, lastSent: 0, timer: null };
export const team = { open: false, loading: false, loaded: false, error: null, timer: null };

export function nowSec() {
  return Date.now() / 1000 + S.serverOffset;
}

export function teamOf(queue) {
  const q = S.queues.get(queue);
  return (q && q.team) || queue || "";
}

export function agentName(id) {
  if (!id) return "";
  if (S.me && id === S.me.id) return S.me.name;
  const a = S.agents.get(id);
  return (a && a.name) || id;
}

export function isSupervisor() {
  return !!(S.me && S.me.role === "supervisor");
}

export function canSeeQueue(queue) {
  return isSupervisor() || (S.me && (S.me.queues || []).includes(queue));
}

export function summaryOf(id) {
  return S.details.get(id) || S.summaries.get(id) || null;
}

export function titleOf(id) {
  const d = S.details.get(id);
  const name = userNameOf(d);
  if (name) return name;
  const s = summaryOf(id);
  return (s && s.sender_id) || "Conversation";
}

// The name the bot learned (from the slot the designer named: `user_name_slot`), or "".
export function userNameOf(d) {
  return d && typeof d.user_name === "string" ? d.user_name : "";
}

export function ticketSince(h) {
  return h.ticket_at || h.contact_at || h.created_at;
}

export function contactOf(h) {
  if (!h) return "";
  const ticket = S.tickets.get(h.id);
  return h.contact || (ticket && ticket.contact) || "";
}

export function noteModeFor(d) {
  if (!d) return false;
  if (d.state === "assigned" && d.agent_id !== S.me.id) return true;
  return !!S.noteMode.get(d.id);
}
