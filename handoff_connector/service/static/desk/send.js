// Sending from the composer: a message to the user or an internal note, kept until the server has it.

import { $, autosize } from "./dom.js";
import { S, noteModeFor, nowSec } from "./state.js";
import { api } from "./api.js";
import { toast } from "./notify.js";
import { stopTyping } from "./typing.js";
import { closeMenu } from "./replies.js";
import { addMessage, pendingFor } from "./handoffs.js";
import { hooks } from "./hooks.js";

function uuid() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function sendFromComposer() {
  const id = S.active;
  const d = S.details.get(id);
  const input = $("#composer-input");
  if (!d || !input || input.dataset.filling) return;  // a saved reply is being filled in
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  const asNote = noteModeFor(d);
  input.value = "";
  autosize(input);
  S.drafts.delete(id);
  closeMenu();
  if (!asNote) stopTyping();
  const key = uuid();
  const p = { key, clientId: key, text, note: asNote, status: "sending", error: null, at: nowSec(), confirmedId: null };
  pendingFor(id).set(key, p);
  hooks.renderTranscriptFor(id, true);
  await deliver(id, p);
}

export async function deliver(id, p) {
  p.status = "sending";
  p.error = null;
  if (id === S.active) hooks.renderTranscriptFor(id, true);
  const path = `/api/v1/handoffs/${encodeURIComponent(id)}`;
  try {
    if (p.note) {
      const note = await api("POST", `${path}/notes`, { text: p.text });
      p.confirmedId = note.id;
      addMessage(id, Object.assign({ role: "note", author: S.me.id, handoff_id: id }, note));
    } else {
      const sent = await api("POST", `${path}/messages`, { text: p.text, client_id: p.clientId });
      addMessage(id, {
        id: sent.id, handoff_id: id, role: "agent", author: S.me.id,
        text: sent.text, client_id: p.clientId, created_at: sent.created_at,
      });
    }
    pendingFor(id).delete(p.key);
  } catch (error) {
    if (error.handled) return;
    p.status = "failed";
    p.error = error.message;
    toast(`${p.note ? "Note" : "Message"} not sent: ${error.message}`, "error");
  }
  if (id === S.active) hooks.renderTranscriptFor(id);
}
