// The session: starting it (from a new sign-in or a reload), the boot and sign-in screens, ending it.

import { $, el } from "./dom.js";
import { BASE_TITLE, RECONNECT_MIN, S, STORE_KEYS, store, team } from "./state.js";
import { request } from "../common/http.js";
import { api, cancelRequests } from "./api.js";
import { report, updateNotifyButton } from "./notify.js";
import { resetTyping } from "./typing.js";
import { closeMenu } from "./replies.js";
import { loadAgents, loadLists, loadQueues, loadReplies } from "./load.js";
import { loadMyFollowUps } from "./follow_ups.js";
import { loadDetail } from "./handoffs.js";
import { renderView } from "./conversation.js";
import { renderTabs } from "./tabs.js";
import { renderLists } from "./queue.js";
import { closeTeam } from "./team.js";
import { renderMe, setPresence } from "./me.js";
import { connect, setWsStatus } from "./live.js";

export function showOnly(which) {
  $("#boot").hidden = which !== "boot";
  $("#login-view").hidden = which !== "login";
  $("#app").hidden = which !== "app";
}

export function showLogin(message, kind) {
  showOnly("login");
  const error = $("#login-error");
  if (message) {
    error.textContent = message;
    error.hidden = false;
    error.classList.toggle("is-info", kind === "info");
  } else {
    error.hidden = true;
    error.textContent = "";
  }
  document.title = "Sign in · " + BASE_TITLE;
  const user = $("#login-user");
  (user.value ? $("#login-password") : user).focus();
}

function resetState() {
  S.me = null;
  S.agents = new Map();
  S.queues = new Map();
  S.replies = [];
  S.summaries = new Map();
  S.waiting = new Map();
  S.mine = new Map();
  S.tickets = new Map();
  S.help = new Map();
  S.ticketsError = null;
  S.resumeUrls = new Map();
  S.announced = new Set();
  S.details = new Map();
  S.lastText = new Map();
  S.unread = new Map();
  S.eventMessages = new Map();
  S.pending = new Map();
  S.fresh = new Map();
  S.drafts = new Map();
  S.noteMode = new Map();
  S.refreshing = new Map();
  S.tabs = [];
  S.active = null;
  S.listsLoaded = false;
  S.synced = false;
  S.buffer = [];
  S.lastEventId = null;
  S.backoff = RECONNECT_MIN;
  S.failures = 0;
  closeMenu();
  resetTyping();
  closeTeam(false);
  team.loaded = false;
  team.error = null;
}

function teardown() {
  S.token = null;
  cancelRequests();
  clearTimeout(S.wsTimer);
  clearTimeout(S.syncTimer);
  if (S.ws) {
    const ws = S.ws;
    S.ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(1000, "signed out"); } catch (error) { /* already closed */ }
  }
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  resetState();
  $("#conv-host").replaceChildren();
  $("#tabs").replaceChildren();
}

export function sessionEnded() {
  if (!S.token) return;
  teardown();
  for (const key of Object.values(STORE_KEYS)) if (key !== STORE_KEYS.brief) store.remove(key);
  showLogin("Your session has ended. Sign in again to continue.", "info");
}

// The live events stop and every call on its way is cancelled first: one started by the presence
// change's own event would otherwise reach the server after the token is revoked.
export async function logout() {
  if (!S.token) return;
  const token = S.token;
  teardown();
  for (const key of Object.values(STORE_KEYS)) if (key !== STORE_KEYS.brief) store.remove(key);
  try { await request("PUT", "/api/v1/me/presence", token, { status: "offline" }); } catch (error) { /* signing out anyway */ }
  try { await request("POST", "/api/v1/logout", token); } catch (error) { /* the session ends locally anyway */ }
  showLogin("You have signed out.", "info");
}

export async function startSession(fresh) {
  resetState();
  S.token = store.get(STORE_KEYS.token);
  if (!S.token) { showLogin(); return; }
  S.presence = fresh ? "online" : (store.get(STORE_KEYS.presence) || "online");
  S.filter = store.get(STORE_KEYS.filter) || "";
  S.briefCollapsed = store.get(STORE_KEYS.brief) === "1";
  let me;
  try {
    me = await api("GET", "/api/v1/me");
  } catch (error) {
    if (error.handled) return;
    if (fresh) throw error;
    showOnly("boot");
    $("#boot").replaceChildren(
      el("p", { class: "boot-error", text: error.message }),
      el("button", { class: "btn btn-primary", type: "button", text: "Try again", onclick: () => location.reload() }),
    );
    return;
  }
  S.me = me;
  showOnly("app");
  renderMe();
  renderLists();
  renderTabs();
  renderView();
  updateNotifyButton();
  setWsStatus("connecting");
  setPresence(S.presence, true);
  loadAgents();
  loadQueues();
  loadReplies();
  loadMyFollowUps();
  connect();
  S.syncTimer = setTimeout(() => {
    if (!S.listsLoaded) loadLists().catch((error) => report(error, "Could not load the conversations"));
  }, 3000);
  if (!fresh) {
    let tabs = [];
    try { tabs = JSON.parse(store.get(STORE_KEYS.tabs) || "[]"); } catch (error) { tabs = []; }
    const active = store.get(STORE_KEYS.active);
    for (const id of tabs) if (typeof id === "string") S.tabs.push(id);
    if (S.tabs.length) {
      S.active = S.tabs.includes(active) ? active : S.tabs[0];
      for (const id of S.tabs) loadDetail(id);
      renderTabs();
      renderView();
    }
  }
}
