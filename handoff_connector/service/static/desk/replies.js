// The saved-reply menu: "/" in the composer or the Saved replies button; the server fills the
// placeholders in for the conversation (the user's name, the agent's, the team's).

import { $, autosize, el } from "./dom.js";
import { S, menu } from "./state.js";
import { api } from "./api.js";
import { loadReplies } from "./load.js";
import { toast } from "./notify.js";
import { onTyping } from "./typing.js";

// One's own reply shadows a team reply with the same shortcut (docs/saved-replies.md).
function usable() {
  return S.replies.filter((r) => !r.shadowed);
}

function matchReplies(query) {
  const q = query.toLowerCase();
  const replies = usable();
  if (!q) return replies;
  const starts = replies.filter((r) => r.shortcut.toLowerCase().startsWith(q));
  const contains = replies.filter((r) => !starts.includes(r) &&
    (r.shortcut.toLowerCase().includes(q) || (r.title || "").toLowerCase().includes(q)));
  return starts.concat(contains);
}

// The menu shows what it has at once, then what the server has now (a supervisor may have added one).
function refreshReplies() {
  loadReplies().then(() => {
    if (!menu.open) return;
    menu.items = matchReplies(menu.query);
    menu.index = Math.min(menu.index, Math.max(menu.items.length - 1, 0));
    renderMenu();
  });
}

export function openMenu(mode, query) {
  const box = $("#saved-menu");
  if (!box) return;
  const sameQuery = menu.open && menu.mode === mode && menu.query === query;
  if (!menu.open) refreshReplies();
  menu.open = true;
  menu.mode = mode;
  menu.query = query;
  menu.items = matchReplies(query);
  if (!sameQuery) menu.index = 0;
  renderMenu();
  const button = $("#saved-replies-button");
  if (button) button.setAttribute("aria-expanded", mode === "list" ? "true" : "false");
  if (mode === "list") {
    const first = box.querySelector('[data-testid="saved-reply"]');
    if (first) first.focus();
  }
}

export function renderMenu() {
  const box = $("#saved-menu");
  const input = $("#composer-input");
  if (!box) return;
  const head = el("div", { class: "saved-head" }, [
    el("span", { text: menu.mode === "slash" ? "Saved replies" : "Saved replies" }),
    el("span", { class: "muted", text: "↑↓ to choose · Enter to insert · Esc to close" }),
  ]);
  const options = menu.items.map((r, i) => el("button", {
    type: "button",
    role: "option",
    id: `saved-opt-${i}`,
    class: "saved-reply" + (i === menu.index ? " is-active" : ""),
    testid: "saved-reply",
    "data-shortcut": r.shortcut,
    "aria-selected": i === menu.index ? "true" : "false",
    tabindex: menu.mode === "slash" ? "-1" : "0",
    onmousedown: (event) => event.preventDefault(),
    onclick: () => pickReply(r),
    onkeydown: (event) => onMenuKeydown(event, i),
  }, [
    el("span", { class: "saved-top" }, [
      el("span", { class: "saved-short", text: "/" + r.shortcut }),
      el("span", { class: "saved-title", text: r.title || "" }),
      el("span", { class: "saved-scope", text: r.scope === "personal" ? "Mine" : "Team" }),
    ]),
    el("span", { class: "saved-text", text: r.text }),
  ]));
  const body = options.length ? options : [el("div", {
    class: "saved-empty",
    text: S.replies.length ? `No saved reply matches “/${menu.query}”.` : "No saved replies are set up.",
  })];
  box.replaceChildren(head, el("div", { class: "saved-list" }, body));
  box.hidden = false;
  if (input) {
    input.setAttribute("aria-expanded", "true");
    if (menu.mode === "slash" && menu.items.length) input.setAttribute("aria-activedescendant", `saved-opt-${menu.index}`);
    else input.removeAttribute("aria-activedescendant");
  }
  const active = box.querySelector(".saved-reply.is-active");
  if (active && menu.mode === "slash") active.scrollIntoView({ block: "nearest" });
}

function onMenuKeydown(event, index) {
  if (menu.mode !== "list") return;
  const options = [...document.querySelectorAll("#saved-menu .saved-reply")];
  let next = null;
  if (event.key === "ArrowDown") next = (index + 1) % options.length;
  else if (event.key === "ArrowUp") next = (index - 1 + options.length) % options.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = options.length - 1;
  else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closeMenu();
    const button = $("#saved-replies-button");
    if (button) button.focus();
    return;
  } else if (event.key === "Tab") {
    closeMenu();
    return;
  }
  if (next !== null) {
    event.preventDefault();
    menu.index = next;
    options.forEach((o, i) => {
      o.classList.toggle("is-active", i === next);
      o.setAttribute("aria-selected", i === next ? "true" : "false");
    });
    options[next].focus();
  }
}

export function closeMenu() {
  const box = $("#saved-menu");
  menu.open = false;
  menu.mode = null;
  menu.items = [];
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
  const input = $("#composer-input");
  if (input) {
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  const button = $("#saved-replies-button");
  if (button) button.setAttribute("aria-expanded", "false");
}

// The reply filled in for this conversation by the server, to edit before sending.
async function filledIn(reply, input) {
  input.dataset.filling = "true";
  input.readOnly = true;
  try {
    const path = `/api/v1/handoffs/${encodeURIComponent(S.active)}/saved-replies/${reply.id}/preview`;
    return (await api("POST", path)).text;
  } catch (error) {
    if (!error.handled) toast(`Could not fill in /${reply.shortcut}: ${error.message}`, "error");
    return null;
  } finally {
    delete input.dataset.filling;
    input.readOnly = false;
  }
}

export async function pickReply(reply) {
  const asked = $("#composer-input");
  if (!asked || !reply) return;
  const slash = menu.mode === "slash";
  const handoffId = S.active;
  closeMenu();
  const text = await filledIn(reply, asked);
  // The view may have been drawn again meanwhile: the same conversation's composer, if still open.
  const input = $("#composer-input");
  if (text === null || !input || S.active !== handoffId || input.dataset.handoffId !== handoffId) return;
  if (slash || /^\/[\w-]*$/.test(input.value)) {
    input.value = text;
    input.setSelectionRange(text.length, text.length);
  } else {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    const before = input.value.slice(0, start);
    const spacer = before && !/\s$/.test(before) ? " " : "";
    input.setRangeText(spacer + text, start, end, "end");
  }
  menu.dismissed = false;
  S.drafts.set(S.active, input.value);
  autosize(input);
  onTyping(input);
  input.focus();
}
