// The desk's DOM helpers: $, el, icons, and the small parts several panels build (labels, chips, focus).

import { el } from "../common/dom.js";
import { ICONS } from "./icons.js";
import { TRIGGER_HELP, TRIGGER_WORD } from "./format.js";

export const $ = (selector, root) => (root || document).querySelector(selector);

export { el };

export function icon(name, cls) {
  const node = el("span", { class: "icon" + (cls ? " " + cls : "") });
  node.innerHTML = ICONS[name] || "";  // our own fixed SVG, never data
  return node;
}

export function skeletonItems(n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    items.push(el("li", { class: "item skeleton", "aria-hidden": "true" }, [
      el("span", { class: "sk sk-line sk-short" }),
      el("span", { class: "sk sk-line" }),
      el("span", { class: "sk sk-line sk-mid" }),
    ]));
  }
  return items;
}

export function triggerLabel(trigger) {
  const known = ["explicit", "cant_help", "fallback", "frustration", "resume"].includes(trigger);
  return el("span", {
    class: `trigger trigger-${known ? trigger : "other"}`,
    testid: "trigger-label",
    title: TRIGGER_HELP[trigger] || "Why the assistant handed over",
    text: TRIGGER_WORD[trigger] || trigger || "unknown",
  });
}

export function chip(text, cls, title) {
  return el("span", { class: "chip" + (cls ? " " + cls : ""), text, title: title || null });
}

export function rememberFocus(container) {
  const active = document.activeElement;
  if (!active || !container.contains(active)) return null;
  const item = active.closest("[data-handoff-id]");
  return item ? { id: item.getAttribute("data-handoff-id"), cls: active.className } : null;
}

export function restoreFocus(container, saved) {
  if (!saved) return;
  const item = container.querySelector(`[data-handoff-id="${CSS.escape(saved.id)}"]`);
  const target = item && (item.querySelector(`.${saved.cls.split(" ")[0]}`) || item.querySelector("button"));
  if (target) target.focus({ preventScroll: true });
}

export function autosize(input) {
  if (!input) return;
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 220) + "px";
}
