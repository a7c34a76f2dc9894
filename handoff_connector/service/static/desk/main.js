// Agent desk: the agents' side of the bot-to-human handoff, on the public API only. Start and bind.

import { WAIT_LATE, WAIT_WARN, fmtAge, fmtDuration } from "./format.js";
import { $ } from "./dom.js";
import { RECONNECT_MIN, S, STORE_KEYS, menu, nowSec, store, team } from "./state.js";
import { hooks } from "./hooks.js";
import { enableNotifications, unlockAudio } from "./notify.js";
import { closeMenu } from "./replies.js";
import { openConversation } from "./handoffs.js";
import { renderTranscriptFor } from "./transcript.js";
import { bindDialogs } from "./dialogs.js";
import { bindAssignment } from "./assignment.js";
import { bindHelp } from "./help.js";
import { bindUrgency } from "./urgency.js";
import { bindProfile } from "./profile.js";
import { bindFollowUps } from "./follow_ups.js";
import { bindSavedReplies } from "./saved_replies.js";
import { refreshView, renderView } from "./conversation.js";
import { renderTabs } from "./tabs.js";
import { renderFilterOptions, renderLists, scheduleRender, updateTitle } from "./queue.js";
import { bindTeam, closeTeam, renderTeam } from "./team.js";
import { setPresence } from "./me.js";
import { connect } from "./live.js";
import { logout, sessionEnded, showLogin, showOnly, startSession } from "./session.js";
import { onLoginSubmit } from "./login.js";

Object.assign(hooks, {
  sessionEnded, openConversation, scheduleRender, renderLists, renderFilterOptions, updateTitle,
  renderTabs, renderView, refreshView, renderTranscriptFor, renderTeam,
});

function tick() {
  const now = nowSec();
  for (const node of document.querySelectorAll(".ticker[data-since]")) {
    const since = Number(node.getAttribute("data-since"));
    if (!since) continue;
    const seconds = now - since;
    const text = fmtDuration(seconds);
    if (node.textContent !== text) node.textContent = text;
    if (node.hasAttribute("data-levels")) {
      node.classList.toggle("is-warn", seconds >= WAIT_WARN && seconds < WAIT_LATE);
      node.classList.toggle("is-late", seconds >= WAIT_LATE);
    }
  }
  for (const node of document.querySelectorAll("[data-age-since]")) {
    const since = Number(node.getAttribute("data-age-since"));
    if (!since) continue;
    const text = fmtAge(now - since);
    if (node.textContent !== text) node.textContent = text;
  }
}

function listKeyNav(event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const list = event.currentTarget;
  const buttons = [...list.querySelectorAll(".item-btn")];
  const index = buttons.indexOf(document.activeElement);
  if (index === -1) return;
  event.preventDefault();
  const next = buttons[index + (event.key === "ArrowDown" ? 1 : -1)];
  if (next) next.focus();
}

function bind() {
  $("#login-form").addEventListener("submit", onLoginSubmit);
  $("#logout").addEventListener("click", logout);
  $("#notify-enable").addEventListener("click", enableNotifications);
  $("#presence-select").addEventListener("change", (event) => setPresence(event.target.value, false));
  $("#queue-filter").addEventListener("change", (event) => {
    S.filter = event.target.value;
    store.set(STORE_KEYS.filter, S.filter);
    renderLists();
  });
  $("#queue-list").addEventListener("keydown", listKeyNav);
  $("#mine-list").addEventListener("keydown", listKeyNav);
  $("#followups-list").addEventListener("keydown", listKeyNav);
  bindTeam();
  bindDialogs();
  bindAssignment();
  bindHelp();
  bindUrgency();
  bindProfile();
  bindFollowUps();
  bindSavedReplies();
  document.addEventListener("click", (event) => {
    if (!menu.open || menu.mode !== "list") return;
    const box = $("#saved-menu");
    if (box && !box.contains(event.target)) closeMenu();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && team.open && !menu.open && !document.querySelector("dialog[open]")) {
      closeTeam(true);
      return;
    }
    if (event.key === "Escape" && menu.open && !document.querySelector("dialog[open]")) {
      const wasList = menu.mode === "list";
      closeMenu();
      if (wasList) { const b = $("#saved-replies-button"); if (b) b.focus(); }
    }
  });
  const unlock = () => unlockAudio();
  document.addEventListener("pointerdown", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });
  window.addEventListener("online", () => {
    if (S.token && !S.ws) { S.backoff = RECONNECT_MIN; connect(); }
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && S.token && !S.ws) { S.backoff = RECONNECT_MIN; connect(); }
  });
  setInterval(tick, 1000);
}

function init() {
  bind();
  S.token = store.get(STORE_KEYS.token);
  if (S.token) {
    showOnly("boot");
    startSession(false).catch((error) => showLogin(error.message));
  } else {
    showLogin();
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
