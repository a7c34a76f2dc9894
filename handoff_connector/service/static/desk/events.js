// Applying the live events to the state: new, claimed, moved and closed conversations, messages, presence.

import { S, agentName, teamOf, titleOf } from "./state.js";
import { api } from "./api.js";
import { beep, notify, toast } from "./notify.js";
import { teamChanged } from "./load.js";
import { addMessage, mergeEventMessages, refreshDetail, upsertSummary } from "./handoffs.js";
import { refreshView } from "./conversation.js";
import { scheduleRender } from "./queue.js";
import { renderMe, renderPresence } from "./me.js";
import { onAssignment, onTakenAnyway } from "./assignment.js";
import { onHelpEvent } from "./help.js";
import { onUrgency } from "./urgency.js";
import { onReminder, trackWait } from "./reminders.js";
import { onEmailEvent, onFollowUpEvent } from "./follow_ups.js";

export function applyEvent(event) {
  try {
    switch (event.type) {
      case "handoff.created":
        onUrgency(event);  // an urgent one alerts the supervisors
        if (event.handoff.state === "queued" && S.waiting.has(event.handoff.id)) announceNew(event.handoff);
        if (isResumedToMe(event.handoff)) announceResume(event.handoff);
        teamChanged();
        break;
      case "handoff.assigned": {
        const d = S.details.get(event.handoff.id);
        const before = d ? d.state : null;
        upsertSummary(event.handoff);
        if (event.handoff.id === S.active && before === "queued" && event.handoff.agent_id !== S.me.id) {
          toast(`${agentName(event.handoff.agent_id)} claimed this conversation.`, "info");
        }
        if (isResumedToMe(event.handoff)) announceResume(event.handoff);
        if (event.taken_anyway) onTakenAnyway(event);
        teamChanged();
        break;
      }
      case "handoff.assignment":
        onAssignment(event);
        break;
      case "handoff.urgency":
        onUrgency(event);
        break;
      case "help.requested":
      case "help.handled":
        onHelpEvent(event);
        break;
      case "handoff.ticket":
        upsertSummary(event.handoff);
        if (S.tickets.has(event.handoff.id)) S.fresh.set(event.handoff.id, Date.now());
        break;
      case "handoff.transferred":
        onTransferred(event);
        teamChanged();
        break;
      case "handoff.closed":
      case "handoff.returned":
        upsertSummary(event.handoff);
        teamChanged();
        break;
      case "handoff.cancelled":
      case "handoff.abandoned": {
        const wasMine = S.mine.has(event.handoff.id) || event.handoff.id === S.active;
        upsertSummary(event.handoff);
        if (wasMine) {
          const why = event.type === "handoff.cancelled"
            ? "went back to the assistant" : "went silent; the conversation was ended";
          toast(`${titleOf(event.handoff.id)} ${why}.`, "info");
        }
        teamChanged();
        break;
      }
      case "handoff.message":
        trackWait(event.handoff_id, event.message);
        onMessage(event.handoff_id, event.message);
        break;
      case "handoff.reminder":
        onReminder(event);
        break;
      case "follow_up.created":
      case "follow_up.updated":
      case "follow_up.done":
      case "follow_up.answered":
        onFollowUpEvent(event);
        break;
      case "handoff.email":
        onEmailEvent(event);
        break;
      case "handoff.undelivered":
        if (S.details.has(event.handoff_id)) refreshDetail(event.handoff_id);
        toast(`A message to ${titleOf(event.handoff_id)} could not be delivered.`, "error", 9000);
        break;
      case "handoff.survey":
        onSurvey(event.handoff_id, event.survey);
        teamChanged();
        break;
      case "agent.presence":
        onPresence(event.agent_id, event.presence);
        teamChanged();
        break;
      case "agent.changed":  // a profile, photo or account changed (the admin page, or their own desk)
        onAgentChanged(event.agent);
        teamChanged();
        break;
      default:
        break;
    }
  } catch (error) {
    console.error("desk: could not apply event", event, error);
  }
  scheduleRender();
}

