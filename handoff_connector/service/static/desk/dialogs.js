// The transfer and close dialogs, and what every dialog shares (showing, errors, a busy submit).

import { PRESENCE_WORD, humanize } from "./format.js";
import { $, el } from "./dom.js";
import { S, agentName, contactOf, isSupervisor, teamOf, titleOf } from "./state.js";
import { api } from "./api.js";
import { toast } from "./notify.js";
import { closeTab, upsertSummary } from "./handoffs.js";
import { hooks } from "./hooks.js";

let dialogHandoff = null;

let dialogReturnFocus = null;

export function showDialog(dialog) {
  dialogReturnFocus = document.activeElement;
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
}

export function hideDialog(dialog) {
  if (dialog.open) dialog.close();
}

export function setFormError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

// A dialog's request, its button busy meanwhile; what goes wrong shows in the dialog, which stays open.
export async function submitting(button, busy, idle, error, work) {
  button.disabled = true;
  button.textContent = busy;
  setFormError(error, "");
  try {
    await work();
  } catch (err) {
    if (err.handled) return;
    setFormError(error, err.message);
  } finally {
    button.disabled = false;
    button.textContent = idle;
  }
}

function fillTransferTargets(d) {
  const select = $("#transfer-target");
  const keep = select.value;
  const people = [...S.agents.values()]
    .filter((a) => a.id !== S.me.id && a.id !== d.agent_id && a.name)
    .sort((a, b) => (a.presence === "online" ? 0 : 1) - (b.presence === "online" ? 0 : 1) || a.name.localeCompare(b.name));
  const queues = [...S.queues.values()];
  const placeholder = el("option", { value: "", text: "Choose a person or a team…" });
  const peopleGroup = el("optgroup", { label: "People" }, people.map((a) => {
    const load = typeof a.load === "number" && a.capacity ? ` · ${a.load}/${a.capacity}` : "";
    const full = typeof a.load === "number" && a.capacity && a.load >= a.capacity ? " · full" : "";
    return el("option", {
      value: `agent:${a.id}`,
      text: `${a.name}, ${a.title || "agent"} · ${PRESENCE_WORD[a.presence] || a.presence || "offline"}${load}${full}`,
    });
  }));
  const queueGroup = el("optgroup", { label: "Teams (back to the queue)" }, queues.map((q) => el("option", {
    value: `queue:${q.name}`,
    text: `${q.team} · ${q.waiting || 0} waiting`,
  })));
  const children = [placeholder];
  if (people.length) children.push(peopleGroup);
  if (queues.length) children.push(queueGroup);
  select.replaceChildren(...children);
  if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
}

export async function openTransfer(id) {
  const d = S.details.get(id);
  if (!d) return;
  dialogHandoff = id;
  const dialog = $("#transfer-dialog");
  $("#transfer-title").textContent = `Transfer ${titleOf(id)}`;
  $("#transfer-note").value = "";
  setFormError($("#transfer-error"), "");
  $("#transfer-target").value = "";
  fillTransferTargets(d);
  showDialog(dialog);
  $("#transfer-target").focus();
  try {
    const [agents, queues] = await Promise.all([api("GET", "/api/v1/agents"), api("GET", "/api/v1/queues")]);
    S.agents = new Map(agents.agents.map((a) => [a.id, a]));
    S.queues = new Map(queues.queues.map((q) => [q.name, q]));
    if (dialog.open && dialogHandoff === id) fillTransferTargets(d);
  } catch (error) {
    if (error.handled) return;
    setFormError($("#transfer-error"), `Could not refresh who is available: ${error.message}`);
  }
}

