// Help requests: an agent asks a supervisor for help on a conversation they hold; supervisors
// see the requests live in their list, read along, write notes, mark them handled or take over.

import { fmtAge, fmtFull } from "./format.js";
import { $, el, icon } from "./dom.js";
import { S, agentName, isSupervisor, nowSec, titleOf } from "./state.js";
import { api } from "./api.js";
import { beep, notify, report, toast } from "./notify.js";
import { openConversation, refreshDetail, upsertSummary } from "./handoffs.js";
import { hideDialog, setFormError, showDialog, submitting } from "./dialogs.js";
import { hooks } from "./hooks.js";

let helpFor = null;

export async function loadHelp() {
  try {
    const data = await api("GET", "/api/v1/help-requests");
    S.help = new Map(data.help_requests.map((r) => [r.id, r]));
    hooks.scheduleRender();
    if (S.active) hooks.refreshView(S.active);
  } catch (error) {
    report(error, "Could not load the help requests");
  }
}

export function openRequestFor(handoffId) {
  for (const r of S.help.values()) if (r.handoff_id === handoffId && r.state === "open") return r;
  return null;
}

// What the conversation view shows of help: a signature, so the view is rebuilt when it changes.
export function helpSig(handoffId) {
  const r = openRequestFor(handoffId);
  return r ? `${r.id}:${r.state}` : "";
}

// The holding agent's button in the conversation's head (or that they asked already).
export function helpButton(d) {
  if (d.state !== "assigned" || d.agent_id !== S.me.id) return null;
  if (openRequestFor(d.id)) {
    return el("span", { class: "help-asked", testid: "help-asked", text: "Help requested" });
  }
  return el("button", {
    type: "button", class: "btn btn-secondary", testid: "help-button", onclick: () => openHelp(d.id),
  }, [icon("transfer"), "Ask for help"]);
}

// A supervisor's banner over a conversation someone asked for help on.
export function helpBanner(d) {
  const r = openRequestFor(d.id);
  if (!r || !isSupervisor() || r.agent_id === S.me.id) return null;
  return el("div", { class: "help-banner", testid: "help-banner", role: "status" }, [
    el("strong", { text: `${r.agent_name || agentName(r.agent_id)} asks for help: ` }),
    el("span", { text: `“${r.message}”` }),
    el("span", { class: "muted", text: " Read along; your notes are never shown to the user." }),
    el("span", { class: "help-banner-actions" }, answerButtons(r)),
  ]);
}

function openHelp(id) {
  helpFor = id;
  $("#help-title").textContent = `Ask a supervisor about ${titleOf(id)}`;
  $("#help-message").value = "";
  setFormError($("#help-error"), "");
  showDialog($("#help-dialog"));
  $("#help-message").focus();
}

async function submitHelp(event) {
  event.preventDefault();
  const id = helpFor;
  const message = $("#help-message").value.trim();
  if (!id) return;
  if (!message) {
    setFormError($("#help-error"), "Say in a few words what you need.");
    return;
  }
  await submitting($("#help-submit"), "Asking…", "Ask for help", $("#help-error"), async () => {
    const request = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/help`, { message });
    hideDialog($("#help-dialog"));
    S.help.set(request.id, request);
    toast("A supervisor has been asked; they can read along and leave you notes.", "success");
    hooks.refreshView(id);
  });
}

async function markHandled(r, button) {
  await answer(button, "Saving…", `/api/v1/help-requests/${r.id}/handled`, () => {
    toast(`Marked ${r.agent_name || r.agent_id}'s request handled.`, "success");
  });
}

async function takeOver(r, button) {
  await answer(button, "Taking over…", `/api/v1/help-requests/${r.id}/take-over`, (summary) => {
    upsertSummary(summary);
    toast(`You took over ${titleOf(r.handoff_id)} from ${r.agent_name || r.agent_id}.`, "success");
    openConversation(r.handoff_id);
    refreshDetail(r.handoff_id);
  });
}

async function answer(button, busy, path, done) {
  button.disabled = true;
  button.textContent = busy;
  try {
    const result = await api("POST", path);
    done(result);
  } catch (error) {
    if (!error.handled) toast(error.message, "error");
    loadHelp();
  }
}

function answerButtons(r) {
  const handled = el("button", { type: "button", class: "btn btn-secondary btn-sm", testid: "help-handled", text: "Handled" });
  handled.addEventListener("click", () => markHandled(r, handled));
  const take = el("button", { type: "button", class: "btn btn-primary btn-sm", testid: "help-take-over", text: "Take over" });
  take.addEventListener("click", () => takeOver(r, take));
  return [handled, take];
}

// The supervisors' list in the sidebar, oldest first.
export function renderHelp() {
  const panel = $("#help-panel");
  if (!panel || !S.me) return;
  panel.hidden = !isSupervisor();
  if (!isSupervisor()) return;
  const items = [...S.help.values()].filter((r) => r.state === "open")
    .sort((a, b) => a.created_at - b.created_at || a.id - b.id);
  $("#help-count").textContent = String(items.length);
  $("#help-count").classList.toggle("is-hot", items.length > 0);
  const list = $("#help-list");
  if (!items.length) {
    list.replaceChildren(el("li", { class: "empty-line", text: "Nobody is asking for help." }));
    return;
  }
  const now = nowSec();
  list.replaceChildren(...items.map((r) => el("li", { class: "item help-item", testid: "help-item", "data-help-id": String(r.id) }, [
    el("span", { class: "item-row" }, [
      el("strong", { class: "item-title", text: `${r.agent_name || agentName(r.agent_id)} · ${titleOf(r.handoff_id) || r.sender_id}` }),
      el("span", { class: "age", "data-age-since": r.created_at, title: `Asked ${fmtFull(r.created_at)}`, text: fmtAge(now - r.created_at) }),
    ]),
    el("span", { class: "item-text", testid: "help-message", text: `“${r.message}”` }),
    el("span", { class: "item-row help-actions" }, [
      el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "help-read", text: "Read along",
        onclick: () => openConversation(r.handoff_id) }),
      ...answerButtons(r),
    ]),
  ])));
}

// "help.requested" and "help.handled" events.
export function onHelpEvent(event) {
  const r = event.help_request;
  if (!r) return;
  S.help.set(r.id, r);
  if (event.type === "help.requested" && isSupervisor() && r.agent_id !== S.me.id) {
    beep("new");
    toast(`${r.agent_name || r.agent_id} asks for help with ${titleOf(r.handoff_id)}: “${r.message}”`, "info", 9000);
    notify(`${r.agent_name || r.agent_id} asks for help`, r.message, r.handoff_id);
  } else if (event.type === "help.handled" && r.agent_id === S.me.id && r.handled_by !== S.me.id) {
    const how = r.state === "taken_over" ? "took the conversation over" : "saw to your request";
    toast(`${agentName(r.handled_by)} ${how} (${titleOf(r.handoff_id)}).`, "info");
  }
  if (S.active === r.handoff_id) hooks.refreshView(r.handoff_id);
}

export function bindHelp() {
  $("#help-form").addEventListener("submit", submitHelp);
}
