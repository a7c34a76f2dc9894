// The transcript: the bot part, messages, notes and events in order, patched in place as they arrive.

import { entrySeconds, fmtClock, fmtFull, humanize } from "./format.js";
import { $, el, icon } from "./dom.js";
import { S, agentName, userNameOf } from "./state.js";
import { pendingFor } from "./handoffs.js";
import { deliver } from "./send.js";

export function transcriptEl() {
  const wrap = el("div", { class: "transcript-wrap" });
  const log = el("div", { class: "transcript", testid: "transcript", role: "log", "aria-label": "Transcript", tabindex: "0" });
  const jump = el("button", {
    type: "button", class: "jump-btn", hidden: true,
    onclick: () => { log.scrollTop = log.scrollHeight; jump.hidden = true; },
  }, [icon("down"), "New messages"]);
  log.addEventListener("scroll", () => {
    if (log.scrollHeight - log.scrollTop - log.clientHeight < 40) jump.hidden = true;
  });
  wrap.append(log, jump);
  return wrap;
}

function authorLabel(entry, d) {
  switch (entry.role) {
    case "bot": return "Assistant";
    case "system": return "Automatic update to the user";
    case "user": return userNameOf(d) || "User";
    case "agent":
    case "note": {
      if (!entry.author || entry.author === "agent" || entry.author === "note") return "Agent";
      return entry.author === S.me.id ? `${S.me.name} (you)` : agentName(entry.author);
    }
    default: return humanize(entry.role);
  }
}

function systemEl(entry, d) {
  const sec = entrySeconds(entry);
  return el("article", {
    class: "msg msg-system",
    testid: "msg",
    "data-role": "system",
    "data-message-id": entry.id !== undefined ? entry.id : null,
    title: "Sent automatically by the connector while the user waited",
  }, [
    el("span", { class: "msg-who", text: authorLabel(entry, d) }),
    el("span", { class: "msg-body", text: entry.text || "" }),
    sec !== null ? el("time", { datetime: new Date(sec * 1000).toISOString(), title: fmtFull(sec), text: fmtClock(sec) }) : null,
  ]);
}

function msgEl(entry, d, pending) {
  const role = entry.role;
  if (role === "system" && !pending) return systemEl(entry, d);
  const sec = entrySeconds(entry);
  const node = el("article", {
    class: `msg msg-${role}` + (pending ? ` is-${pending.status}` : ""),
    testid: "msg",
    "data-role": role,
    "data-message-id": entry.id !== undefined ? entry.id : null,
  }, [
    role === "note" ? el("div", { class: "note-flag" }, [icon("lock"), "Internal note, not sent to the user"]) : null,
    el("div", { class: "msg-head" }, [
      el("span", { class: "msg-who", text: authorLabel(entry, d) }),
      sec !== null ? el("time", { datetime: new Date(sec * 1000).toISOString(), title: fmtFull(sec), text: fmtClock(sec) }) : null,
    ]),
    el("div", { class: "msg-body", text: entry.text || "" }),
  ]);
  if (entry.late && entry.sent_at) {
    // Recovered after an outage: it was written earlier than it arrived.
    node.classList.add("is-late");
    node.append(el("div", { class: "msg-status", testid: "msg-late",
      text: `Sent at ${fmtClock(entry.sent_at)}; reached you late` }));
  }
  if (entry.undelivered) {
    node.append(el("div", { class: "msg-status is-error", testid: "msg-undelivered",
      text: `Not delivered to the user: ${entry.undelivered}` }));
  }
  if (pending) {
    if (pending.status === "sending") {
      node.append(el("div", { class: "msg-status", text: "Sending…" }));
    } else if (pending.status === "failed") {
      node.append(el("div", { class: "msg-status is-error" }, [
        el("span", { text: `Not sent: ${pending.error}` }),
        el("button", {
          type: "button", class: "link-btn", text: "Retry",
          onclick: () => deliver(d.id, pending),
        }),
        el("button", {
          type: "button", class: "link-btn", text: "Discard",
          onclick: () => { pendingFor(d.id).delete(pending.key); renderTranscriptFor(d.id); },
        }),
      ]));
    }
  }
  return node;
}

