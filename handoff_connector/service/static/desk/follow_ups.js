// Follow-ups that leave the chat: making one (a note for the user, a due time, in the chat
// and/or by email, with a link back to its owner), the "My follow-ups" list (soonest due
// first, overdue marked, Done), a conversation's follow-ups with how their emails went, and
// emailing the transcript to the user or the help desk.

import { fmtClock, fmtFull } from "./format.js";
import { $, el, icon } from "./dom.js";
import { S, agentName, contactOf, isSupervisor, nowSec, titleOf } from "./state.js";
import { api } from "./api.js";
import { beep, notify, report, toast } from "./notify.js";
import { openConversation } from "./handoffs.js";
import { hideDialog, setFormError, showDialog, submitting } from "./dialogs.js";
import { hooks } from "./hooks.js";

const F = { mine: [], byHandoff: new Map(), error: null, since: nowSec(), told: new Set() };
let followUpFor = null;
let transcriptFor = null;

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export async function loadMyFollowUps() {
  try {
    const data = await api("GET", "/api/v1/follow-ups?owner=me&state=open");
    F.mine = data.follow_ups;
    F.error = null;
  } catch (error) {
    if (error.handled) return;
    F.error = error.message;
  }
  renderMyFollowUps();
}

export async function loadConversationFollowUps(handoffId) {
  try {
    const data = await api("GET", `/api/v1/follow-ups?handoff_id=${encodeURIComponent(handoffId)}`);
    F.byHandoff.set(handoffId, data.follow_ups);
    hooks.refreshView(handoffId);
  } catch (error) {
    report(error, "Could not load the conversation's follow-ups");
  }
}

// What the conversation view shows of follow-ups: a signature, so the view is rebuilt when it changes.
export function followUpSig(handoffId) {
  return (F.byHandoff.get(handoffId) || []).map((f) =>
    `${f.id}:${f.state}:${f.due_at}:${f.conversation_id || ""}:${f.emails.map((e) => e.state).join(",")}`).join(";");
}

function dueText(f) {
  const late = f.state === "open" && f.due_at < nowSec();
  return `${late ? "Overdue · was due" : "Due"} ${fmtClock(f.due_at)}`;
}

function emailState(f) {
  const last = f.emails[f.emails.length - 1];
  if (!last) return null;
  const words = { sent: `Emailed to ${last.to}`, pending: `Sending to ${last.to}…`,
    failed: `Email to ${last.to} failed: ${last.error || "unknown reason"}`, erased: "Email erased" };
  return el("span", { class: `fu-email is-${last.state}`, testid: "follow-up-email", "data-state": last.state,
    text: words[last.state] || last.state });
}

// One that comes due while the desk is open: its owner is told once (overdue ones at start are only red).
function tellDue() {
  const now = nowSec();
  for (const f of F.mine) {
    if (f.due_at > now || f.due_at <= F.since || F.told.has(f.id)) continue;
    F.told.add(f.id);
    beep("new");
    toast(`Follow-up due now: ${titleOf(f.handoff_id)}: ${f.note}`, "info", 12000);
    notify("A follow-up is due", `${titleOf(f.handoff_id)}: ${f.note}`, f.conversation_id || f.handoff_id);
  }
}

export function renderMyFollowUps() {
  const list = $("#my-follow-ups");
  if (!list) return;
  tellDue();
  const count = $("#my-follow-ups-count");
  const late = F.mine.filter((f) => f.due_at < nowSec()).length;
  count.textContent = String(F.mine.length);
  count.classList.toggle("is-late", late > 0);
  if (F.error) {
    list.replaceChildren(el("li", { class: "empty-line is-error" }, [
      el("span", { text: `Follow-ups did not load: ${F.error}` }),
      el("button", { type: "button", class: "link-btn", text: "Retry", onclick: loadMyFollowUps }),
    ]));
    return;
  }
  if (!F.mine.length) {
    list.replaceChildren(el("li", { class: "empty-line", text: "Nothing to follow up on." }));
    return;
  }
  list.replaceChildren(...F.mine.map((f) => el("li", {
    class: "item fu-item" + (f.due_at < nowSec() ? " is-overdue" : ""), testid: "my-follow-up",
    "data-follow-up-id": String(f.id),
  }, [
    el("button", {
      type: "button", class: "item-btn", onclick: () => openConversation(f.conversation_id || f.handoff_id),
      "aria-label": `Follow-up for ${titleOf(f.handoff_id)}: ${f.note}. ${dueText(f)}`,
    }, [
      el("span", { class: "item-row" }, [
        icon("check", "followup-icon"),
        el("span", { class: "item-title", text: titleOf(f.handoff_id) }),
        el("span", { class: "fu-due", title: fmtFull(f.due_at), text: dueText(f) }),
      ]),
      el("span", { class: "item-text", text: f.note }),
      f.conversation_id ? el("span", { class: "fu-answered", testid: "follow-up-answered",
        text: "The user came back: open the conversation" }) : null,
    ]),
    el("button", { type: "button", class: "btn btn-ghost btn-sm fu-done", testid: "follow-up-done",
      onclick: () => markDone(f), text: "Done" }),
  ])));
}

