// The signed-in agent's profile: display name, title and photo, from the header's "me" button.

import { $ } from "./dom.js";
import { S } from "./state.js";
import { api } from "./api.js";
import { toast } from "./notify.js";
import { hideDialog, showDialog } from "./dialogs.js";
import { avatar, readAsDataUrl, uploadPhoto } from "../common/people.js";
import { renderMe } from "./me.js";
import { hooks } from "./hooks.js";

const chosen = { file: null, remove: false };

function showError(text) {
  const box = $("#profile-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function preview(agent) {
  $("#profile-avatar").replaceChildren(avatar(agent));
}

function openProfile() {
  chosen.file = null;
  chosen.remove = false;
  $("#profile-name").value = S.me.name || "";
  $("#profile-job").value = S.me.title || "";
  $("#profile-photo-input").value = "";
  $("#profile-photo-remove").hidden = !S.me.photo;
  showError("");
  preview(S.me);
  showDialog($("#profile-dialog"));
}

async function onFile(event) {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  chosen.file = file;
  chosen.remove = false;
  showError("");
  try {
    preview({ name: S.me.name, photo: await readAsDataUrl(file) });
  } catch (error) {
    showError("That file could not be read; choose another.");
  }
}

function onRemove() {
  chosen.file = null;
  chosen.remove = true;
  $("#profile-photo-input").value = "";
  preview({ name: $("#profile-name").value });
}

function applied(agent) {
  S.me = Object.assign({}, S.me, agent);
  S.agents.set(agent.id, Object.assign({}, S.agents.get(agent.id) || {}, agent));
  renderMe();
  hooks.renderTeam();
}

async function submitProfile(event) {
  event.preventDefault();
  const name = $("#profile-name").value.trim();
  if (!name) { showError("Write the name users should see."); return; }
  const button = $("#profile-submit");
  button.disabled = true;
  showError("");
  try {
    const path = `/api/v1/agents/${encodeURIComponent(S.me.id)}`;
    let agent = await api("PATCH", path, { name, title: $("#profile-job").value.trim() });
    if (chosen.file) agent = await uploadPhoto(S.token, S.me.id, chosen.file);
    else if (chosen.remove && S.me.photo) agent = await api("DELETE", path + "/photo");
    applied(agent);
    hideDialog($("#profile-dialog"));
    toast("Your profile is saved.", "success");
  } catch (error) {
    if (!error.handled) showError(error.message);
  } finally {
    button.disabled = false;
  }
}

export function bindProfile() {
  $("#me-button").addEventListener("click", openProfile);
  $("#profile-photo-input").addEventListener("change", onFile);
  $("#profile-photo-remove").addEventListener("click", onRemove);
  $("#profile-form").addEventListener("submit", submitProfile);
}
