// The admin page's dialogs: add or edit an agent (profile, photo, role, capacity, queues), reset a password.

import { el } from "../common/dom.js";
import { avatar, readAsDataUrl, uploadPhoto } from "../common/people.js";
import { A, call, say } from "./admin-state.js";

const $ = (selector) => document.querySelector(selector);
const MIN_PASSWORD = 8;  // as the connector's config.py has it
const editing = { agent: null, file: null, target: null };

function show(dialog) {
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
}

function hide(dialog) {
  if (typeof dialog.close === "function" && dialog.open) dialog.close();
  else dialog.removeAttribute("open");
}

function fail(box, text) {
  const node = $(box);
  node.textContent = text || "";
  node.hidden = !text;
}

function queuePicks(chosen) {
  $("#agent-queues").replaceChildren(...A.queues.map((q) => el("label", {}, [
    el("input", { type: "checkbox", value: q.name, checked: chosen.includes(q.name), testid: "agent-queue" }),
    `${q.name} (${q.team})`,
  ])));
}

function fill(agent) {
  const adding = agent === null;
  editing.agent = agent;
  editing.file = null;
  $("#agent-title").textContent = adding ? "Add an agent" : `Edit ${agent.name}`;
  $("#agent-submit").textContent = adding ? "Add agent" : "Save";
  $("#agent-id-field").hidden = !adding;
  $("#agent-password-field").hidden = !adding;
  $("#agent-photo-row").hidden = adding;
  $("#agent-password-hint").textContent = `(at least ${MIN_PASSWORD} characters; tell them to keep it secret)`;
  $("#agent-id").value = "";
  $("#agent-password").value = "";
  $("#agent-photo-input").value = "";
  $("#agent-name").value = adding ? "" : agent.name;
  $("#agent-job").value = adding ? "" : agent.title || "";
  $("#agent-role").value = adding ? "agent" : agent.role;
  $("#agent-capacity").value = adding ? "3" : String(agent.capacity);
  queuePicks(adding ? [] : agent.queues || []);
  $("#agent-avatar").replaceChildren(avatar(agent));
  fail("#agent-error", "");
}

export function openAddAgent() {
  fill(null);
  show($("#agent-dialog"));
}

export function openEditAgent(agent) {
  fill(agent);
  show($("#agent-dialog"));
}

function formValues() {
  return {
    name: $("#agent-name").value.trim(),
    title: $("#agent-job").value.trim(),
    role: $("#agent-role").value,
    capacity: Number($("#agent-capacity").value),
    queues: [...document.querySelectorAll('#agent-queues input[type="checkbox"]:checked')].map((box) => box.value),
  };
}

async function saveAgent() {
  const values = formValues();
  if (!values.name) throw new Error("Write the name users should see.");
  if (!Number.isInteger(values.capacity) || values.capacity < 1) throw new Error("Capacity is a whole number, 1 or more.");
  if (editing.agent === null) {
    const id = $("#agent-id").value.trim();
    const password = $("#agent-password").value;
    if (!id) throw new Error("Choose a login (id) for the new agent.");
    if (password.length < MIN_PASSWORD) throw new Error(`The first password needs at least ${MIN_PASSWORD} characters.`);
    await call("POST", "/api/v1/agents", { id, password, ...values });
    return `${values.name} is added; they sign in at the desk as ${id}.`;
  }
  const id = editing.agent.id;
  await call("PATCH", `/api/v1/agents/${encodeURIComponent(id)}`, values);
  if (editing.file) await uploadPhoto(A.token, id, editing.file);
  return `${values.name} is saved.`;
}

async function submitAgent(event) {
  event.preventDefault();
  const button = $("#agent-submit");
  button.disabled = true;
  fail("#agent-error", "");
  try {
    const done = await saveAgent();
    hide($("#agent-dialog"));
    say(done);
    await A.reload();
  } catch (error) {
    fail("#agent-error", error.message);
  } finally {
    button.disabled = false;
  }
}

async function onPhoto(event) {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  editing.file = file;
  try {
    $("#agent-avatar").replaceChildren(avatar({ name: editing.agent.name, photo: await readAsDataUrl(file) }));
  } catch (error) {
    fail("#agent-error", "That file could not be read; choose another.");
  }
}

export function openPassword(agent) {
  editing.target = agent;
  $("#password-title").textContent = `Reset ${agent.name}'s password`;
  $("#password-hint").textContent = `(at least ${MIN_PASSWORD} characters)`;
  $("#password-new").value = "";
  fail("#password-error", "");
  show($("#password-dialog"));
}

async function submitPassword(event) {
  event.preventDefault();
  const password = $("#password-new").value;
  if (password.length < MIN_PASSWORD) {
    fail("#password-error", `Use at least ${MIN_PASSWORD} characters.`);
    return;
  }
  try {
    await call("PUT", `/api/v1/agents/${encodeURIComponent(editing.target.id)}/password`, { password });
    hide($("#password-dialog"));
    say(`${editing.target.name}'s password is changed; their desks were signed out.`);
  } catch (error) {
    fail("#password-error", error.message);
  }
}

export function bindAgentDialogs() {
  $("#agent-form").addEventListener("submit", submitAgent);
  $("#agent-photo-input").addEventListener("change", onPhoto);
  $("#password-form").addEventListener("submit", submitPassword);
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const button of dialog.querySelectorAll("[data-dismiss]")) button.addEventListener("click", () => hide(dialog));
  }
}