function transitionText(t, d) {
  const actor = t.actor && t.actor.startsWith("agent:") ? agentName(t.actor.slice(6)) : null;
  const resumed = d && d.trigger === "resume";
  if (resumed && t.to_state === "assigned" && t.actor === "link") {
    return `Came back through a link · straight to ${d.agent_id ? agentName(d.agent_id) : "the same agent"}`;
  }
  if (resumed && t.from_state === "requested" && t.to_state === "queued") {
    const direct = (d.transitions || []).some((x) => x.actor === "link");
    return direct ? null : "Came back through a link · waiting in the queue";
  }
  if (t.from_state === "requested" && t.to_state === "queued") return "Handed over to a person · waiting in the queue";
  if (t.from_state === "queued" && t.to_state === "assigned") return `${actor || "An agent"} joined the conversation`;
  if (t.from_state === "transferred" && t.to_state === "queued") return `${actor || "An agent"} passed the conversation back to a queue`;
  if (t.from_state === "transferred" && t.to_state === "assigned") return `${actor || "An agent"} transferred the conversation`;
  if (t.from_state === "no_agent" && t.to_state === "closed") return `${actor || "An agent"} marked the follow-up done`;
  if (t.to_state === "closed") return `${actor || "An agent"} closed the conversation`;
  if (t.to_state === "returned") return "The assistant took the conversation back";
  if (t.to_state === "no_agent") return "Nobody was free · the user left a contact for a call back";
  if (t.to_state === "cancelled") return "The user went back to the assistant";
  if (t.to_state === "abandoned") return "The user went silent · the conversation was ended";
  return null;
}

export function renderTranscriptFor(id, forceBottom) {
  if (id !== S.active) return;
  const d = S.details.get(id);
  const log = $('[data-testid="transcript"]');
  if (!d || !log) return;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;

  const items = [];
  const earlier = (d.transcript || []).filter((t) => t.id === undefined || t.id === null);
  if (earlier.length) {
    const label = d.trigger === "resume" ? "Earlier, before the link" : "With the assistant";
    items.push({ key: "divider", build: () => el("div", { class: "divider" }, [el("span", { text: label })]) });
  }
  earlier.forEach((entry, i) => items.push({ key: `b${i}|${authorLabel(entry, d)}`, build: () => msgEl(entry, d) }));

  const live = [];
  for (const m of d.messages || []) live.push({ kind: "msg", at: entrySeconds(m) || 0, order: 1, id: m.id, entry: m });
  for (const t of d.transitions || []) {
    const text = transitionText(t, d);
    if (text) live.push({ kind: "event", at: t.at || 0, order: 0, id: 0, text });
  }
  live.sort((a, b) => a.at - b.at || a.order - b.order || a.id - b.id);
  for (const item of live) {
    if (item.kind === "msg") {
      const flags = `${item.entry.late ? "late" : ""}|${item.entry.undelivered ? "undelivered" : ""}`;
      items.push({ key: `m${item.id}|${authorLabel(item.entry, d)}|${flags}`, build: () => msgEl(item.entry, d) });
    } else {
      items.push({
        key: `e${item.at}|${item.text}`,
        build: () => el("div", { class: "event-line" }, [el("span", { text: `${item.text} · ${fmtClock(item.at)}` })]),
      });
    }
  }
  const pending = S.pending.get(id);
  if (pending) {
    for (const p of pending.values()) {
      items.push({
        key: `p${p.key}|${p.status}|${p.error || ""}`,
        build: () => msgEl({ role: p.note ? "note" : "agent", author: S.me.id, text: p.text, created_at: p.at }, d, p),
      });
    }
  }

  const children = [...log.children];
  let same = 0;
  while (same < items.length && same < children.length && children[same].dataset.key === items[same].key) same += 1;
  for (let j = children.length - 1; j >= same; j -= 1) children[j].remove();
  let added = 0;
  for (let j = same; j < items.length; j += 1) {
    const node = items[j].build();
    node.dataset.key = items[j].key;
    if (node.classList.contains("msg") && j >= children.length) added += 1;
    log.append(node);
  }
  const jump = log.parentElement.querySelector(".jump-btn");
  if (forceBottom || nearBottom) {
    log.scrollTop = log.scrollHeight;
    if (jump) jump.hidden = true;
  } else if (added > 0 && jump) {
    jump.hidden = false;
  }
}
