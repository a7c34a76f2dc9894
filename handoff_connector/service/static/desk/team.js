// The team panel: who is on, their load and survey ratings.

import { PRESENCE_WORD } from "./format.js";
import { $, el, icon, skeletonItems } from "./dom.js";
import { S, team } from "./state.js";
import { closeMenu } from "./replies.js";
import { loadAgents } from "./load.js";
import { avatar } from "../common/people.js";

const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 };

function toggleTeam() {
  if (team.open) closeTeam(true);
  else openTeam();
}

function openTeam() {
  closeMenu();
  team.open = true;
  $("#team-panel").hidden = false;
  $("#team-button").setAttribute("aria-expanded", "true");
  renderTeam();
  $("#team-panel").focus();
  loadAgents();
}

export function closeTeam(returnFocus) {
  const wasOpen = team.open;
  team.open = false;
  clearTimeout(team.timer);
  const panel = $("#team-panel");
  if (!panel) return;
  panel.hidden = true;
  $("#team-button").setAttribute("aria-expanded", "false");
  if (returnFocus && wasOpen) $("#team-button").focus();
}

function averageStars(average, count) {
  const base = [];
  const fill = [];
  for (let i = 0; i < 5; i++) {
    base.push(icon("star", "star"));
    fill.push(icon("star", "star on"));
  }
  const over = el("span", { class: "stars-fill" }, fill);
  over.style.width = `${Math.max(0, Math.min(5, average)) * 20}%`;
  return el("span", {
    class: "stars stars-avg",
    role: "img",
    "aria-label": `Average ${average.toFixed(1)} out of 5 from ${count} ${count === 1 ? "survey" : "surveys"}`,
  }, [el("span", { class: "stars-base" }, base), over]);
}

function surveyCell(agent) {
  const survey = agent.survey || {};
  const count = typeof survey.count === "number" ? survey.count : 0;
  const average = typeof survey.average === "number" ? survey.average : null;
  if (average === null || !count) {
    return el("span", { class: "team-survey is-empty", testid: "team-survey", title: "No rated surveys yet" }, [
      el("span", { class: "muted", text: "No ratings yet" }),
    ]);
  }
  return el("span", { class: "team-survey", testid: "team-survey", title: `${count} rated ${count === 1 ? "survey" : "surveys"}` }, [
    averageStars(average, count),
    el("strong", { class: "team-avg", text: average.toFixed(1) }),
    el("span", { class: "team-count muted", text: `(${count})` }),
  ]);
}

export function renderTeam() {
  const list = $("#team-list");
  if (!list || !S.me) return;
  list.setAttribute("aria-busy", team.loaded ? "false" : "true");
  if (team.error && !team.loaded) {
    list.replaceChildren(el("li", { class: "empty-line is-error" }, [
      el("span", { text: `The team list did not load: ${team.error}` }),
      el("button", { type: "button", class: "link-btn", text: "Retry", onclick: () => { team.error = null; renderTeam(); loadAgents(); } }),
    ]));
    return;
  }
  if (!team.loaded) {
    list.replaceChildren(...skeletonItems(3));
    return;
  }
  const agents = [...S.agents.values()].filter((a) => a.name && a.active !== false).sort((a, b) =>
    (PRESENCE_ORDER[a.presence] ?? 3) - (PRESENCE_ORDER[b.presence] ?? 3) || a.name.localeCompare(b.name));
  if (!agents.length) {
    list.replaceChildren(el("li", { class: "empty-line", text: "No agents are set up." }));
    return;
  }
  list.replaceChildren(...agents.map((a) => {
    const presence = a.presence || "offline";
    const self = a.id === S.me.id;
    const hasLoad = typeof a.load === "number";
    const full = hasLoad && a.capacity && a.load >= a.capacity;
    return el("li", { class: "team-row", testid: "team-row", "data-agent-id": a.id }, [
      el("span", { class: `team-dot is-${presence}`, title: PRESENCE_WORD[presence] || presence, "aria-hidden": "true" }),
      avatar(a, "avatar-sm"),
      el("span", { class: "team-who" }, [
        el("span", { class: "team-name" }, [
          el("strong", { text: a.name }),
          self ? el("span", { class: "muted", text: " (you)" }) : null,
          a.role === "supervisor" && (a.title || "").toLowerCase() !== "supervisor"
            ? el("span", { class: "role-pill is-supervisor", text: "Supervisor" }) : null,
        ]),
        el("span", { class: "team-sub" }, [
          el("span", { class: `team-presence is-${presence}`, text: PRESENCE_WORD[presence] || presence }),
          a.title ? ` · ${a.title}` : "",
        ]),
      ]),
      el("span", {
        class: "team-load" + (full ? " is-full" : ""),
        title: hasLoad ? `${a.load} of at most ${a.capacity} conversations` : "",
        text: hasLoad ? `${a.load}/${a.capacity}` : "–",
      }),
      surveyCell(a),
    ]);
  }));
}

export function bindTeam() {
  $("#team-button").prepend(icon("people"));
  $("#team-button").addEventListener("click", (event) => { event.stopPropagation(); toggleTeam(); });
  $("#team-close").addEventListener("click", () => closeTeam(true));
  $("#team-panel").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeTeam(true);
    }
  });
  document.addEventListener("click", (event) => {
    if (!team.open) return;
    const wrap = $(".team-wrap");
    if (wrap && !wrap.contains(event.target)) closeTeam(false);
  });
}
