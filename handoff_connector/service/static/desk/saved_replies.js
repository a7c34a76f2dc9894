// Managing saved replies: every agent's own, and (supervisors) the team's. The "/" menu is replies.js.

import { $, chip, el } from "./dom.js";
import { S, isSupervisor, teamOf } from "./state.js";
import { api } from "./api.js";
import { toast } from "./notify.js";
import { loadReplies } from "./load.js";
import { setFormError, showDialog, submitting } from "./dialogs.js";

let editing = null;  // the reply being changed; null: a new one

function whoFor(r) {
  if (r.scope === "personal") return "Mine";
  return r.queue ? `Team · ${teamOf(r.queue)}` : "Team · every team";
}

function replyRow(r) {
  const tools = r.may_edit ? el("span", { class: "reply-row-tools" }, [
    el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "reply-edit", onclick: () => startEdit(r) },
      "Edit"),
    el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "reply-delete", onclick: () => remove(r) },
      "Delete"),
  ]) : null;
  return el("li", {
    class: "reply-row" + (r.shadowed ? " is-shadowed" : ""), testid: "reply-row",
    "data-shortcut": r.shortcut, "data-scope": r.scope, "data-reply-id": String(r.id),
  }, [
    el("span", { class: "reply-row-main" }, [
      el("span", { class: "saved-top" }, [
        el("span", { class: "saved-short", text: "/" + r.shortcut }),
        el("span", { class: "saved-title", text: r.title || "" }),
        chip(whoFor(r), "chip-soft"),
        r.shadowed ? chip("hidden by yours", "chip-soft", "Your own reply has this shortcut") : null,
      ]),
      el("span", { class: "reply-row-text", text: r.text }),
    ]),
    tools,
  ]);
}

function renderList() {
  const items = S.replies.map(replyRow);
  $("#replies-list").replaceChildren(...(items.length ? items
    : [el("li", { class: "saved-empty", text: "No saved replies yet: add one below." })]));
}

function fillQueues() {
  const options = [el("option", { value: "", text: "Every team" }),
    ...[...S.queues.values()].map((q) => el("option", { value: q.name, text: q.team }))];
  $("#reply-queue").replaceChildren(...options);
}

function showScope() {
  const team = $("#reply-scope").value === "team";
  $("#reply-queue").disabled = !team;
  $("#reply-queue").closest(".field").hidden = !team;
}

function resetForm() {
  editing = null;
  for (const id of ["#reply-shortcut", "#reply-title", "#reply-text"]) $(id).value = "";
  $("#reply-scope").value = "personal";
  $("#reply-scope").disabled = false;
  $("#reply-queue").value = "";
  $("#reply-team-fields").hidden = !isSupervisor();
  $("#reply-form-title").textContent = "New reply";
  $("#reply-save").textContent = "Add reply";
  $("#reply-cancel").hidden = true;
  setFormError($("#reply-error"), "");
  showScope();
}

function startEdit(r) {
  resetForm();
  editing = r;
  $("#reply-shortcut").value = r.shortcut;
  $("#reply-title").value = r.title || "";
  $("#reply-text").value = r.text;
  $("#reply-scope").value = r.scope;
  $("#reply-scope").disabled = true;  // a reply stays what it was made
  $("#reply-queue").value = r.queue || "";
  $("#reply-form-title").textContent = `Change /${r.shortcut}`;
  $("#reply-save").textContent = "Save changes";
  $("#reply-cancel").hidden = false;
  showScope();
  $("#reply-text").focus();
}

async function remove(r) {
  try {
    await api("DELETE", `/api/v1/saved-replies/${r.id}`);
    toast(`/${r.shortcut} is deleted.`, "success");
    if (editing && editing.id === r.id) resetForm();
    await loadReplies();
    renderList();
  } catch (error) {
    if (!error.handled) toast(error.message, "error");
  }
}

async function submitReply(event) {
  event.preventDefault();
  const scope = $("#reply-scope").value;
  const body = { scope, shortcut: $("#reply-shortcut").value.trim(), title: $("#reply-title").value.trim(),
    text: $("#reply-text").value };
  if (scope === "team" && $("#reply-queue").value) body.queue = $("#reply-queue").value;
  let saved = null;
  await submitting($("#reply-save"), "Saving…", editing ? "Save changes" : "Add reply", $("#reply-error"), async () => {
    saved = editing ? await api("PUT", `/api/v1/saved-replies/${editing.id}`, body)
      : await api("POST", "/api/v1/saved-replies", body);
  });
  if (!saved) return;  // the dialog shows what was wrong
  toast(`/${saved.shortcut} is saved.`, "success");
  resetForm();
  await loadReplies();
  renderList();
}

export async function openReplies() {
  fillQueues();
  resetForm();
  renderList();
  showDialog($("#replies-dialog"));
  $("#reply-shortcut").focus();
  await loadReplies();
  renderList();
}

export function bindSavedReplies() {
  $("#manage-replies").addEventListener("click", openReplies);
  $("#reply-form").addEventListener("submit", submitReply);
  $("#reply-scope").addEventListener("change", showScope);
  $("#reply-cancel").addEventListener("click", resetForm);
}
