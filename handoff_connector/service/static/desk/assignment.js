// Assignment: the badges on waiting conversations, the queue's own-caseload-first order,
// the supervisor's assign dialog, and the live assignment events.

import { $, el } from "./dom.js";
import { S, agentName, isSupervisor, teamOf, titleOf } from "./state.js";
import { api } from "./api.js";
import { beep, notify, toast } from "./notify.js";
import { upsertSummary } from "./handoffs.js";
import { hideDialog, setFormError, showDialog, submitting } from "./dialogs.js";
import { hooks } from "./hooks.js";

let assignFor = null;

export function assignedToMe(h) {
  return !!(h && S.me && h.assigned_to && h.assigned_to === S.me.id);
}

export function assignedToOther(h) {
  return !!(h && h.assigned_to && !assignedToMe(h));
}

export function assignmentText(h) {
  if (!h || !h.assigned_to) return "";
  return assignedToMe(h) ? "Assigned to you" : `Assigned to ${agentName(h.assigned_to)}`;
}

function byWhom(h) {
  return h.assigned_by ? `by ${agentName(h.assigned_by)}` : "by the queue's round robin";
}

export function assignmentBadge(h) {
  const text = assignmentText(h);
  if (!text) return null;
  return el("span", {
    class: "assignment-badge" + (assignedToMe(h) ? " is-self" : ""),
    testid: "assignment-badge",
    title: `${text} ${byWhom(h)}`,
    text,
  });
}

// The queue's order: the agent's own caseload first, then the most urgent, then the longest waiting.
export function queueOrder(a, b) {
  return (assignedToMe(b) - assignedToMe(a)) || (b.urgency || 0) - (a.urgency || 0) ||
    a.created_at - b.created_at || (a.id < b.id ? -1 : 1);
}

// A supervisor's button on a queue row (beside the row's own button, not inside it).
export function assignButton(h) {
  if (!isSupervisor()) return null;
  return el("button", {
    type: "button",
    class: "link-btn item-assign",
    testid: "assign-button",
    "aria-label": `Assign ${titleOf(h.id)} to someone`,
    text: h.assigned_to ? "Reassign" : "Assign",
    onclick: () => openAssign(h.id),
  });
}

// What the claim panel says of an assignment; null when there is none.
export function claimNotice(d) {
  if (!d.assigned_to) return null;
  if (assignedToMe(d)) return `A supervisor assigned this to you (${byWhom(d)}): claim it to reply.`;
  return `${assignmentText(d)} ${byWhom(d)}. Leave it to them unless it can't wait; taking it anyway is recorded.`;
}

function candidates(h) {
  return [...S.agents.values()]
    .filter((a) => (a.queues || []).includes(h.queue) && a.presence !== "offline")
    .sort((a, b) => (a.presence === "online" ? 0 : 1) - (b.presence === "online" ? 0 : 1) || a.name.localeCompare(b.name));
}

function fillTargets(h) {
  const select = $("#assign-target");
  const keep = select.value || h.assigned_to || "";
  const people = candidates(h);
  const options = [el("option", { value: "", text: people.length ? "Choose a person…" : "Nobody of this team is signed in" })];
  for (const a of people) {
    const load = typeof a.load === "number" && a.capacity ? ` · ${a.load}/${a.capacity}` : "";
    options.push(el("option", { value: a.id, text: `${a.name}, ${a.title || "agent"} · ${a.presence}${load}` }));
  }
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  $("#assign-clear").hidden = !h.assigned_to;
}

export async function openAssign(id) {
  const h = S.summaries.get(id);
  if (!h) return;
  assignFor = id;
  $("#assign-title").textContent = `Assign ${titleOf(id)}`;
  $("#assign-sub").textContent = `Waiting for the ${teamOf(h.queue)}. The person you choose sees it as theirs; ` +
    "the others are asked to leave it.";
  $("#assign-target").value = "";
  setFormError($("#assign-error"), "");
  fillTargets(h);
  showDialog($("#assign-dialog"));
  $("#assign-target").focus();
  try {
    const data = await api("GET", "/api/v1/agents");
    S.agents = new Map(data.agents.map((a) => [a.id, a]));
    if ($("#assign-dialog").open && assignFor === id) fillTargets(S.summaries.get(id) || h);
  } catch (error) {
    if (!error.handled) setFormError($("#assign-error"), `Could not refresh who is available: ${error.message}`);
  }
}

async function submitAssign(event) {
  event.preventDefault();
  const id = assignFor;
  const target = $("#assign-target").value;
  if (!id) return;
  if (!target) {
    setFormError($("#assign-error"), "Choose who should take it.");
    return;
  }
  await submitting($("#assign-submit"), "Assigning…", "Assign", $("#assign-error"), async () => {
    const summary = await api("PUT", `/api/v1/handoffs/${encodeURIComponent(id)}/assignment`, { agent_id: target });
    hideDialog($("#assign-dialog"));
    upsertSummary(summary);
    toast(`${titleOf(id)} is assigned to ${agentName(target)}.`, "success");
    hooks.scheduleRender();
  });
}

async function clearAssignment() {
  const id = assignFor;
  if (!id) return;
  await submitting($("#assign-clear"), "Unassigning…", "Unassign", $("#assign-error"), async () => {
    const summary = await api("DELETE", `/api/v1/handoffs/${encodeURIComponent(id)}/assignment`);
    hideDialog($("#assign-dialog"));
    upsertSummary(summary);
    toast(`${titleOf(id)} is waiting for anyone of the team again.`, "success");
    hooks.scheduleRender();
  });
}

// A "handoff.assignment" event: assigned, unassigned, or lapsed (the agent went offline).
export function onAssignment(event) {
  const h = event.handoff;
  const wasMine = assignedToMe(S.summaries.get(h.id));
  upsertSummary(h);
  if (event.action === "assigned" && assignedToMe(h) && event.by !== S.me.id) {
    S.fresh.set(h.id, Date.now());
    beep("new");
    toast(`${titleOf(h.id)} was assigned to you${event.by ? ` by ${agentName(event.by)}` : ""}.`, "info", 9000);
    notify("A conversation was assigned to you", `${titleOf(h.id)} · ${teamOf(h.queue)}`, h.id);
  } else if (wasMine && event.action === "lapsed") {
    toast(`${titleOf(h.id)} is no longer assigned to you: you went offline.`, "info");
  } else if (wasMine && !assignedToMe(h)) {
    toast(`${titleOf(h.id)} is no longer assigned to you.`, "info");
  }
}

// A claim that took a conversation assigned to this agent.
export function onTakenAnyway(event) {
  if (event.taken_from && S.me && event.taken_from === S.me.id && event.handoff.agent_id !== S.me.id) {
    toast(`${agentName(event.handoff.agent_id)} took ${titleOf(event.handoff.id)}, which was assigned to you.`, "info", 9000);
  }
}

export function bindAssignment() {
  $("#assign-form").addEventListener("submit", submitAssign);
  $("#assign-clear").addEventListener("click", clearAssignment);
}