function onAgentChanged(agent) {
  if (!agent) return;
  const known = S.agents.get(agent.id) || {};
  // The event's view has no load or ratings: keep those the desk has.
  S.agents.set(agent.id, Object.assign({}, known, agent, { load: known.load, survey: known.survey }));
  if (S.me && agent.id === S.me.id) {
    S.me = Object.assign({}, S.me, agent, { load: S.me.load, survey: S.me.survey });
    renderMe();
  }
}

function onTransferred(event) {
  const s = event.handoff;
  const wasMine = S.mine.has(s.id) && S.mine.get(s.id).agent_id === S.me.id;
  upsertSummary(s);
  const by = event.from_agent && event.from_agent !== S.me.id ? agentName(event.from_agent) : null;
  if (event.to_agent === S.me.id && event.from_agent !== S.me.id) {
    const note = event.note ? ` Note: “${event.note}”` : "";
    toast(`${by || "A colleague"} transferred ${titleOf(s.id)} to you.${note}`, "info", 9000);
    beep("new");
    notify("A conversation was transferred to you", `${titleOf(s.id)} · ${teamOf(s.queue)}`, s.id);
  } else if (wasMine && s.agent_id !== S.me.id && event.from_agent !== S.me.id) {
    toast(`${titleOf(s.id)} was moved to ${event.to_agent ? agentName(event.to_agent) : teamOf(event.to_queue)}.`, "info");
  } else if (s.state === "queued" && S.waiting.has(s.id) && event.from_agent !== S.me.id) {
    announceNew(s);
  }
}

function onMessage(handoffId, message) {
  if (!message) return;
  let list = S.eventMessages.get(handoffId);
  if (!list) { list = []; S.eventMessages.set(handoffId, list); }
  if (!list.some((m) => m.id === message.id)) {
    list.push(message);
    if (list.length > 300) list.shift();
  }
  const known = S.details.get(handoffId);
  const isNew = !known || !known.messages.some((m) => m.id === message.id);
  if (message.role === "user" && isNew) {
    S.lastText.set(handoffId, message.text);
    const tracked = S.mine.has(handoffId) || S.tabs.includes(handoffId);
    const onScreen = handoffId === S.active;
    if (tracked && !onScreen) S.unread.set(handoffId, (S.unread.get(handoffId) || 0) + 1);
    const summary = S.summaries.get(handoffId);
    if (summary && summary.agent_id === S.me.id && (!onScreen || document.hidden)) beep("message");
  }
  if (known) addMessage(handoffId, message);
}

function onSurvey(handoffId, survey) {
  const d = S.details.get(handoffId);
  if (!d) return;
  d.survey = survey;
  refreshView(handoffId);
}

function onPresence(agentId, presence) {
  const agent = S.agents.get(agentId);
  if (agent) agent.presence = presence;
  else S.agents.set(agentId, { id: agentId, name: agentId, presence });
  if (S.me && agentId === S.me.id) {
    S.me.presence = presence;
    renderPresence(presence);
  }
}

function isResumedToMe(s) {
  return !!(s && s.trigger === "resume" && s.state === "assigned" && S.me && s.agent_id === S.me.id);
}

function announceResume(s) {
  if (S.announced.has(s.id)) return;
  S.announced.add(s.id);
  S.fresh.set(s.id, Date.now());
  beep("new");
  const tell = () => {
    if (!S.me) return;
    const name = titleOf(s.id);
    toast(`${name} came back through your link.`, "info", 9000);
    notify("Someone came back through your link", `${name} · ${teamOf(s.queue)}`, s.id);
    scheduleRender();
  };
  if (S.details.has(s.id)) { tell(); return; }
  // The user's name is in the context; fetch it so the toast and the list can say who came back.
  api("GET", `/api/v1/handoffs/${encodeURIComponent(s.id)}`).then((d) => {
    if (!S.details.has(s.id)) {
      d.messages = d.messages || [];
      mergeEventMessages(d);
      S.details.set(s.id, d);
    }
  }, () => { /* the summary is enough to show it */ }).finally(tell);
}

function announceNew(s) {
  S.fresh.set(s.id, Date.now());
  beep("new");
  const text = S.lastText.get(s.id) || s.last_user_text;
  notify(`Someone is waiting · ${teamOf(s.queue)}`, text ? `“${text}”` : `${s.sender_id} via ${s.channel || "chat"}`, s.id);
}
