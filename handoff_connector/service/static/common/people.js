// People as the desk and the admin page show them: a photo or initials, and a photo's upload.

import { el } from "./dom.js";
import { ApiError } from "./http.js";

export const PHOTO_MAX_BYTES = 1024 * 1024;  // as the connector checks (photo_api.py)

export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => Array.from(w)[0].toUpperCase()).join("") || "?";
}

// A round picture of the agent: their photo, or their initials when they have none.
export function avatar(agent, cls) {
  const node = el("span", { class: "avatar" + (cls ? " " + cls : ""), "aria-hidden": "true", testid: "avatar" });
  if (agent && agent.photo) {
    node.append(el("img", { src: agent.photo, alt: "", testid: "avatar-photo" }));
  } else {
    node.textContent = initials(agent && agent.name);
  }
  return node;
}

// Sends the file as it is; the connector tells PNG, JPEG and WebP by their bytes.
export async function uploadPhoto(token, agentId, file) {
  if (file.size > PHOTO_MAX_BYTES) {
    throw new ApiError(`The photo is larger than ${PHOTO_MAX_BYTES / 1024} KB; choose a smaller one.`, 413);
  }
  let response;
  try {
    response = await fetch(`/api/v1/agents/${encodeURIComponent(agentId)}/photo`, {
      method: "PUT", cache: "no-store", body: file,
      headers: { Authorization: "Bearer " + token, "Content-Type": file.type || "application/octet-stream" },
    });
  } catch (error) {
    throw new ApiError("Cannot reach the desk server. Check your connection and try again.", 0);
  }
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  if (!response.ok) throw new ApiError((data && data.error) || `The server answered ${response.status}.`, response.status);
  return data;
}

// A preview of a chosen file, as a data: URL (the pages' policy allows images from here and data: only).
export function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