async function markDone(f) {
  try {
    await api("PATCH", `/api/v1/follow-ups/${f.id}`, { state: "done" });
    toast(`Follow-up for ${titleOf(f.handoff_id)} is done.`, "success");
  } catch (error) {
    report(error, "Could not mark the follow-up done");
  }
  loadMyFollowUps();
  if (F.byHandoff.has(f.handoff_id)) loadConversationFollowUps(f.handoff_id);
}

// The conversation's follow-ups, under its head: what the user was told, when, how the email went.
export function followUpsStrip(d) {
  const found = F.byHandoff.get(d.id);
  if (found === undefined) {
    loadConversationFollowUps(d.id);
    return null;
  }
  if (!found.length) return null;
  return el("div", { class: "fu-strip", testid: "conversation-follow-ups" }, found.map((f) => el("div", {
    class: `fu-row is-${f.state}`, testid: "conversation-follow-up", "data-state": f.state,
  }, [
    el("strong", { text: f.state === "done" ? "Follow-up done" : `Follow-up · ${agentName(f.owner_id)}` }),
    el("span", { class: "fu-note", text: f.note }),
    el("span", { class: "fu-due", title: fmtFull(f.due_at), text: dueText(f) }),
    emailState(f),
  ])));
}

export function followUpButtons(d) {
  const mayAct = d.agent_id === S.me.id || isSupervisor();
  return [
    mayAct ? el("button", { type: "button", class: "btn btn-secondary", testid: "follow-up-button",
      onclick: () => openFollowUp(d.id) }, [icon("check"), "Follow-up"]) : null,
    S.me.email_enabled ? el("button", { type: "button", class: "btn btn-secondary", testid: "transcript-email-button",
      onclick: () => openTranscript(d.id) }, "Email transcript") : null,
  ];
}

function tomorrowAt10() {
  const at = new Date();
  at.setDate(at.getDate() + 1);
  at.setHours(10, 0, 0, 0);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T10:00`;
}

function openFollowUp(id) {
  const d = S.details.get(id);
  if (!d) return;
  followUpFor = id;
  $("#follow-up-title").textContent = `Follow-up for ${titleOf(id)}`;
  $("#follow-up-note").value = "";
  $("#follow-up-due").value = tomorrowAt10();
  const contact = contactOf(d) || "";
  $("#follow-up-email").value = EMAIL.test(contact) ? contact : "";
  const chat = $("#follow-up-chat");
  chat.disabled = d.state !== "assigned";
  chat.checked = d.state === "assigned";
  $("#follow-up-chat-hint").textContent = d.state === "assigned" ? "" : " (the user is not in the chat now)";
  const mail = $("#follow-up-send-email");
  mail.disabled = !S.me.email_enabled;
  mail.checked = S.me.email_enabled && !chat.checked;
  $("#follow-up-email-row").hidden = !S.me.email_enabled;
  setFormError($("#follow-up-error"), "");
  showDialog($("#follow-up-dialog"));
  $("#follow-up-note").focus();
}

async function submitFollowUp(event) {
  event.preventDefault();
  const id = followUpFor;
  const note = $("#follow-up-note").value.trim();
  const due = $("#follow-up-due").value;
  const email = $("#follow-up-email").value.trim();
  const sendChat = $("#follow-up-chat").checked;
  const sendEmail = $("#follow-up-send-email").checked;
  const error = $("#follow-up-error");
  if (!note) return setFormError(error, "Write what you will follow up on: the user reads it.");
  if (!due || isNaN(Date.parse(due))) return setFormError(error, "Choose when it is due.");
  if (sendEmail && !EMAIL.test(email)) return setFormError(error, "Give the user's email address to send it by email.");
  const body = { note, due_at: new Date(due).toISOString(), send_chat: sendChat, send_email: sendEmail };
  if (email) body.email = email;
  await submitting($("#follow-up-submit"), "Saving…", "Save follow-up", error, async () => {
    await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/follow-ups`, body);
    hideDialog($("#follow-up-dialog"));
    const where = [sendChat ? "in the chat" : null, sendEmail ? `by email to ${email}` : null].filter(Boolean);
    toast(where.length ? `Follow-up sent ${where.join(" and ")}.` : "Follow-up saved.", "success");
    loadConversationFollowUps(id);
    loadMyFollowUps();
  });
}

