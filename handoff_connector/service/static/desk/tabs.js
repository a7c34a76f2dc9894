// The tabs of the open conversations.

import { STATE_WORD } from "./format.js";
import { $, el, rememberFocus, restoreFocus } from "./dom.js";
import { S, summaryOf, teamOf, titleOf } from "./state.js";
import { closeTab, openConversation } from "./handoffs.js";

function stateDotClass(s) {
  if (!s) return "dot";
  return `dot dot-${s.state}`;
}

export function renderTabs() {
  const nav = $("#tabs");
  const focus = rememberFocus(nav);
  nav.hidden = S.tabs.length === 0;
  nav.replaceChildren(...S.tabs.map((id) => {
    const s = summaryOf(id);
    const unread = S.unread.get(id) || 0;
    const active = id === S.active;
    const title = titleOf(id);
    return el("div", {
      class: "tab" + (active ? " is-active" : "") + (unread ? " has-unread" : ""),
      testid: "conv-tab",
      "data-handoff-id": id,
    }, [
      el("button", {
        type: "button",
        class: "tab-btn",
        "aria-current": active ? "page" : null,
        title: s ? `${title} · ${teamOf(s.queue)} · ${STATE_WORD[s.state] || s.state}` : title,
        onclick: () => openConversation(id),
      }, [
        el("span", { class: stateDotClass(s), "aria-hidden": "true" }),
        el("span", { class: "tab-title", text: title }),
        unread ? el("span", { class: "badge", testid: "unread-badge", text: String(unread), "aria-label": `${unread} unread` }) : null,
      ]),
      el("button", {
        type: "button",
        class: "tab-close",
        "aria-label": `Close tab ${title}`,
        title: "Close tab",
        text: "×",
        onclick: () => closeTab(id),
      }),
    ]);
  }));
  restoreFocus(nav, focus);
}
