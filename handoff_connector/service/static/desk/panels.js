// The panel under a transcript: claim, follow-up, read-only, or closed with its survey and link.

import { contactHref, fmtFull, humanize } from "./format.js";
import { el, icon } from "./dom.js";
import { S, agentName, contactOf, isSupervisor, teamOf, titleOf } from "./state.js";
import { toast } from "./notify.js";
import { claim, closeTab } from "./handoffs.js";
import { composerEl } from "./composer.js";
import { openClose } from "./dialogs.js";
import { assignedToOther, claimNotice } from "./assignment.js";

export function footerEl(d) {
  if (d.state === "queued") {
    const load = [...S.mine.values()].filter((h) => h.agent_id === S.me.id).length;
    const full = S.me.capacity && load >= S.me.capacity;
    const notice = claimNotice(d);
    const other = assignedToOther(d);
    return el("div", { class: "claim-panel" + (other ? " is-assigned-other" : "") }, [
      el("div", { class: "claim-text" }, [
        el("strong", { text: `${titleOf(d.id)} is waiting for the ${teamOf(d.queue)}.` }),
        notice ? el("span", { class: "claim-assignment", testid: "claim-assignment", text: notice }) : null,
        el("span", {
          text: full
            ? `You already have ${load} of ${S.me.capacity} conversations; close or transfer one first.`
            : "Claim it to reply. The user is told who you are, and no one else can take it.",
        }),
      ]),
      el("button", {
        type: "button", class: "btn btn-lg " + (other ? "btn-secondary" : "btn-primary"),
        testid: other ? "claim-anyway" : "claim-button",
        onclick: () => claim(d.id, other),
      }, other ? "Take it anyway" : "Claim conversation"),
    ]);
  }
  if (d.state === "no_agent") return followupEl(d);
  if (d.state === "assigned") {
    if (d.agent_id === S.me.id || isSupervisor()) return composerEl(d);
    return el("div", { class: "readonly-panel" }, [
      el("strong", { text: `${agentName(d.agent_id)} is handling this conversation.` }),
      el("span", { text: "You can read along; only they can reply." }),
      el("button", { type: "button", class: "btn btn-secondary", text: "Close tab", onclick: () => closeTab(d.id) }),
    ]);
  }
  return closedEl(d);
}

function followupEl(d) {
  const contact = contactOf(d);
  const href = contactHref(contact);
  return el("div", { class: "followup-panel" }, [
    icon(href && href.startsWith("mailto:") ? "mail" : "phone", "followup-panel-icon"),
    el("div", { class: "followup-text" }, [
      el("strong", { class: "followup-contact", testid: "followup-contact" }, [
        "Call back: ",
        contact ? (href ? el("a", { href, text: contact }) : contact) : "no contact given",
      ]),
      el("span", {
        text: `Nobody was free when ${titleOf(d.id)} asked for a person, so they left this for the ${teamOf(d.queue)}. ` +
          "They are not connected to a chat now: reach them directly, then mark it done.",
      }),
    ]),
    el("button", {
      type: "button", class: "btn btn-primary", testid: "followup-done",
      onclick: () => openClose(d.id),
    }, [icon("check"), "Mark done"]),
  ]);
}

function copyText(text, button) {
  const done = () => {
    const before = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { if (button.isConnected) button.textContent = before; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => toast("Could not copy; select the link and copy it by hand.", "error"));
    return;
  }
  const area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  try { document.execCommand("copy"); done(); } catch (error) { toast("Could not copy; select the link and copy it by hand.", "error"); }
  area.remove();
  button.focus();
}

function closedEl(d) {
  const survey = d.survey;
  const ended = d.state === "cancelled" || d.state === "abandoned";
  const followup = !!contactOf(d);
  let surveyNode;
  if (survey) {
    const stars = [];
    for (let i = 1; i <= 5; i++) stars.push(icon("star", i <= (survey.rating || 0) ? "star on" : "star"));
    surveyNode = el("div", { class: "survey", testid: "survey" }, survey.skipped
      ? [el("span", { class: "survey-label", text: "Survey" }), el("span", { class: "muted", text: "The user skipped the survey." })]
      : [
        el("span", { class: "survey-label", text: "Survey" }),
        el("span", { class: "stars", "aria-label": `Rated ${survey.rating} out of 5` }, stars),
        el("strong", { text: `${survey.rating}/5` }),
        survey.comment ? el("q", { class: "survey-comment", text: survey.comment }) : null,
      ]);
  } else if (ended || followup) {
    surveyNode = null;
  } else {
    surveyNode = el("div", { class: "survey-wait muted", text: "The user's feedback shows here when they answer the survey." });
  }
  const closedBy = (d.transitions || []).slice().reverse().find((t) => t.to_state === "closed");
  const by = closedBy && closedBy.actor && closedBy.actor.startsWith("agent:") ? agentName(closedBy.actor.slice(6)) : null;
  let heading = `Closed${d.resolution ? ": " + humanize(d.resolution) : ""}`;
  if (d.state === "cancelled") heading = "Cancelled: the user went back to the assistant";
  else if (d.state === "abandoned") heading = "Ended: the user went silent";
  else if (followup) heading = `Follow-up done${d.resolution ? ": " + humanize(d.resolution) : ""}`;
  const url = d.resume_url || S.resumeUrls.get(d.id);
  let linkNode = null;
  if (url) {
    const copy = el("button", { type: "button", class: "link-btn", text: "Copy" });
    copy.addEventListener("click", () => copyText(url, copy));
    linkNode = el("p", { class: "resume-sent", testid: "resume-link-sent" }, [
      el("span", { class: "resume-label", text: "Link sent: " }),
      el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }),
      copy,
    ]);
  }
  return el("div", { class: "closed-panel" }, [
    el("div", { class: "closed-head" }, [
      icon("check", "closed-icon"),
      el("div", {}, [
        el("strong", { text: heading }),
        el("span", { class: "muted", text: [by ? `by ${by}` : null, d.closed_at ? fmtFull(d.closed_at) : null, d.state === "returned" ? "back with the assistant" : null].filter(Boolean).join(" · ") }),
      ]),
    ]),
    d.close_note ? el("p", { class: "close-note" }, [el("span", { class: "muted", text: "Closing note: " }), d.close_note]) : null,
    linkNode,
    surveyNode,
  ]);
}
