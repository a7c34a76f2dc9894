// Telling the agent: toasts, error reports, sounds, and the browser's notifications.

import { $, el } from "./dom.js";
import { S } from "./state.js";
import { hooks } from "./hooks.js";

let audioCtx = null;

export function toast(message, kind, timeout) {
  const box = $("#toasts");
  for (const existing of box.querySelectorAll(".toast")) {
    if (existing.dataset.message === message) existing.remove();
  }
  while (box.children.length >= 4) box.firstElementChild.remove();
  const type = kind || "info";
  const node = el("div", {
    class: `toast toast-${type}`,
    testid: "toast",
    role: type === "error" ? "alert" : "status",
    "data-message": message,
  }, [
    el("span", { class: "toast-text", text: message }),
    el("button", { class: "toast-close", type: "button", "aria-label": "Dismiss", text: "×", onclick: () => node.remove() }),
  ]);
  box.append(node);
  const ms = timeout || (type === "error" ? 9000 : 5000);
  let timer = setTimeout(() => node.remove(), ms);
  node.addEventListener("mouseenter", () => clearTimeout(timer));
  node.addEventListener("mouseleave", () => { timer = setTimeout(() => node.remove(), 2500); });
  return node;
}

export function report(error, prefix) {
  if (error && error.handled) return;
  const message = (error && error.message) || String(error);
  toast(prefix ? `${prefix}: ${message}` : message, "error");
}

export function unlockAudio() {
  try {
    if (!audioCtx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audioCtx = new Ctx();
    }
    if (audioCtx.state === "suspended") audioCtx.resume().catch(() => {});
  } catch (error) {
    audioCtx = null;
  }
}

export function beep(kind) {
  const now = Date.now();
  if (now - S.lastBeep < 700) return;
  S.lastBeep = now;
  if (!audioCtx) return;
  try {
    const t = audioCtx.currentTime + 0.01;
    const tones = kind === "message" ? [[740, 0, 0.12]] : [[880, 0, 0.14], [1318.5, 0.13, 0.2]];
    for (const [freq, delay, length] of tones) {
      const osc = audioCtx.createOscillator();
      const gain = audioCtx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + delay);
      gain.gain.exponentialRampToValueAtTime(kind === "message" ? 0.08 : 0.16, t + delay + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + delay + length);
      osc.connect(gain).connect(audioCtx.destination);
      osc.start(t + delay);
      osc.stop(t + delay + length + 0.02);
    }
  } catch (error) {
    /* audio is a nicety; the list and the title still show the news */
  }
}

export function notify(title, body, handoffId) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body, tag: handoffId || undefined });
    n.onclick = () => {
      window.focus();
      if (handoffId) hooks.openConversation(handoffId);
      n.close();
    };
  } catch (error) {
    /* some browsers only allow notifications from a service worker */
  }
}

export function updateNotifyButton() {
  const button = $("#notify-enable");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
}

export async function enableNotifications() {
  unlockAudio();
  if (!("Notification" in window)) {
    toast("This browser cannot show notifications.", "error");
    return;
  }
  try {
    const result = await Notification.requestPermission();
    if (result === "granted") toast("Notifications are on: you will hear and see new conversations.", "success");
    else if (result === "denied") toast("Notifications are blocked for this site. Allow them in the browser's site settings.", "error");
  } catch (error) {
    report(error, "Could not turn on notifications");
  }
  updateNotifyButton();
}
