// The conversation view: the open tab's head, brief, transcript and panel, rebuilt only when it changes.

import { fmtClock, fmtDuration, humanize } from "./format.js";
import { $, el, icon } from "./dom.js";
import { S, agentName, contactOf, isSupervisor, nowSec, teamOf, ticketSince, titleOf, typing } from "./state.js";
import { canType, stopTyping } from "./typing.js";
import { closeMenu } from "./replies.js";
import { claim, loadDetail, saveDraft } from "./handoffs.js";
import { renderTranscriptFor, transcriptEl } from "./transcript.js";
import { briefEl } from "./brief.js";
import { openClose, openTransfer } from "./dialogs.js";
import { footerEl } from "./panels.js";
import { helpBanner, helpButton, helpSig } from "./help.js";
import { assignmentBadge } from "./assignment.js";
import { urgencyBadge, urgencyButton } from "./urgency.js";
import { followUpButtons, followUpSig, followUpsStrip } from "./follow_ups.js";

function emptyWorkspace() {
  const waiting = S.waiting.size;
  return el("div", { class: "workspace-empty" }, [
    icon("chat", "empty-icon empty-icon-lg"),
    el("h2", { text: "Pick a conversation" }),
    el("p", {
      text: waiting
        ? `${waiting} ${waiting === 1 ? "person is" : "people are"} waiting. Open one from the queue to read the context and claim it.`
        : "When someone needs a person, they appear in the queue on the left. You can keep several conversations open as tabs.",
    }),
  ]);
}

function loadingView(error) {
  if (error) {
    return el("div", { class: "workspace-empty" }, [
      el("h2", { text: "This conversation did not load" }),
      el("p", { text: error }),
      el("button", { type: "button", class: "btn btn-primary", text: "Try again", onclick: () => loadDetail(S.active) }),
    ]);
  }
  return el("div", { class: "conv-loading", "aria-busy": "true" }, [
    el("div", { class: "spinner", "aria-hidden": "true" }),
    el("span", { text: "Loading the conversation…" }),
  ]);
}

function viewSig(d) {
  if (!d) return "";
  return [d.id, d.state, d.agent_id, d.queue, d.resolution, d.close_note, d.survey ? JSON.stringify(d.survey) : "",
    d.resume_url || "", contactOf(d), S.me.id, d.assigned_to || "", helpSig(d.id), d.urgency || 0, d.urgency_label || "",
    followUpSig(d.id)].join("|");
}

export function refreshView(id) {
  if (id !== S.active) return;
  const d = S.details.get(id);
  if (d && S.renderedSig === viewSig(d) && $('[data-testid="conversation"]')) {
    renderTranscriptFor(id);
    return;
  }
  renderView();
}

export function renderView(error) {
  const host = $("#conv-host");
  S.renderedSig = null;
  const id = S.active;
  const focused = document.activeElement && document.activeElement.id === "composer-input";
  saveDraft();
  closeMenu();
  if (typing.id && !(typing.id === id && canType(S.details.get(id)))) stopTyping();
  if (!id) {
    host.replaceChildren(emptyWorkspace());
    return;
  }
  const d = S.details.get(id);
  if (!d) {
    host.replaceChildren(loadingView(typeof error === "string" ? error : null));
    return;
  }
  const view = el("section", {
    class: `conversation state-${d.state}`,
    testid: "conversation",
    "data-handoff-id": id,
    "data-state": d.state,
    "aria-label": `Conversation with ${titleOf(id)}`,
    tabindex: "-1",
  }, [convHead(d), helpBanner(d), followUpsStrip(d), briefEl(d), transcriptEl(), footerEl(d)]);
  host.replaceChildren(view);
  S.renderedSig = viewSig(d);
  renderTranscriptFor(id, true);
  const input = $("#composer-input");
  if (input && focused) input.focus();
}

function convHead(d) {
  const mineNow = d.state === "assigned" && d.agent_id === S.me.id;
  const canAct = d.state === "assigned" && (mineNow || isSupervisor());
  let status;
  if (d.state === "queued") {
    status = el("span", { class: "state-pill state-pill-queued" }, [
      "Waiting ",
      el("span", { class: "ticker", "data-since": d.created_at, text: fmtDuration(nowSec() - d.created_at) }),
    ]);
  } else if (d.state === "assigned") {
    status = el("span", { class: "state-pill state-pill-assigned" },
      mineNow ? `With you since ${fmtClock(d.claimed_at)}` : `With ${agentName(d.agent_id)} since ${fmtClock(d.claimed_at)}`);
  } else if (d.state === "no_agent") {
    status = el("span", { class: "state-pill state-pill-followup" }, `Call back · asked ${fmtClock(ticketAt(d))}`);
  } else if (d.state === "cancelled") {
    status = el("span", { class: "state-pill state-pill-closed" }, "Cancelled by the user");
  } else if (d.state === "abandoned") {
    status = el("span", { class: "state-pill state-pill-closed" }, "Ended · the user went silent");
  } else {
    status = el("span", { class: "state-pill state-pill-closed" },
      `Closed${d.resolution ? " · " + humanize(d.resolution) : ""}`);
  }
  const meta = [teamOf(d.queue), d.channel ? `via ${d.channel}` : null, d.sender_id !== titleOf(d.id) ? d.sender_id : null]
    .filter(Boolean).join(" · ");
  return el("header", { class: "conv-head" }, [
    el("div", { class: "conv-title" }, [
      el("h2", { text: titleOf(d.id) }),
      el("div", { class: "conv-meta" }, [status, urgencyBadge(d), d.state === "queued" ? assignmentBadge(d) : null,
        el("span", { text: meta })]),
    ]),
    el("div", { class: "conv-actions" }, [
      urgencyButton(d),
      canAct ? helpButton(d) : null,
      canAct ? el("button", {
        type: "button", class: "btn btn-secondary", testid: "transfer-button",
        onclick: () => openTransfer(d.id),
      }, [icon("transfer"), "Transfer"]) : null,
      canAct ? el("button", {
        type: "button", class: "btn btn-secondary btn-close-conv", testid: "close-button",
        onclick: () => openClose(d.id),
      }, [icon("check"), "Close"]) : null,
      ...followUpButtons(d),
    ]),
  ]);
}

function ticketAt(d) {
  const t = (d.transitions || []).slice().reverse().find((x) => x.to_state === "no_agent");
  return (t && t.at) || ticketSince(d);
}
