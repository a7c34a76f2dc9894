// One conversation's record (#history?handoff=<id>): the whole transcript (the bot's part, then
// what the user and the agents said, notes marked internal), the timeline, the survey, the close
// note, redactions, and the same user's previous conversations. A transcript file to download;
// supervisors can redact the conversation (after a confirmation).
import { api, get, download } from "./api.js";
import { el, card, empty, failure, moment, duration } from "./dom.js";
import { recordHref, listAddress, lookups, humanize, triggerLabel, stateLabel, stars } from "./history-common.js";

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const ROLE_LABELS = { bot: "Assistant", system: "Automatic update", note: "Internal note" };

function author(entry, record, names) {
  if (entry.role === "user") return record.user_name || "User";
  if (entry.role === "agent" || entry.role === "note") {
    const who = entry.author && entry.author !== entry.role ? names.agent(entry.author) : "Agent";
    return entry.role === "note" ? `${who} · internal note` : who;
  }
  return ROLE_LABELS[entry.role] || humanize(entry.role);
}

function entryEl(entry, source, record, names) {
  const internal = entry.role === "note";
  return el("li", {
    class: `record-entry role-${entry.role}` + (internal ? " is-internal" : ""), testid: "record-entry",
    "data-role": entry.role, "data-source": source, "data-internal": internal ? "true" : null,
  }, [
    el("div", { class: "record-entry-head" }, [
      el("strong", { text: author(entry, record, names) }),
      internal ? el("span", { class: "pill record-internal", testid: "internal-mark", text: "Internal · never sent to the user" }) : null,
      entry.late ? el("span", { class: "pill", text: "arrived late" }) : null,
      el("time", { class: "muted", text: entry.at ? moment(entry.at) : "" }),
    ]),
    el("p", { class: "record-text", text: entry.text === null || entry.text === undefined ? "(no text)" : entry.text }),
  ]);
}

function transcriptCard(record, names) {
  const before = record.transcript.map((t) => entryEl({ ...t, at: t.timestamp }, "transcript", record, names));
  const during = record.messages.map((m) => entryEl({ ...m, at: m.sent_at || m.created_at }, "handoff", record, names));
  return card("Transcript", [
    el("h3", { class: "record-part", text: "With the assistant, before the handoff" }),
    before.length ? el("ol", { class: "record-log", testid: "record-bot-part" }, before) : empty("The assistant's part was not kept."),
    el("h3", { class: "record-part", text: "With people" }),
    during.length ? el("ol", { class: "record-log", testid: "record-people-part" }, during) : empty("Nobody wrote anything during the handoff."),
  ], "record-transcript");
}

function timelineCard(record) {
  const items = record.transitions.map((t) => el("li", { testid: "record-transition", "data-to": t.to_state }, [
    el("strong", { text: stateLabel(t.to_state) }),
    el("span", { class: "muted", text: ` · ${t.actor ? t.actor.replace(/^agent:/, "") : "—"}` }),
    el("time", { class: "muted", text: moment(t.at) }),
  ]));
  return card("Timeline", items.length ? el("ol", { class: "record-timeline", testid: "record-transitions" }, items)
    : empty("No state change was recorded."), "record-timeline");
}

function surveyCard(record) {
  const s = record.survey;
  let body;
  if (!s) body = empty(record.state === "returned" || record.state === "closed" ? "The user did not answer the survey." : "No survey for this conversation.");
  else if (s.skipped) body = el("p", { class: "muted", text: "The user skipped the survey." });
  else body = el("div", {}, [el("p", { class: "record-rating" }, [stars(s.rating), ` ${s.rating} of 5`]),
    s.comment ? el("blockquote", { class: "record-comment", text: s.comment }) : null]);
  return card("Survey", body, "record-survey");
}

