// The sidebar lists: waiting (with the queue filter), follow-ups, my conversations; load and page title.

import { contactHref, fmtAge, fmtDuration, fmtFull, waitLevel } from "./format.js";
import { $, el, icon, rememberFocus, restoreFocus, skeletonItems, triggerLabel } from "./dom.js";
import { BASE_TITLE, S, agentName, contactOf, isSupervisor, nowSec, teamOf, ticketSince, titleOf } from "./state.js";
import { refreshTickets } from "./load.js";
import { openConversation } from "./handoffs.js";
import { renderView } from "./conversation.js";
import { renderTabs } from "./tabs.js";
import { assignButton, assignedToMe, assignmentBadge, queueOrder } from "./assignment.js";
import { isUrgent, urgencyBadge } from "./urgency.js";
import { unanswered, unansweredBadge } from "./reminders.js";
import { renderHelp } from "./help.js";

let renderQueued = false;

export function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  // A timer rather than an animation frame: frames pause in background tabs,
  // and the page title must keep counting while the agent works elsewhere.
  setTimeout(() => {
    renderQueued = false;
    renderLists();
    renderTabs();
  }, 16);
}

export function renderFilterOptions() {
  if (!S.me) return;
  const select = $("#queue-filter");
  const names = isSupervisor() && S.queues.size ? [...S.queues.keys()] : (S.me.queues || []).slice();
  const options = [el("option", { value: "", text: isSupervisor() ? "All queues" : "All my queues" })];
  for (const name of names) options.push(el("option", { value: name, text: teamOf(name), "data-queue": name }));
  select.replaceChildren(...options);
  if (S.filter && !names.includes(S.filter)) S.filter = "";
  select.value = S.filter;
  updateFilterCounts();
}

function updateFilterCounts() {
  const select = $("#queue-filter");
  const counts = new Map();
  for (const h of S.waiting.values()) counts.set(h.queue, (counts.get(h.queue) || 0) + 1);
  for (const option of select.options) {
    const queue = option.dataset.queue;
    if (!queue) continue;
    const n = counts.get(queue) || 0;
    const text = `${teamOf(queue)}${n ? ` (${n})` : ""}`;
    if (option.textContent !== text) option.textContent = text;
  }
}

export function renderLists() {
  if (!S.me) return;
  renderQueue();
  renderFollowups();
  renderMine();
  renderLoad();
  renderHelp();
  updateFilterCounts();
  updateTitle();
  if (!S.active) renderView();
}

// Before the first load a list shows placeholders, and when empty what will come there: true if it did.
function showsNothing(list, count, placeholders, empty) {
  list.setAttribute("aria-busy", S.listsLoaded ? "false" : "true");
  if (!S.listsLoaded) {
    list.replaceChildren(...skeletonItems(placeholders));
    return true;
  }
  if (!count) {
    list.replaceChildren(empty());
    return true;
  }
  return false;
}

function emptyItem(iconName, title, hint) {
  return el("li", { class: "empty" }, [icon(iconName, "empty-icon"), el("strong", { text: title }), el("span", { text: hint })]);
}

// One conversation in a list: its item (marked a moment when it just arrived) and the button that opens it.
function listItem(h, testid, cls, label, rows, extra) {
  const fresh = Date.now() - (S.fresh.get(h.id) || 0) < 2500;
  return el("li", { class: cls + (fresh ? " is-new" : ""), testid, "data-handoff-id": h.id }, [
    el("button", {
      type: "button",
      class: "item-btn",
      "aria-current": h.id === S.active ? "true" : null,
      "aria-label": label,
      onclick: () => openConversation(h.id),
    }, rows),
    extra || null,
  ]);
}

function renderQueue() {
  const list = $("#queue-list");
  const focus = rememberFocus(list);
  const all = [...S.waiting.values()].sort(queueOrder);  // own caseload first, the most urgent, the longest waiting
  const items = all.filter((h) => !S.filter || h.queue === S.filter);
  // The queue comes a page at a time (the longest waiting first): the count says how many wait in all.
  const more = S.waitingMore && !S.filter;
  $("#queue-count").textContent = more ? String(Math.max(S.waitingTotal, items.length)) : String(items.length);
  $("#queue-count").classList.toggle("is-hot", items.length > 0);
  if (showsNothing(list, items.length, 3, () => emptyItem("inbox", "No one is waiting",
    S.filter ? `Nothing waiting for the ${teamOf(S.filter)}.` : "New conversations appear here, with a sound."))) return;
  const now = nowSec();
  const rest = S.waitingMore ? [el("li", { class: "empty", testid: "queue-more" }, [
    el("span", { text: `Showing the ${all.length} waiting longest of ${Math.max(S.waitingTotal, all.length)}; ` +
      "the others appear here as these are taken." }),
  ])] : [];
  list.replaceChildren(...items.map((h) => {
    const last = S.lastText.get(h.id) || h.last_user_text;
    const wait = now - h.created_at;
    const cls = "item" + (h.id === S.active ? " is-active" : "") + (assignedToMe(h) ? " is-assigned-me" : "") + (isUrgent(h) ? " is-urgent" : "");
    return listItem(h, "queue-item", cls, null, [
      el("span", { class: "item-row" }, [
        urgencyBadge(h),
        triggerLabel(h.trigger),
        assignmentBadge(h),
        el("span", { class: "item-team", text: teamOf(h.queue) }),
        el("span", {
          class: `wait ticker ${waitLevel(wait)}`,
          testid: "wait-time",
          "data-since": h.created_at,
          "data-levels": "1",
          title: `Waiting since ${fmtFull(h.created_at)}`,
          text: fmtDuration(wait),
        }),
      ]),
      el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user yet" }),
      el("span", { class: "item-meta" }, [
        el("span", { class: "meta-team", text: teamOf(h.queue) + " · " }),
        [h.sender_id, h.channel].filter(Boolean).join(" · "),
      ]),
    ], assignButton(h));
  }), ...rest);
  restoreFocus(list, focus);
}

