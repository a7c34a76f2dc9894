// Reminders: a conversation whose user waits for the agent's answer past the connector's
// `remind_agent_after_seconds` is highlighted in "My conversations", and its agent reminded.

import { el } from "./dom.js";
import { fmtDuration } from "./format.js";
import { S, nowSec, teamOf, titleOf } from "./state.js";
import { beep, notify, toast } from "./notify.js";
import { upsertSummary } from "./handoffs.js";

// Whether the user of ``h`` has waited too long for an answer.
export function unanswered(h) {
  const after = (S.me && S.me.remind_agent_after_seconds) || 0;
  return !!(h && h.state === "assigned" && h.waiting_since && after && nowSec() - h.waiting_since >= after);
}

export function unansweredBadge(h) {
  if (!unanswered(h)) return null;
  return el("span", {
    class: "unanswered-badge wait ticker", testid: "unanswered-badge", "data-since": h.waiting_since,
    title: "The user is waiting for your answer", text: fmtDuration(nowSec() - h.waiting_since),
  });
}

// A message keeps the summary's wait current: the user's starts one, the agent's ends it.
export function trackWait(handoffId, message) {
  const h = S.summaries.get(handoffId);
  if (!h || !message) return;
  if (message.role === "agent") h.waiting_since = null;
  else if (message.role === "user" && !h.waiting_since) h.waiting_since = message.created_at;
}

// A "handoff.reminder" event: the agent holding it is told.
export function onReminder(event) {
  const h = event.handoff;
  upsertSummary(h);
  if (!S.me || h.agent_id !== S.me.id) return;
  beep("new");
  toast(`${titleOf(h.id)} is waiting for your answer (${fmtDuration(nowSec() - h.waiting_since)}).`, "info", 9000);
  notify("Someone is waiting for your answer", `${titleOf(h.id)} · ${teamOf(h.queue)}`, h.id);
}
