// The context brief: why the user is here, what they wanted, what the bot tried, details, earlier visits.

import { entrySeconds, fmtClock, fmtFull, humanize } from "./format.js";
import { chip, el, triggerLabel } from "./dom.js";
import { S, STORE_KEYS, store, teamOf } from "./state.js";

// The insights pages open in a tab of their own (one, reused), so the desk's socket and the
// agent's presence stay; "opener" lets that tab start with a copy of this one's session.
const INSIGHTS_TAB = "desk-insights";

function briefCard(title, body, cls) {
  return el("div", { class: "brief-card" + (cls ? " " + cls : "") }, [el("h4", { text: title }), body]);
}

export function briefEl(d) {
  const ctx = d.context || {};
  const reasons = (d.reasons && d.reasons.length ? d.reasons : ctx.reasons) || [];
  const frustration = ctx.frustration;

  const why = el("div", { class: "brief-why" }, [
    el("div", { class: "chip-row" }, [triggerLabel(d.trigger || ctx.trigger), ...reasons.map((r) => chip(humanize(r), "chip-reason", r))]),
  ]);
  if (frustration && typeof frustration.score === "number") {
    const score = frustration.score;
    const level = score >= 3 ? "high" : score >= 1 ? "elevated" : "calm";
    const segments = [];
    for (let i = 1; i <= 6; i++) segments.push(el("span", { class: "seg" + (i <= score ? " on" : "") }));
    why.append(el("div", { class: `frustration frustration-${level}`, title: "Frustration signals found by the assistant; 3 or more hands over on its own" }, [
      el("span", { class: "frustration-label", text: "Frustration" }),
      el("span", { class: "meter", "aria-hidden": "true" }, segments),
      el("strong", { text: `${score} · ${level}` }),
    ]));
    const extra = (frustration.reasons || []).filter((r) => !reasons.includes(r));
    if (extra.length) why.append(el("div", { class: "chip-row" }, extra.map((r) => chip(humanize(r), "chip-soft", r))));
  } else {
    why.append(el("div", { class: "frustration frustration-none" }, [
      el("span", { class: "frustration-label", text: "Frustration" }),
      el("span", { class: "muted", text: "not measured" }),
    ]));
  }

  const intents = (ctx.recent_intents || []).slice(-5);
  const wanted = intents.length
    ? el("ol", { class: "brief-list" }, intents.map((i) => {
      const conf = typeof i.confidence === "number" ? Math.round(i.confidence * 100) : null;
      return el("li", {}, [
        el("span", { class: "quote", text: `“${i.text}”` }),
        el("span", { class: "intent" }, [
          el("code", { text: i.intent || "unknown" }),
          conf !== null ? el("span", { class: "conf" + (conf < 60 ? " is-low" : ""), text: `${conf}%` }) : null,
        ]),
      ]);
    }))
    : el("p", { class: "muted", text: "The assistant recorded no requests." });

  const botTurns = (ctx.transcript || []).filter((t) => t.role === "bot").slice(-3);
  const tried = botTurns.length
    ? el("ul", { class: "brief-list" }, botTurns.map((t) => el("li", {}, [
      el("span", { class: "bot-said", text: t.text }),
      el("time", { class: "muted", text: fmtClock(entrySeconds(t)) }),
    ])))
    : el("p", { class: "muted", text: "The assistant answered nothing before handing over." });

  const rows = [];
  const slots = ctx.slots || {};
  for (const [key, value] of Object.entries(slots)) {
    if (value === null || value === undefined || value === "") continue;
    const shown = Array.isArray(value) ? value.join(", ") : typeof value === "object" ? JSON.stringify(value) : String(value);
    rows.push(el("dt", { text: humanize(key) }), el("dd", { text: shown }));
  }
  rows.push(el("dt", { text: "Channel" }), el("dd", { text: d.channel || ctx.channel || "unknown" }));
  rows.push(el("dt", { text: "Sender" }), el("dd", { class: "mono", text: d.sender_id || ctx.sender_id || "" }));
  if (ctx.language) rows.push(el("dt", { text: "Language" }), el("dd", { text: ctx.language }));
  rows.push(el("dt", { text: "Queue" }), el("dd", { text: teamOf(d.queue) }));

  const collapsed = S.briefCollapsed;
  const grid = el("div", { class: "brief-grid", id: "brief-grid", hidden: collapsed }, [
    briefCard("Why they are here", why),
    briefCard("What they wanted", wanted),
    briefCard("What the assistant tried", tried),
    briefCard("Details", el("dl", { class: "kv" }, rows)),
    previousEl(d),
  ]);
  const toggle = el("button", {
    type: "button",
    class: "link-btn brief-toggle",
    "aria-expanded": collapsed ? "false" : "true",
    "aria-controls": "brief-grid",
    text: collapsed ? "Show" : "Hide",
    onclick: () => {
      S.briefCollapsed = !S.briefCollapsed;
      store.set(STORE_KEYS.brief, S.briefCollapsed ? "1" : "0");
      grid.hidden = S.briefCollapsed;
      toggle.textContent = S.briefCollapsed ? "Show" : "Hide";
      toggle.setAttribute("aria-expanded", S.briefCollapsed ? "false" : "true");
      section.classList.toggle("is-collapsed", S.briefCollapsed);
    },
  });
  const summaryLine = el("span", { class: "brief-summary" }, [
    triggerLabel(d.trigger || ctx.trigger),
    el("span", { text: intents.length ? `“${intents[intents.length - 1].text}”` : "" }),
  ]);
  const section = el("section", { class: "brief" + (collapsed ? " is-collapsed" : ""), testid: "brief", "aria-label": "Context brief" }, [
    el("div", { class: "brief-head" }, [el("h3", { text: "Context from the assistant" }), summaryLine, toggle]),
    grid,
  ]);
  return section;
}

// The same user's other conversations (those this agent may see), each opening its record.
function previousEl(d) {
  if (!Array.isArray(d.previous)) return null;
  const items = d.previous.map((h) => el("li", {}, [
    el("a", { href: `/desk/insights#history?handoff=${encodeURIComponent(h.id)}`, testid: "previous-conversation",
      target: INSIGHTS_TAB, rel: "opener", "data-handoff-id": h.id, text: fmtFull(h.created_at) }),
    el("span", { class: "muted", text: `${teamOf(h.queue)} · ${h.resolution ? humanize(h.resolution) : humanize(h.state)}` }),
  ]));
  return el("div", { class: "brief-card", testid: "previous-conversations" }, [
    el("h4", { text: "Previous conversations" }),
    items.length ? el("ul", { class: "brief-list" }, items) : el("p", { class: "muted", text: "None: this is their first." }),
  ]);
}