function renderFollowups() {
  const list = $("#followups-list");
  const focus = rememberFocus(list);
  const items = [...S.tickets.values()].sort((a, b) => ticketSince(a) - ticketSince(b) || (a.id < b.id ? -1 : 1));
  const count = $("#followups-count");
  count.textContent = String(items.length);
  count.classList.toggle("is-follow", items.length > 0);
  if (showsNothing(list, items.length, 1, () => (S.ticketsError
    ? el("li", { class: "empty-line is-error" }, [
      el("span", { text: `Call backs did not load: ${S.ticketsError}` }),
      el("button", { type: "button", class: "link-btn", text: "Retry", onclick: refreshTickets }),
    ])
    : el("li", { class: "empty-line", text: "No one is waiting for a call back." })))) return;
  const now = nowSec();
  list.replaceChildren(...items.map((h) => {
    const last = S.lastText.get(h.id) || h.last_user_text;
    const since = ticketSince(h);
    const contact = contactOf(h) || "No contact given";
    return listItem(h, "followup-item", "item followup" + (h.id === S.active ? " is-active" : ""),
      `Call back ${contact}, ${titleOf(h.id)}, ${teamOf(h.queue)}, waiting ${fmtAge(now - since)}`, [
      el("span", { class: "item-row" }, [
        icon(/^mailto:/.test(contactHref(contact) || "") ? "mail" : "phone", "followup-icon"),
        el("span", { class: "item-title followup-contact-text", text: contact }),
        el("span", {
          class: "age",
          "data-age-since": since,
          title: `Asked for a call back ${fmtFull(since)}`,
          text: fmtAge(now - since),
        }),
      ]),
      el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user" }),
      el("span", { class: "item-row item-meta" }, [
        el("span", { class: "item-team", text: teamOf(h.queue) }),
        el("span", { class: "followup-who", text: titleOf(h.id) }),
      ]),
    ]);
  }));
  restoreFocus(list, focus);
}

function renderMine() {
  const list = $("#mine-list");
  const focus = rememberFocus(list);
  const me = S.me.id;
  const items = [...S.mine.values()].sort((a, b) => {
    const own = (b.agent_id === me) - (a.agent_id === me);
    return own || (a.claimed_at || 0) - (b.claimed_at || 0);
  });
  $("#mine-count").textContent = String(items.length);
  if (showsNothing(list, items.length, 2, () => emptyItem("chat",
    isSupervisor() ? "No one is in a conversation" : "No conversations yet",
    "Claim someone from the queue to start helping."))) return;
  const now = nowSec();
  list.replaceChildren(...items.map((h) => {
    const unread = S.unread.get(h.id) || 0;
    const last = S.lastText.get(h.id) || h.last_user_text;
    const own = h.agent_id === me;
    const cls = "item" + (h.id === S.active ? " is-active" : "") + (unread ? " has-unread" : "") +
      (unanswered(h) ? " is-unanswered" : "");
    return listItem(h, "mine-item", cls,
      `${titleOf(h.id)}, ${own ? "assigned to you" : "assigned to " + agentName(h.agent_id)}${h.trigger === "resume" ? ", resumed" : ""}${unread ? `, ${unread} unread` : ""}`, [
      el("span", { class: "item-row" }, [
        el("span", { class: "item-title", text: titleOf(h.id) }),
        unread ? el("span", { class: "badge", testid: "unread-badge", text: String(unread) }) : null,
        unansweredBadge(h),
        el("span", {
          class: "since ticker",
          "data-since": h.claimed_at || h.created_at,
          title: h.claimed_at ? `With an agent since ${fmtFull(h.claimed_at)}` : "",
          text: fmtDuration(now - (h.claimed_at || h.created_at)),
        }),
      ]),
      el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user yet" }),
      el("span", { class: "item-row item-meta" }, [
        el("span", {
          class: "assignee" + (own ? " is-self" : ""),
          testid: "assignee",
          text: own ? "assigned to you" : `assigned to ${agentName(h.agent_id)}`,
        }),
        h.trigger === "resume" ? triggerLabel(h.trigger) : null,
        el("span", { class: "item-team", text: teamOf(h.queue) }),
      ]),
    ]);
  }));
  restoreFocus(list, focus);
}

export function renderLoad() {
  if (!S.me) return;
  let load = 0;
  for (const h of S.mine.values()) if (h.agent_id === S.me.id) load += 1;
  const meter = $("#load-meter");
  const cap = S.me.capacity || 0;
  meter.textContent = `${load} of ${cap}`;
  meter.title = `You have ${load} of at most ${cap} conversations`;
  meter.classList.toggle("is-full", cap > 0 && load >= cap);
}

export function updateTitle() {
  const waiting = [...S.waiting.values()].filter((h) => !S.filter || h.queue === S.filter).length;
  let unread = 0;
  for (const n of S.unread.values()) unread += n;
  const count = waiting + unread;
  document.title = count ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
}
