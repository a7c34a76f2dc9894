/* User chat: talks to Rasa's webchat channel over a WebSocket.
 *
 * Where Rasa is: GET /chat/config.json -> {"rasa_ws_url": ...} (only there: never
 * from the address bar). Who the user is: the session the channel signed for
 * them, kept in localStorage and sent as the socket's first frame (never in an
 * address); without one, the channel starts a new conversation and sends it.
 */
(() => {
  "use strict";

  const TYPING_TTL_MS = 6000;
  const MAX_BACKOFF_MS = 15000;
  const SESSION_KEY = "helpline.webchat.session";
  const NO_RECONNECT = new Set([4400, 4429]);  // the server refused this chat for good

  const $ = (id) => document.getElementById(id);
  const els = {
    log: $("log"), status: $("status"), typing: $("typing"), typingText: $("typing-text"),
    form: $("composer"), input: $("input"),
  };
  const state = {
    url: null, ws: null, ready: false, session: null, attempts: 0, retryTimer: null, stopped: false,
    pending: [], typingTimer: null, typingAgent: null, statusTimer: null, follow: true,
    seen: new Set(),
  };

  // ---- who and where -------------------------------------------------------

  function keptSession() {
    try {
      localStorage.removeItem("helpline.webchat.sender");  // earlier releases kept a bare id
      return localStorage.getItem(SESSION_KEY);
    } catch (error) {
      return null;  // storage can be switched off; the chat still works for this visit
    }
  }

  function keepSession(session) {
    state.session = session;
    try {
      localStorage.setItem(SESSION_KEY, session);
    } catch (error) { /* this visit only */ }
  }

  async function rasaSocketBase() {
    try {
      const response = await fetch("/chat/config.json", {cache: "no-store"});
      if (response.ok) {
        const config = await response.json();
        if (config && typeof config.rasa_ws_url === "string" && config.rasa_ws_url) return config.rasa_ws_url;
      }
    } catch (error) {
      console.info("webchat: /chat/config.json not available", error);
    }
    // Never from the address bar: a link could otherwise send the user's words elsewhere.
    return null;
  }

  function socketUrl(base) {
    const url = new URL(base, location.href);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    return url.toString();
  }

  // ---- status --------------------------------------------------------------

  function setStatus(kind, text) {
    clearTimeout(state.statusTimer);
    els.status.dataset.state = kind;
    els.status.textContent = text;
  }

  function flashError(text) {
    setStatus("error", text);
    state.statusTimer = setTimeout(() => {
      if (isOpen()) setStatus("open", "Connected");
    }, 8000);
  }

  // ---- rendering -----------------------------------------------------------

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const URL_PATTERN = /(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;

  // Text with web addresses made into links; never parsed as HTML.
  function richText(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      parent.append(text.slice(last, match.index));
      const link = el("a", {href: match[0], target: "_blank", rel: "noopener noreferrer"}, match[0]);
      parent.append(link);
      last = match.index + match[0].length;
    }
    parent.append(text.slice(last));
  }

  // Follow new messages unless the reader scrolled up to read earlier ones.
  function nearBottom() {
    const log = els.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function toBottom() {
    els.log.scrollTop = els.log.scrollHeight;
  }

  els.log.addEventListener("scroll", () => { state.follow = nearBottom(); }, {passive: true});
  // The log shrinks when the typing line shows or the message box grows.
  if (window.ResizeObserver) new ResizeObserver(() => { if (state.follow) toBottom(); }).observe(els.log);

  function append(node, force) {
    els.log.append(node);
    if (force) state.follow = true;
    if (state.follow) toBottom();
  }

  function speaker(frame) {
    if (frame.role === "agent") {
      const name = frame.agent_name || "Support worker";
      return frame.agent_title ? `${name}, ${frame.agent_title}` : name;
    }
    return "Assistant";
  }

  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter(Boolean);
    const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
    return letters.map((w) => Array.from(w)[0].toUpperCase()).join("") || "?";
  }

  // The agent's photo (served by the connector, like this page), or their initials.
  function avatar(frame) {
    if (frame.role === "agent") {
      const node = el("div", {class: "avatar", "aria-hidden": "true", "data-testid": "chat-avatar"});
      if (typeof frame.agent_photo === "string" && frame.agent_photo.startsWith("/api/v1/photos/")) {
        const img = el("img", {src: frame.agent_photo, alt: "", "data-testid": "chat-agent-photo"});
        img.addEventListener("error", () => { img.remove(); node.textContent = initials(frame.agent_name); });
        node.append(img);
      } else {
        node.textContent = initials(frame.agent_name);
      }
      return node;
    }
    const node = el("div", {class: "avatar", "aria-hidden": "true"});
    node.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" focusable="false"><path fill="currentColor" ' +
      'd="M12 21s-7.5-4.6-9.6-9.3C1 8.6 3 5 6.5 5c2 0 3.4 1.1 4.2 2.3l1.3 1.8 1.3-1.8C14.1 6.1 15.5 5 17.5 5 ' +
      '21 5 23 8.6 21.6 11.7 19.5 16.4 12 21 12 21z"/></svg>';
    return node;
  }

  function renderSystem(text, extraClass) {
    const item = el("div", {class: "msg msg-system" + (extraClass ? " " + extraClass : ""),
                            "data-testid": "chat-msg", "data-role": "system"});
    item.append(el("span", {class: "visually-hidden", "data-testid": "chat-who"}, "Help line notice:"));
    const line = el("span", {class: "system-text"});
    richText(line, text);
    item.append(line);
    append(item);
  }

  function renderButtons(buttons) {
    const group = el("div", {class: "buttons", role: "group", "aria-label": "Choose an answer"});
    for (const button of buttons) {
      const node = el("button", {type: "button", class: "choice", "data-testid": "chat-button",
                                 "data-payload": button.payload}, button.title);
      node.addEventListener("click", () => {
        for (const other of group.querySelectorAll("button")) other.disabled = true;
        node.setAttribute("aria-pressed", "true");
        send(button.payload, button.title);
        els.input.focus();
      });
      group.append(node);
    }
    return group;
  }

  function renderIncoming(frame) {
    const role = frame.role === "agent" || frame.role === "system" ? frame.role : "bot";
    const text = typeof frame.text === "string" ? frame.text : "";
    if (role === "system") return renderSystem(text);

    const item = el("div", {class: `msg msg-${role}`, "data-testid": "chat-msg", "data-role": role});
    const body = el("div", {class: "body"});
    body.append(el("div", {class: "who", "data-testid": "chat-who"}, speaker(frame)));
    if (text || frame.image || frame.attachment) {
      const bubble = el("div", {class: "bubble"});
      richText(bubble, text);
      if (typeof frame.image === "string" && /^https?:/.test(frame.image)) {
        bubble.append(el("img", {src: frame.image, alt: `Image from ${speaker(frame)}`, loading: "lazy"}));
      }
      if (typeof frame.attachment === "string" && /^https?:/.test(frame.attachment)) {
        if (text) bubble.append("\n");
        bubble.append(el("a", {href: frame.attachment, target: "_blank", rel: "noopener noreferrer"},
                         "Open attachment"));
      }
      body.append(bubble);
    }
    if (Array.isArray(frame.buttons) && frame.buttons.length) body.append(renderButtons(frame.buttons));
    item.append(avatar(frame), body);
    append(item);
  }

  function renderUser(text, pending) {
    const item = el("div", {class: "msg msg-user" + (pending ? " pending" : ""),
                            "data-testid": "chat-msg", "data-role": "user"});
    const body = el("div", {class: "body"});
    body.append(el("div", {class: "who", "data-testid": "chat-who"}, "You"));
    const bubble = el("div", {class: "bubble"});
    richText(bubble, text);
    body.append(bubble);
    if (pending) {
      body.append(el("div", {class: "note"}, state.stopped ? "Not sent: the chat is not connected"
                                                           : "Will send when we reconnect"));
    }
    item.append(body);
    append(item, true);
    return item;
  }

  // ---- typing --------------------------------------------------------------

  function showTyping(name) {
    state.typingAgent = name || "";
    els.typingText.textContent = `${name || "Someone"} is typing…`;
    els.typing.hidden = false;
    if (state.follow) toBottom();
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TTL_MS);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    state.typingTimer = null;
    state.typingAgent = null;
    els.typing.hidden = true;
  }

  // ---- socket --------------------------------------------------------------

  // Open, and the channel has said which conversation this is.
  function isOpen() {
    return state.ws !== null && state.ws.readyState === WebSocket.OPEN && state.ready;
  }

  function onFrame(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      console.warn("webchat: ignored a frame that is not JSON");
      return;
    }
    if (frame.type === "session") {
      keepSession(frame.session);
      els.log.dataset.sender = frame.sender_id;
      state.ready = true;
      setStatus("open", "Connected");
      flushPending();
    } else if (frame.type === "message") {
      // A message that can come twice (a connector that crashed mid-delivery
      // sends it again) carries a stable id: show it once.
      if (frame.id) {
        if (state.seen.has(frame.id)) return;
        state.seen.add(frame.id);
      }
      if (frame.role === "agent" && state.typingAgent !== null
          && (!state.typingAgent || state.typingAgent === frame.agent_name)) {
        hideTyping();
      }
      renderIncoming(frame);
    } else if (frame.type === "typing") {
      if (frame.active) showTyping(frame.agent_name);
      else if (state.typingAgent !== null) hideTyping();
    } else if (frame.type === "error") {
      flashError(frame.error || "Something went wrong.");
    }
  }

  function flushPending() {
    while (state.pending.length && isOpen()) {
      const {frame, item} = state.pending.shift();
      state.ws.send(JSON.stringify(frame));
      if (item) {
        item.classList.remove("pending");
        const note = item.querySelector(".note");
        if (note) note.remove();
      }
    }
  }

  function connect() {
    clearTimeout(state.retryTimer);
    let ws;
    try {
      ws = new WebSocket(state.url);
    } catch (error) {
      setStatus("error", "The chat address is not valid, so we cannot connect.");
      state.stopped = true;
      return;
    }
    state.ws = ws;
    let rejection = null;
    ws.addEventListener("open", () => {
      state.attempts = 0;
      ws.send(JSON.stringify({type: "session", session: state.session}));
    });
    ws.addEventListener("message", (event) => {
      try {
        const frame = JSON.parse(event.data);
        if (frame && frame.type === "error") rejection = frame.error;
      } catch (error) { /* reported by onFrame */ }
      onFrame(event);
    });
    ws.addEventListener("close", (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.ready = false;
      hideTyping();
      if (NO_RECONNECT.has(event.code)) {
        state.stopped = true;
        setStatus("error", rejection || "This chat could not be opened.");
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (state.stopped) return;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** state.attempts) * (0.8 + Math.random() * 0.4);
    state.attempts += 1;
    setStatus("reconnecting", "Reconnecting…");
    state.retryTimer = setTimeout(connect, delay);
  }

  function send(text, shown) {
    const frame = {type: "message", text};
    if (isOpen()) {
      renderUser(shown || text, false);
      state.ws.send(JSON.stringify(frame));
    } else {
      const item = renderUser(shown || text, true);
      state.pending.push({frame, item});
      if (!state.stopped && state.url && state.ws === null) {
        // Don't wait for the back-off: the user is here now.
        state.attempts = 0;
        connect();
      }
    }
  }

  // ---- composer ------------------------------------------------------------

  function grow() {
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight + 4, 180) + "px";
  }

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = els.input.value.trim();
    if (!text) {
      els.input.focus();
      return;
    }
    send(text);
    els.input.value = "";
    grow();
    els.input.focus();
  });

  els.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  });
  els.input.addEventListener("input", grow);

  window.addEventListener("online", () => {
    if (!state.stopped && state.url && state.ws === null) {
      state.attempts = 0;
      connect();
    }
  });

  // ---- start ---------------------------------------------------------------

  async function start() {
    state.session = keptSession();
    setStatus("connecting", "Connecting…");
    const base = await rasaSocketBase();
    if (!base) {
      state.stopped = true;
      setStatus("error", "The chat is not available right now. Please try again later.");
      return;
    }
    try {
      state.url = socketUrl(base);
    } catch (error) {
      state.stopped = true;
      setStatus("error", "The chat address is not valid, so we cannot connect.");
      return;
    }
    connect();
  }

  els.input.focus();
  start();
})();