async function submitTransfer(event) {
  event.preventDefault();
  const id = dialogHandoff;
  const error = $("#transfer-error");
  const value = $("#transfer-target").value;
  if (!id) return;
  if (!value) {
    setFormError(error, "Choose a person or a team to transfer to.");
    $("#transfer-target").focus();
    return;
  }
  const colon = value.indexOf(":");
  const kind = value.slice(0, colon);
  const target = value.slice(colon + 1);
  const body = kind === "agent" ? { agent_id: target } : { queue: target };
  const note = $("#transfer-note").value.trim();
  if (note) body.note = note;
  await submitting($("#transfer-submit"), "Transferring…", "Transfer", error, async () => {
    const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/transfer`, body);
    hideDialog($("#transfer-dialog"));
    const name = titleOf(id);
    upsertSummary(summary);
    toast(kind === "agent"
      ? `${name} is now with ${agentName(target)}.`
      : `${name} is back in the queue for the ${teamOf(target)}.`, "success");
    if (!isSupervisor() && summary.agent_id !== S.me.id) closeTab(id);
    hooks.renderLists();
  });
}

const CLOSE_SUB = "The assistant takes the conversation back and asks the user for feedback.";

function closeLabel(followup) {
  return followup ? "Mark done" : "Close conversation";
}

export function openClose(id) {
  const d = S.details.get(id);
  if (!d) return;
  dialogHandoff = id;
  const followup = d.state === "no_agent";
  $("#close-title").textContent = followup ? `Mark the follow-up for ${titleOf(id)} done` : `Close ${titleOf(id)}`;
  $("#close-sub").textContent = followup
    ? `Record how the call back to ${contactOf(d) || "the user"} went; it then leaves the Call backs list.`
    : CLOSE_SUB;
  const select = $("#close-resolution");
  select.replaceChildren(...(S.me.resolutions || []).map((r) => el("option", { value: r, text: humanize(r) })));
  $("#close-note").value = "";
  const resume = $("#close-resume-link");
  resume.checked = false;
  // The link goes to a connected user, from the agent who talked with them.
  $("#close-resume-wrap").hidden = followup || d.agent_id !== S.me.id;
  $("#close-submit").textContent = closeLabel(followup);
  $("#close-dialog").dataset.followup = followup ? "1" : "";
  setFormError($("#close-error"), "");
  showDialog($("#close-dialog"));
  select.focus();
}

async function submitClose(event) {
  event.preventDefault();
  const id = dialogHandoff;
  if (!id) return;
  const resolution = $("#close-resolution").value;
  const error = $("#close-error");
  if (!resolution) {
    setFormError(error, "Choose how the conversation ended.");
    return;
  }
  const body = { resolution };
  const note = $("#close-note").value.trim();
  if (note) body.note = note;
  const wantLink = !$("#close-resume-wrap").hidden && $("#close-resume-link").checked;
  if (wantLink) body.resume_link = true;
  const followup = $("#close-dialog").dataset.followup === "1";
  await submitting($("#close-submit"), followup ? "Saving…" : "Closing…", closeLabel(followup), error, async () => {
    const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/close`, body);
    hideDialog($("#close-dialog"));
    const d = S.details.get(id);
    if (d) d.close_note = note || null;
    if (summary && summary.resume_url) {
      S.resumeUrls.set(id, summary.resume_url);
      if (d) d.resume_url = summary.resume_url;
    }
    upsertSummary(summary);
    hooks.refreshView(id);
    if (followup) {
      toast(`Follow-up for ${titleOf(id)} marked done as “${humanize(resolution)}”.`, "success");
    } else {
      const link = summary && summary.resume_url ? " They got a link to continue with you later." : "";
      toast(`${titleOf(id)} closed as “${humanize(resolution)}”. The assistant takes it from here.${link}`, "success");
    }
    if (wantLink && !(summary && summary.resume_url)) {
      toast("The conversation is closed, but the server sent back no link to continue later.", "error");
    }
    hooks.renderLists();
  });
}

export function bindDialogs() {
  $("#transfer-form").addEventListener("submit", submitTransfer);
  $("#close-form").addEventListener("submit", submitClose);
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const button of dialog.querySelectorAll("[data-dismiss]")) button.addEventListener("click", () => hideDialog(dialog));
    dialog.addEventListener("close", () => {
      const target = dialogReturnFocus;
      dialogReturnFocus = null;
      const fallback = $("#composer-input") || $('[data-testid="conversation"]');
      if (target && target.isConnected) target.focus();
      else if (fallback) fallback.focus();
    });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) hideDialog(dialog);
    });
  }
}
