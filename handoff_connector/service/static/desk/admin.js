// The admin page for supervisors (/desk/admin): agents and queues, the operations the CLI has.
// It uses the desk's session of this tab; every change is checked again by the connector.

import { el } from "../common/dom.js";
import { avatar } from "../common/people.js";
import { A, call, say } from "./admin-state.js";
import { bindAgentDialogs, openAddAgent, openEditAgent, openPassword } from "./admin-dialogs.js";

const $ = (selector) => document.querySelector(selector);

async function reload() {
  const [agents, queues] = await Promise.all([call("GET", "/api/v1/agents"), call("GET", "/api/v1/queues")]);
  A.agents = agents.agents;
  A.queues = queues.queues;
  renderAgents();
  renderQueues();
}

function roleWord(agent) {
  return agent.role === "supervisor" ? "Supervisor" : "Agent";
}

async function setActive(agent, active) {
  try {
    await call("POST", `/api/v1/agents/${encodeURIComponent(agent.id)}/${active ? "activate" : "deactivate"}`);
    say(active ? `${agent.name} can sign in again.`
      : `${agent.name} is deactivated: signed out, and no longer offered conversations. What they hold stays theirs until you transfer it.`);
    await reload();
  } catch (error) {
    say(error.message, true);
  }
}

function actions(agent) {
  const self = A.me && agent.id === A.me.id;
  const buttons = [
    el("button", { type: "button", class: "btn btn-secondary btn-sm", testid: "admin-edit", text: "Edit",
                   onclick: () => openEditAgent(agent) }),
    el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "admin-password", text: "Reset password",
                   onclick: () => openPassword(agent) }),
  ];
  if (agent.active === false) {
    buttons.push(el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "admin-activate",
                                text: "Reactivate", onclick: () => setActive(agent, true) }));
  } else if (!self) {
    buttons.push(el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "admin-deactivate",
                                text: "Deactivate", onclick: () => setActive(agent, false) }));
  }
  return el("div", { class: "admin-actions" }, buttons);
}

function renderAgents() {
  const rows = A.agents.map((agent) => el("tr", {
    class: agent.active === false ? "is-inactive" : null, testid: "admin-agent-row", "data-agent-id": agent.id,
  }, [
    el("td", {}, el("span", { class: "admin-person" }, [
      avatar(agent),
      el("span", {}, [el("strong", { testid: "admin-agent-name", text: agent.name }),
                      el("small", { text: [agent.id, agent.title].filter(Boolean).join(" · ") })]),
    ])),
    el("td", { text: roleWord(agent) }),
    el("td", { text: String(agent.capacity) }),
    el("td", { testid: "admin-agent-queues", text: (agent.queues || []).join(", ") || "none" }),
    el("td", { testid: "admin-agent-status", text: agent.active === false ? "Deactivated" : "Active" }),
    el("td", {}, actions(agent)),
  ]));
  $("#admin-agent-rows").replaceChildren(...rows);
}

function renderQueues() {
  $("#admin-queues").replaceChildren(...A.queues.map((q) => el("li", { testid: "admin-queue", "data-queue": q.name }, [
    el("strong", { text: q.name }), ` · ${q.team}`,
  ])));
}

async function submitQueue(event) {
  event.preventDefault();
  const error = $("#queue-error");
  error.hidden = true;
  try {
    await call("POST", "/api/v1/queues", { name: $("#queue-name").value.trim(), team: $("#queue-team").value.trim() });
    say(`Queue ${$("#queue-name").value.trim()} added; add people to it with Edit.`);
    $("#queue-form").reset();
    await reload();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

async function start() {
  if (!A.token) {
    say("Sign in at the desk first, then open Admin from its top bar.", true);
    return;
  }
  try {
    A.me = await call("GET", "/api/v1/me");
  } catch (error) {
    say(error.status === 401 ? "Your session has ended: sign in at the desk again." : error.message, true);
    return;
  }
  $("#admin-me").textContent = `Signed in as ${A.me.name}`;
  if (A.me.role !== "supervisor") {
    say("Only supervisors manage people and queues. Your own profile is under your name in the desk.", true);
    return;
  }
  $("#admin-agents-section").hidden = false;
  $("#admin-queues-section").hidden = false;
  $("#admin-add-agent").addEventListener("click", openAddAgent);
  $("#queue-form").addEventListener("submit", submitQueue);
  bindAgentDialogs();
  A.reload = reload;
  try {
    await reload();
  } catch (error) {
    say(`The lists did not load: ${error.message}`, true);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
