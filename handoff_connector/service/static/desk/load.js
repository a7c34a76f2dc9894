// Loading from the API: agents, queues, saved replies, and the three lists (queue, mine, follow-ups).

import { S, team } from "./state.js";
import { api } from "./api.js";
import { report } from "./notify.js";
import { hooks } from "./hooks.js";

export async function loadAgents() {
  try {
    const data = await api("GET", "/api/v1/agents");
    S.agents = new Map(data.agents.map((a) => [a.id, a]));
    team.loaded = true;
    team.error = null;
    hooks.scheduleRender();
    if (S.active) hooks.renderTranscriptFor(S.active);
    if (team.open) hooks.renderTeam();
  } catch (error) {
    if (team.open && !error.handled) {
      team.error = error.message;
      hooks.renderTeam();
    } else {
      report(error, "Could not load the team list");
    }
  }
}

export async function loadQueues() {
  try {
    const data = await api("GET", "/api/v1/queues");
    S.queues = new Map(data.queues.map((q) => [q.name, q]));
    hooks.renderFilterOptions();
    hooks.scheduleRender();
  } catch (error) {
    report(error, "Could not load the queues");
  }
}

export async function loadReplies() {
  try {
    const data = await api("GET", "/api/v1/saved-replies");
    S.replies = data.saved_replies || [];
  } catch (error) {
    report(error, "Could not load the saved replies");
  }
}

function fetchTickets() {
  // Follow-ups are a side list: if they fail, the queue and my conversations still load.
  return api("GET", "/api/v1/tickets").then((data) => {
    S.ticketsError = null;
    return data;
  }, (error) => {
    if (error.handled) throw error;
    S.ticketsError = error.message;
    return null;
  });
}

function setTickets(data) {
  if (!data) return;
  S.tickets = new Map();
  for (const h of data.handoffs || []) {
    S.summaries.set(h.id, h);
    S.tickets.set(h.id, h);
  }
}

export async function refreshTickets() {
  try {
    setTickets(await fetchTickets());
  } catch (error) {
    return;
  }
  hooks.renderLists();
}

export async function loadLists() {
  const [queue, assigned, tickets] = await Promise.all([
    api("GET", "/api/v1/queue"),
    api("GET", "/api/v1/handoffs/assigned"),
    fetchTickets(),
  ]);
  S.waiting = new Map();
  S.mine = new Map();
  S.waitingTotal = queue.total;
  S.waitingMore = Boolean(queue.next);
  for (const h of queue.handoffs) {
    S.summaries.set(h.id, h);
    S.waiting.set(h.id, h);
  }
  for (const h of assigned.handoffs) {
    S.summaries.set(h.id, h);
    S.mine.set(h.id, h);
  }
  setTickets(tickets);
  S.listsLoaded = true;
  hooks.renderLists();
  hooks.renderTabs();
}

export async function refreshWaiting() {
  try {
    const queue = await api("GET", "/api/v1/queue");
    S.waiting = new Map(queue.handoffs.map((h) => [h.id, h]));
    S.waitingTotal = queue.total;
    S.waitingMore = Boolean(queue.next);
    for (const h of queue.handoffs) S.summaries.set(h.id, h);
    hooks.renderLists();
  } catch (error) {
    report(error, "Could not refresh the queue");
  }
}

// Presence, load and ratings change on the server; while the list is open, fetch them again.
export function teamChanged() {
  if (!team.open) return;
  clearTimeout(team.timer);
  team.timer = setTimeout(() => { if (team.open) loadAgents(); }, 300);
}
