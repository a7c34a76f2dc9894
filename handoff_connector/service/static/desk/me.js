// The signed-in agent in the top bar: photo, name, role, and their status (presence).

import { $ } from "./dom.js";
import { S, STORE_KEYS, isSupervisor, store } from "./state.js";
import { api } from "./api.js";
import { report } from "./notify.js";
import { renderFilterOptions, renderLoad } from "./queue.js";
import { avatar } from "../common/people.js";

export function renderMe() {
  const me = S.me;
  $("#me-name").textContent = me.name;
  $("#me-title").textContent = me.title || "";
  const role = $("#me-role");
  role.textContent = me.role === "supervisor" ? "Supervisor" : "Agent";
  role.hidden = (me.title || "").trim().toLowerCase() === role.textContent.toLowerCase();
  role.classList.toggle("is-supervisor", me.role === "supervisor");
  const face = avatar(me);
  face.id = "me-avatar";
  $("#me-avatar").replaceWith(face);
  $("#admin-link").hidden = !isSupervisor();
  renderPresence(S.presence);
  renderFilterOptions();
  $("#mine-heading").firstChild.textContent = isSupervisor() ? "Assigned conversations " : "My conversations ";
}

export function renderPresence(presence) {
  const select = $("#presence-select");
  select.value = presence;
  $("#presence-wrap").dataset.presence = presence;
}

export async function setPresence(status, quiet) {
  const previous = S.me ? S.me.presence : "offline";
  S.presence = status;
  store.set(STORE_KEYS.presence, status);
  renderPresence(status);
  try {
    const agent = await api("PUT", "/api/v1/me/presence", { status });
    if (!S.me) return;
    S.me = Object.assign({}, S.me, agent);
    S.agents.set(agent.id, Object.assign({}, S.agents.get(agent.id) || {}, agent));
    renderPresence(agent.presence);
    renderLoad();
  } catch (error) {
    if (error.handled) return;
    if (!quiet) renderPresence(previous);
    report(error, "Could not change your status");
  }
}