function facts(record, names) {
  const rows = [
    ["Queue", record.team || names.team(record.queue)], ["Trigger", triggerLabel(record.trigger)],
    ["Reasons", (record.reasons || []).map(humanize).join(", ") || "—"], ["Channel", record.channel || "—"],
    ["Agent", record.agent_id ? names.agent(record.agent_id) : "—"], ["State", stateLabel(record.state)],
    ["Resolution", record.resolution ? humanize(record.resolution) : "—"],
    ["Waited", record.claimed_at ? duration(record.claimed_at - record.created_at) : "—"],
    ["Conversation id", record.sender_id],
  ];
  return card("About", [
    el("dl", { class: "record-facts" }, rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
    el("h3", { class: "record-part", text: "Close note" }),
    record.close_note ? el("p", { class: "record-text", testid: "record-close-note", text: record.close_note })
      : empty("No close note."),
  ], "record-about");
}

function previousCard(record, names) {
  const items = record.previous.map((h) => el("li", {}, [
    el("a", { href: recordHref(h.id), testid: "previous-link", "data-handoff-id": h.id, text: moment(h.created_at) }),
    el("span", { class: "muted", text: ` · ${names.team(h.queue)} · ${h.resolution ? humanize(h.resolution) : stateLabel(h.state)}` }),
  ]));
  return card("The user's previous conversations", items.length ? el("ul", { class: "record-previous", testid: "record-previous" }, items)
    : empty("None you may see: this is the only one with this conversation id."), "record-previous-card");
}

function redactionsCard(record) {
  const items = record.redactions.map((r) => el("li", { testid: "record-redaction" }, [
    el("strong", { text: `${r.matches ?? 0} ${(r.matches ?? 0) === 1 ? "match" : "matches"} redacted` }),
    el("span", { class: "muted", text: ` · by ${String(r.by || "").replace(/^agent:/, "")} · ${moment(r.at)}` }),
  ]));
  const erased = record.erased_at ? el("p", { class: "muted", text: `Gone over by retention (${record.erasure}) on ${moment(record.erased_at)}.` }) : null;
  return card("Redactions", [erased, items.length ? el("ul", { testid: "record-redactions" }, items)
    : (erased ? null : empty("Nothing was redacted in this conversation."))], "record-redactions-card");
}

// Redaction cannot be undone: the button asks first, in the page.
function redactControl(id, rerender) {
  const holder = el("span", { class: "record-redact" });
  const ask = el("button", { type: "button", class: "btn btn-secondary btn-sm", testid: "record-redact", text: "Redact…" });
  ask.onclick = () => {
    const problem = el("span");
    const confirm = el("div", { class: "record-confirm", role: "alertdialog", "aria-label": "Confirm redaction", testid: "redact-confirm" }, [
      el("span", { text: "Replace emails, phone and card numbers (and your own patterns) in this conversation? This cannot be undone." }),
      el("button", { type: "button", class: "btn btn-primary btn-sm", testid: "redact-confirm-yes", text: "Redact now", onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          const done = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/redact`);
          await rerender(done.redacted);
        } catch (error) {
          event.currentTarget.disabled = false;
          problem.replaceChildren(failure(error));
        }
      } }),
      el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "redact-confirm-no", text: "Cancel", onclick: () => holder.replaceChildren(ask) }),
      problem,
    ]);
    holder.replaceChildren(confirm);
  };
  holder.append(ask);
  return holder;
}

export async function renderRecord(container, { me, id }) {
  let alive = true;
  const names = await lookups();
  async function draw(redacted) {
    const record = await get(`/api/v1/handoffs/${encodeURIComponent(id)}/record`);
    if (!alive) return;
    const problem = el("div");
    const transcriptButton = el("button", { type: "button", class: "btn btn-secondary btn-sm", testid: "record-download", text: "Download transcript",
      onclick: async () => {
        problem.replaceChildren();
        try { await download(`/api/v1/handoffs/${encodeURIComponent(id)}/transcript`, {}, `handoff-${id}.txt`); } catch (error) { problem.replaceChildren(failure(error)); }
      } });
    const notice = redacted ? el("p", { class: "record-notice", role: "status", testid: "redact-done",
      text: `Redacted ${plural(redacted.matches, "match", "matches")} (${plural(redacted.messages, "message", "messages")}, `
        + `${plural(redacted.notes, "note", "notes")}). The text below is as stored now.` }) : null;
    container.replaceChildren(
      el("div", { class: "view-head" }, [
        el("div", {}, [
          el("a", { href: listAddress(), class: "btn btn-ghost btn-sm", testid: "record-back", text: "← History" }),
          el("h1", { testid: "record-title", text: `Conversation with ${record.user_name || record.sender_id}` }),
          el("p", { text: `${moment(record.created_at)} · ${record.team || names.team(record.queue)} · ${stateLabel(record.state)}`
            + (record.resolution ? ` · ${humanize(record.resolution)}` : "") }),
        ]),
        el("div", { class: "toolbar" }, [transcriptButton, me.role === "supervisor" ? redactControl(id, draw) : null]),
      ]),
      ...[problem, notice].filter(Boolean),
      el("div", { class: "record-layout", testid: "record", "data-handoff-id": id }, [
        el("div", { class: "record-main" }, [transcriptCard(record, names)]),
        el("div", { class: "record-side" }, [facts(record, names), timelineCard(record), surveyCard(record),
          previousCard(record, names), redactionsCard(record)]),
      ]),
    );
  }
  try {
    await draw(null);
  } catch (error) {
    if (error.status === 401) return null;
    container.replaceChildren(el("a", { href: listAddress(), class: "btn btn-ghost btn-sm", text: "← History" }),
      card("Conversation", failure(error.status === 404 ? new Error("This conversation does not exist, or is not yours to see.") : error), "record-missing"));
  }
  return () => { alive = false; };
}
