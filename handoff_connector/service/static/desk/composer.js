// The composer: the reply box, the internal-note toggle, keys, and the saved-replies button.

import { $, autosize, el, icon } from "./dom.js";
import { S, agentName, menu, noteModeFor, titleOf } from "./state.js";
import { onTyping, stopTyping } from "./typing.js";
import { closeMenu, openMenu, pickReply, renderMenu } from "./replies.js";
import { sendFromComposer } from "./send.js";

export function composerEl(d) {
  const notesOnly = d.agent_id !== S.me.id;
  const asNote = noteModeFor(d);
  const input = el("textarea", {
    id: "composer-input",
    testid: "composer-input",
    class: "composer-input",
    rows: "2",
    "data-handoff-id": d.id,
    "aria-label": asNote ? "Internal note" : `Message to ${titleOf(d.id)}`,
    "aria-autocomplete": "list",
    "aria-controls": "saved-menu",
    "aria-expanded": "false",
    placeholder: asNote ? "Write an internal note; only agents see it" : `Reply to ${titleOf(d.id)}… (type / for saved replies)`,
  });
  input.value = S.drafts.get(d.id) || "";
  input.addEventListener("input", onComposerInput);
  input.addEventListener("keydown", onComposerKeydown);
  input.addEventListener("blur", () => setTimeout(() => {
    if (menu.open && menu.mode === "slash" && !$("#saved-menu").contains(document.activeElement)) closeMenu();
  }, 150));

  const toggle = el("input", {
    type: "checkbox", testid: "note-toggle", id: "note-toggle",
    checked: asNote, disabled: notesOnly,
  });
  toggle.checked = asNote;
  toggle.addEventListener("change", () => {
    S.noteMode.set(d.id, toggle.checked);
    applyNoteMode(d);
    if (toggle.checked) stopTyping();
    else if (input.value) onTyping(input);
    input.focus();
  });

  const savedButton = el("button", {
    type: "button", class: "btn btn-ghost btn-sm", testid: "saved-replies-button", id: "saved-replies-button",
    "aria-haspopup": "listbox", "aria-expanded": "false", "aria-controls": "saved-menu",
    onclick: (event) => {
      event.stopPropagation();
      if (menu.open && menu.mode === "list") closeMenu();
      else openMenu("list", "");
    },
  }, [icon("bookmark"), "Saved replies"]);

  const send = el("button", {
    type: "submit", class: "btn btn-primary", testid: "send-button", id: "send-button",
  }, [icon("send"), el("span", { class: "send-label", text: asNote ? "Add note" : "Send" })]);

  const form = el("form", {
    class: "composer" + (asNote ? " is-note" : ""),
    id: "composer",
    onsubmit: (event) => { event.preventDefault(); sendFromComposer(); },
  }, [
    el("div", { class: "saved-menu", id: "saved-menu", role: "listbox", "aria-label": "Saved replies", hidden: true }),
    notesOnly ? el("div", { class: "composer-banner" },
      `${agentName(d.agent_id)} is handling this conversation. You can add internal notes; only they can reply.`) : null,
    el("div", { class: "composer-note-flag", "aria-hidden": "true" }, [icon("lock"), "Internal note: only agents see it"]),
    input,
    el("div", { class: "composer-bar" }, [
      el("label", { class: "note-toggle", for: "note-toggle", title: "Write an internal note instead of a message" }, [
        toggle, el("span", { text: "Internal note" }),
      ]),
      savedButton,
      el("span", { class: "composer-hint", text: "Enter sends · Shift+Enter new line" }),
      send,
    ]),
  ]);
  requestAnimationFrame(() => autosize(input));
  return form;
}

function applyNoteMode(d) {
  const form = $("#composer");
  const input = $("#composer-input");
  if (!form || !input) return;
  const asNote = noteModeFor(d);
  form.classList.toggle("is-note", asNote);
  input.placeholder = asNote ? "Write an internal note; only agents see it" : `Reply to ${titleOf(d.id)}… (type / for saved replies)`;
  input.setAttribute("aria-label", asNote ? "Internal note" : `Message to ${titleOf(d.id)}`);
  const label = $(".send-label", form);
  if (label) label.textContent = asNote ? "Add note" : "Send";
}

function onComposerInput(event) {
  const input = event.target;
  autosize(input);
  onTyping(input);
  if (input.value) S.drafts.set(input.dataset.handoffId, input.value);
  else S.drafts.delete(input.dataset.handoffId);
  const value = input.value;
  const slash = /^\/[\w-]*$/.test(value);
  if (!slash) {
    menu.dismissed = false;
    if (menu.open && menu.mode === "slash") closeMenu();
    return;
  }
  if (menu.dismissed) return;
  openMenu("slash", value.slice(1));
}

function onComposerKeydown(event) {
  if (menu.open && menu.mode === "slash") {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (menu.items.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        menu.index = (menu.index + step + menu.items.length) % menu.items.length;
        renderMenu();
      }
      return;
    }
    if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      if (menu.items.length) {
        event.preventDefault();
        pickReply(menu.items[menu.index]);
        return;
      }
      if (event.key === "Enter") {
        event.preventDefault();
        return;
      }
    }
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      menu.dismissed = true;
      closeMenu();
      return;
    }
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    sendFromComposer();
  }
}
