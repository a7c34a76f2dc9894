// The live-events client: one WebSocket, authenticated in its first frame, reconnecting with backoff.

import { $ } from "./dom.js";
import { RECONNECT_MAX, RECONNECT_MIN, S } from "./state.js";
import { api } from "./api.js";
import { report } from "./notify.js";
import { loadLists } from "./load.js";
import { loadHelp } from "./help.js";
import { setPresence } from "./me.js";
import { applyEvent } from "./events.js";

export function setWsStatus(state) {
  const node = $("#ws-status");
  node.classList.remove("is-live", "is-connecting", "is-reconnecting");
  if (state === "live") {
    node.textContent = "Live";
    node.classList.add("is-live");
    node.title = "Receiving updates as they happen";
  } else if (state === "reconnecting") {
    node.textContent = "Reconnecting…";
    node.classList.add("is-reconnecting");
    node.title = "The live connection dropped; reconnecting. Nothing is lost meanwhile.";
  } else {
    node.textContent = "Connecting…";
    node.classList.add("is-connecting");
    node.title = "";
  }
}

export function connect() {
  clearTimeout(S.wsTimer);
  if (!S.token) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // The token goes in the first frame, never in the address (addresses are logged).
  let url = `${proto}//${location.host}/api/v1/events/ws`;
  if (S.lastEventId !== null) url += `?after=${S.lastEventId}`;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    scheduleReconnect();
    return;
  }
  S.ws = ws;
  const token = S.token;
  ws.onopen = () => ws.send(JSON.stringify({type: "auth", token}));
  ws.onmessage = (event) => {
    if (S.ws !== ws) return;
    let message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    onSocketMessage(message);
  };
  ws.onclose = (event) => {
    if (S.ws !== ws) return;
    S.ws = null;
    if (!S.token) return;
    if (event.code === 4001) {
      // The session ended (signed out elsewhere, expired, new password): back to the login.
      api("GET", "/api/v1/me").catch(() => {});
      return;
    }
    setWsStatus("reconnecting");
    scheduleReconnect();
  };
  ws.onerror = () => { /* a close event follows */ };
}

function scheduleReconnect() {
  clearTimeout(S.wsTimer);
  const delay = S.backoff;
  S.backoff = Math.min(S.backoff * 2, RECONNECT_MAX);
  S.failures += 1;
  if (S.failures % 3 === 0) {
    // The socket cannot say why it failed; an expired session shows here as a 401.
    api("GET", "/api/v1/me").catch(() => {});
  }
  S.wsTimer = setTimeout(connect, delay);
}

function onSocketMessage(message) {
  if (message.type === "hello") {
    onHello(message);
    return;
  }
  if (typeof message.id !== "number") return;
  if (S.lastEventId !== null && message.id <= S.lastEventId) return;
  S.lastEventId = message.id;
  if (!S.synced) {
    S.buffer.push(message);
    return;
  }
  applyEvent(message);
}

async function onHello(message) {
  S.backoff = RECONNECT_MIN;
  S.failures = 0;
  setWsStatus("live");
  if (S.lastEventId === null && typeof message.last_id === "number") S.lastEventId = message.last_id;
  // The server marks an agent offline when their last desk disconnects.
  setPresence(S.presence, true);
  if (!S.synced) {
    try {
      await loadLists();
      await loadHelp();
    } catch (error) {
      report(error, "Could not load the conversations; retrying");
      setTimeout(() => { if (S.token && !S.listsLoaded) loadLists().catch((e) => report(e, "Could not load the conversations")); }, 3000);
    }
    S.synced = true;
    clearTimeout(S.syncTimer);
    const buffered = S.buffer;
    S.buffer = [];
    for (const event of buffered) applyEvent(event);
  }
}
