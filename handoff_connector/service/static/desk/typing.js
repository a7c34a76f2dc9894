// The typing signal: the user sees "typing…" while the agent writes a reply (best effort).

import { S, noteModeFor, typing } from "./state.js";
import { api } from "./api.js";

// Tell the server again every 3 s while the agent writes; stop after 5 s without a key.
const TYPING_EVERY = 3000;
const TYPING_IDLE = 5000;

export function canType(d) {
  return !!(d && S.me && d.state === "assigned" && d.agent_id === S.me.id && !noteModeFor(d));
}

function postTyping(id, active) {
  // Errors are ignored; a 401 still signs out inside api().
  api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/typing`, { active }).catch(() => {});
}

export function onTyping(input) {
  const id = input.dataset.handoffId;
  if (!id || !canType(S.details.get(id)) || !input.value) {
    stopTyping();
    return;
  }
  if (typing.id && typing.id !== id) stopTyping();
  typing.id = id;
  const now = Date.now();
  if (now - typing.lastSent >= TYPING_EVERY) {
    typing.lastSent = now;
    typing.active = true;
    postTyping(id, true);
  }
  clearTimeout(typing.timer);
  typing.timer = setTimeout(stopTyping, TYPING_IDLE);
}

export function stopTyping() {
  clearTimeout(typing.timer);
  typing.timer = null;
  const id = typing.id;
  const was = typing.active;
  typing.id = null;
  typing.active = false;
  if (was && id && S.token) postTyping(id, false);
}

export function resetTyping() {
  clearTimeout(typing.timer);
  typing.timer = null;
  typing.id = null;
  typing.active = false;
  typing.lastSent = 0;
}
