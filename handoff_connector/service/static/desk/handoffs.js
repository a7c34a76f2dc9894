// The conversations this desk holds: open tabs, details loaded and refreshed, summaries, claim.

import { $ } from "./dom.js";
import { S, STORE_KEYS, canSeeQueue, isSupervisor, store, titleOf } from "./state.js";
import { api } from "./api.js";
import { report, toast } from "./notify.js";
import { closeMenu } from "./replies.js";
import { refreshWaiting } from "./load.js";
import { hooks } from "./hooks.js";

function persistTabs() {
  store.set(STORE_KEYS.tabs, JSON.stringify(S.tabs));
  if (S.active) store.set(STORE_KEYS.active, S.active);
  else store.remove(STORE_KEYS.active);
}

export function saveDraft() {
  const input = $("#composer-input");
  if (input && input.dataset.handoffId) {
    if (input.value) S.drafts.set(input.dataset.handoffId, input.value);
    else S.drafts.delete(input.dataset.handoffId);
  }
}

export function openConversation(id) {
  if (!id) return;
  saveDraft();
  closeMenu();
  if (!S.tabs.includes(id)) S.tabs.push(id);
  S.active = id;
  S.unread.delete(id);
  persistTabs();
  hooks.renderLists();
  hooks.renderTabs();
  hooks.renderView();
  if (!S.details.has(id)) loadDetail(id);
  hooks.updateTitle();
}

export function closeTab(id) {
  const index = S.tabs.indexOf(id);
  if (index === -1) return;
  if (id === S.active) saveDraft();
  S.tabs.splice(index, 1);
  S.unread.delete(id);
  if (S.active === id) {
    S.active = S.tabs[index] || S.tabs[index - 1] || null;
    closeMenu();
  }
  if (!S.mine.has(id)) S.details.delete(id);
  persistTabs();
  hooks.renderLists();
  hooks.renderTabs();
  hooks.renderView();
  if (S.active && !S.details.has(S.active)) loadDetail(S.active);
}

// What only this desk knows (the link from its close answer, a contact from a
// ticket event) survives a reload of the conversation that leaves it out.
function keepLocal(fresh, old) {
  const url = S.resumeUrls.get(fresh.id) || (old && old.resume_url);
  if (url && !fresh.resume_url) fresh.resume_url = url;
  const ticket = S.tickets.get(fresh.id);
  const contact = (old && old.contact) || (ticket && ticket.contact);
  if (contact && !fresh.contact) fresh.contact = contact;
}

export function mergeEventMessages(d) {
  const extra = S.eventMessages.get(d.id) || [];
  for (const m of extra) {
    if (!d.messages.some((x) => x.id === m.id)) d.messages.push(m);
  }
  d.messages.sort((a, b) => a.id - b.id);
  clearPendingMatches(d.id, d.messages);
}

export async function loadDetail(id) {
  try {
    const d = await api("GET", `/api/v1/handoffs/${encodeURIComponent(id)}`);
    d.messages = d.messages || [];
    keepLocal(d, S.details.get(id));
    mergeEventMessages(d);
    S.details.set(id, d);
    S.summaries.set(id, d);
    hooks.refreshView(id);
    hooks.renderTabs();
    hooks.renderLists();
  } catch (error) {
    if (error.handled) return;
    if (error.status === 404 || error.status === 403) {
      toast(`Cannot open this conversation: ${error.message}`, "error");
      closeTab(id);
    } else {
      report(error, "Could not load the conversation");
      if (id === S.active) hooks.renderView(error.message);
    }
  }
}

export async function refreshDetail(id) {
  if (S.refreshing.has(id)) {
    S.refreshing.set(id, true);
    return;
  }
  S.refreshing.set(id, false);
  try {
    const fresh = await api("GET", `/api/v1/handoffs/${encodeURIComponent(id)}`);
    const old = S.details.get(id);
    if (!old && !S.tabs.includes(id)) return;
    fresh.messages = fresh.messages || [];
    if (old) {
      for (const m of old.messages) if (!fresh.messages.some((x) => x.id === m.id)) fresh.messages.push(m);
      if (old.survey && !fresh.survey) fresh.survey = old.survey;
    }
    keepLocal(fresh, old);
    mergeEventMessages(fresh);
    S.details.set(id, fresh);
    hooks.refreshView(id);
    hooks.renderTabs();
  } catch (error) {
    if (error.handled) return;
    if (error.status === 403 || error.status === 404) {
      if (S.tabs.includes(id)) {
        toast(`${titleOf(id)} is no longer visible to you, so its tab was closed.`, "info");
        closeTab(id);
      }
    } else {
      report(error, "Could not refresh the conversation");
    }
  } finally {
    const again = S.refreshing.get(id);
    S.refreshing.delete(id);
    if (again) refreshDetail(id);
  }
}

export function pendingFor(id) {
  let map = S.pending.get(id);
  if (!map) { map = new Map(); S.pending.set(id, map); }
  return map;
}

function clearPendingMatches(id, messages) {
  const map = S.pending.get(id);
  if (!map) return;
  for (const [key, p] of map) {
    const matched = messages.some((m) =>
      (p.note ? m.role === "note" && m.author === S.me.id && m.text === p.text && p.confirmedId === m.id
              : m.role === "agent" && m.client_id && m.client_id === p.clientId));
    if (matched) map.delete(key);
  }
}

export function addMessage(id, message) {
  const d = S.details.get(id);
  if (!d) return;
  if (!d.messages.some((m) => m.id === message.id)) {
    d.messages.push(message);
    d.messages.sort((a, b) => a.id - b.id);
  }
  clearPendingMatches(id, d.messages);
  if (id === S.active) hooks.renderTranscriptFor(id);
}

export function upsertSummary(s) {
  if (!s || !s.id) return;
  S.summaries.set(s.id, s);
  if (s.state === "queued" && canSeeQueue(s.queue)) S.waiting.set(s.id, s);
  else S.waiting.delete(s.id);
  if (s.state === "assigned" && (s.agent_id === S.me.id || isSupervisor())) S.mine.set(s.id, s);
  else S.mine.delete(s.id);
  if (s.state === "no_agent" && canSeeQueue(s.queue)) {
    // Keep the contact even if a later summary leaves it out.
    S.tickets.set(s.id, Object.assign({}, S.tickets.get(s.id) || {}, s));
  } else {
    S.tickets.delete(s.id);
  }
  const d = S.details.get(s.id);
  if (d) {
    const changed = d.state !== s.state || d.agent_id !== s.agent_id || d.queue !== s.queue;
    Object.assign(d, s);
    if (changed) {
      hooks.refreshView(s.id);
      refreshDetail(s.id);
    }
  }
}

export async function claim(id, takeAnyway) {
  const button = $('[data-testid="claim-button"]');
  if (button) {
    button.disabled = true;
    button.textContent = "Claiming…";
  }
  try {
    const path = `/api/v1/handoffs/${encodeURIComponent(id)}/claim`;
    const summary = await (takeAnyway ? api("POST", path, { take_anyway: true }) : api("POST", path));
    upsertSummary(summary);
    S.unread.delete(id);
    hooks.scheduleRender();
    await refreshDetail(id);
    const input = $("#composer-input");
    if (input && id === S.active) input.focus();
  } catch (error) {
    if (error.handled) return;
    toast(error.message, "error");
    if (button && button.isConnected) {
      button.disabled = false;
      button.textContent = "Claim conversation";
    }
    refreshWaiting();
    refreshDetail(id);
  }
}