function openTranscript(id) {
  const d = S.details.get(id);
  if (!d) return;
  transcriptFor = id;
  $("#transcript-title").textContent = `Email the transcript of ${titleOf(id)}`;
  const contact = contactOf(d) || "";
  $("#transcript-email").value = EMAIL.test(contact) ? contact : "";
  $("#transcript-to-helpdesk").disabled = !S.me.helpdesk_email;
  $("#transcript-to-user").checked = true;
  $("#transcript-notes").checked = false;
  setFormError($("#transcript-error"), "");
  showDialog($("#transcript-dialog"));
}

async function submitTranscript(event) {
  event.preventDefault();
  const id = transcriptFor;
  const to = $("#transcript-to-helpdesk").checked ? "helpdesk" : "user";
  const email = $("#transcript-email").value.trim();
  const error = $("#transcript-error");
  if (to === "user" && !EMAIL.test(email)) return setFormError(error, "Give the user's email address.");
  const body = { to, include_notes: to === "helpdesk" || $("#transcript-notes").checked };
  if (to === "user") body.email = email;
  await submitting($("#transcript-submit"), "Sending…", "Send", error, async () => {
    const sent = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/transcript/email`, body);
    hideDialog($("#transcript-dialog"));
    toast(`The transcript is on its way to ${sent.to}.`, "success");
  });
}

// follow_up.* events: the lists change; the owner hears when the user came back through the link.
export function onFollowUpEvent(event) {
  const f = event.follow_up;
  if (!f) return;
  if (F.byHandoff.has(f.handoff_id)) loadConversationFollowUps(f.handoff_id);
  if (f.owner_id === S.me.id || event.previous_owner === S.me.id) loadMyFollowUps();
  if (event.type === "follow_up.answered" && f.owner_id === S.me.id) {
    beep("new");
    toast(`${titleOf(f.handoff_id)} came back about your follow-up.`, "info", 10000);
    notify("A follow-up was answered", `${titleOf(f.handoff_id)}: ${f.note}`, f.conversation_id);
  }
}

// An email's outcome (handoff.email): the follow-up shows it; its sender hears of a failure.
export function onEmailEvent(event) {
  if (event.follow_up_id && F.byHandoff.has(event.handoff_id)) loadConversationFollowUps(event.handoff_id);
  if (event.follow_up_id && event.created_by === S.me.id) loadMyFollowUps();
  const e = event.email;
  if (e && e.state === "failed" && event.created_by === S.me.id) {
    toast(`The email to ${e.to} about ${titleOf(event.handoff_id)} failed: ${e.error}`, "error", 12000);
  }
}

export function bindFollowUps() {
  $("#follow-up-form").addEventListener("submit", submitFollowUp);
  $("#transcript-form").addEventListener("submit", submitTranscript);
  for (const radio of document.querySelectorAll('input[name="transcript-to"]')) {
    radio.addEventListener("change", () => {
      const user = $("#transcript-to-user").checked;
      $("#transcript-email-row").hidden = !user;
      $("#transcript-notes-row").hidden = !user;
    });
  }
  setInterval(renderMyFollowUps, 15000);  // "Overdue" turns on by itself, and its owner is told
}
