// Urgency: the flag on urgent conversations (queue row and conversation head), the
// supervisors' alert when one comes in or is raised, and raising or clearing it by hand.

import { $, el } from "./dom.js";
import { S, canSeeQueue, isSupervisor, teamOf, titleOf } from "./state.js";
import { api } from "./api.js";
import { beep, notify, toast } from "./notify.js";
import { upsertSummary } from "./handoffs.js";
import { hideDialog, setFormError, showDialog, submitting } from "./dialogs.js";
import { hooks } from "./hooks.js";

let urgencyFor = null;

export function isUrgent(h) {
  return !!(h && h.urgency > 0);
}

function levelName(h) {
  const name = h.urgency_level || "urgent";
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function urgencyText(h) {
  return isUrgent(h) ? `${levelName(h)}${h.urgency_label ? ": " + h.urgency_label : ""}` : "";
}

// The flag, on a queue row or in a conversation's head; null when not urgent.
export function urgencyBadge(h) {
  if (!isUrgent(h)) return null;
  return el("span", {
    class: `urgency-badge is-rank-${Math.min(h.urgency, 3)}`,
    testid: "urgency-badge",
    "data-level": h.urgency_level || "",
    title: `${urgencyText(h)}: goes first in line`,
    text: urgencyText(h),
  });
}

// The head's button: raise, change or clear the urgency (whoever may work on it).
export function urgencyButton(d) {
  if (!["queued", "assigned"].includes(d.state) || !(canSeeQueue(d.queue) || d.agent_id === S.me.id)) return null;
  return el("button", {
    type: "button", class: "btn btn-secondary", testid: "urgency-button",
    onclick: () => openUrgency(d.id),
  }, isUrgent(d) ? "Change urgency" : "Mark urgent");
}

// A created or urgency event: supervisors hear of a raise at once; everyone's queue re-sorts.
export function onUrgency(event) {
  const h = event.handoff;
  const before = S.summaries.get(h.id);
  upsertSummary(h);
  hooks.refreshView(h.id);
  const raised = isUrgent(h) && (!before || (before.urgency || 0) < h.urgency);
  if (!raised || !isSupervisor() || event.urgency_actor === `agent:${S.me.id}`) return;
  beep("new");
  toast(`${urgencyText(h)} · ${titleOf(h.id)} (${teamOf(h.queue)})`, "error", 12000);
  notify(`${urgencyText(h)}`, `${titleOf(h.id)} · ${teamOf(h.queue)}`, h.id);
}

export function openUrgency(id) {
  const h = S.summaries.get(id) || S.details.get(id);
  if (!h) return;
  urgencyFor = id;
  $("#urgency-title").textContent = `Urgency of ${titleOf(id)}`;
  const levels = [...(S.me.urgency_levels || [])].reverse();  // the most urgent first
  $("#urgency-level").replaceChildren(
    ...levels.map((name) => el("option", { value: name, text: name.charAt(0).toUpperCase() + name.slice(1) })),
    el("option", { value: "none", text: "Not urgent" }));
  $("#urgency-level").value = isUrgent(h) ? "none" : levels[levels.length - 1] || "none";
  $("#urgency-reason").value = "";
  setFormError($("#urgency-error"), "");
  showDialog($("#urgency-dialog"));
  $("#urgency-reason").focus();
}

async function submitUrgency(event) {
  event.preventDefault();
  const id = urgencyFor;
  const level = $("#urgency-level").value;
  const reason = $("#urgency-reason").value.trim();
  if (!id) return;
  if (!reason) {
    setFormError($("#urgency-error"), "Say why: it is recorded with the change.");
    return;
  }
  await submitting($("#urgency-submit"), "Saving…", "Save", $("#urgency-error"), async () => {
    const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/urgency`, { level, reason });
    hideDialog($("#urgency-dialog"));
    upsertSummary(summary);
    toast(isUrgent(summary) ? `${titleOf(id)} is marked ${urgencyText(summary)}.` : `${titleOf(id)} is no longer urgent.`,
      "success");
    hooks.scheduleRender();
  });
}

export function bindUrgency() {
  $("#urgency-form").addEventListener("submit", submitUrgency);
}
