/* Agent desk: the agents' side of the bot-to-human handoff, on the public API only. */
(function () {
  "use strict";

  // ---------------------------------------------------------------- constants

  const STORE_KEYS = {
    token: "desk.token",
    presence: "desk.presence",
    tabs: "desk.tabs",
    active: "desk.active",
    filter: "desk.filter",
    brief: "desk.briefCollapsed",
  };
  const TRIGGER_HELP = {
    explicit: "The user asked for a person",
    cant_help: "The assistant could not help several turns in a row",
    fallback: "The assistant could not understand the user",
    frustration: "The assistant noticed the user getting frustrated",
    resume: "The user came back through a link an agent sent when closing",
  };
  const TRIGGER_WORD = { resume: "resumed", cant_help: "can't help" };
  const STATE_WORD = {
    queued: "waiting", assigned: "with an agent", no_agent: "follow-up", closed: "closed",
    returned: "closed", cancelled: "cancelled", abandoned: "abandoned",
  };
  const PRESENCE_WORD = { online: "Online", away: "Away", offline: "Offline" };
  // The insights pages open in a tab of their own (one, reused), so the desk's socket and the
  // agent's presence stay; "opener" lets that tab start with a copy of this one's session.
  const INSIGHTS_TAB = "desk-insights";
  const BASE_TITLE = "Agent desk · Community Help Line";
  const RECONNECT_MIN = 500;
  const RECONNECT_MAX = 10000;
  const WAIT_WARN = 120;
  const WAIT_LATE = 300;
  const TYPING_EVERY = 3000;
  const TYPING_IDLE = 5000;

  const ICONS = {
    send: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3.4 2.6a.75.75 0 0 0-1 .9l1.9 5.8h6.2a.75.75 0 0 1 0 1.5H4.3l-1.9 5.8a.75.75 0 0 0 1 .9l14-7a.75.75 0 0 0 0-1.3z"/></svg>',
    bookmark: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 3.5A1.5 1.5 0 0 1 6.5 2h7A1.5 1.5 0 0 1 15 3.5v14a.5.5 0 0 1-.8.4L10 15l-4.2 2.9a.5.5 0 0 1-.8-.4z"/></svg>',
    transfer: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M13.2 2.7a.75.75 0 0 1 1.06 0l3 3a.75.75 0 0 1 0 1.06l-3 3a.75.75 0 1 1-1.06-1.06l1.72-1.72H4.75a.75.75 0 0 1 0-1.5h10.17L13.2 3.76a.75.75 0 0 1 0-1.06zm-6.4 7a.75.75 0 0 1 0 1.06L5.08 12.5h10.17a.75.75 0 0 1 0 1.5H5.08l1.72 1.72a.75.75 0 1 1-1.06 1.06l-3-3a.75.75 0 0 1 0-1.06l3-3a.75.75 0 0 1 1.06 0z"/></svg>',
    check: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.58l7.3-7.3a1 1 0 0 1 1.4 0z"/></svg>',
    inbox: '<svg viewBox="0 0 48 48" aria-hidden="true"><path d="M10 8h28l6 18v12a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4V26zm2.9 4L8.2 24H17a2 2 0 0 1 2 2 5 5 0 0 0 10 0 2 2 0 0 1 2-2h8.8l-4.7-12z"/></svg>',
    chat: '<svg viewBox="0 0 48 48" aria-hidden="true"><path d="M8 10a4 4 0 0 1 4-4h24a4 4 0 0 1 4 4v18a4 4 0 0 1-4 4H20l-8 7v-7a4 4 0 0 1-4-4z"/></svg>',
    lock: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2a4 4 0 0 0-4 4v2H5a1 1 0 0 0-1 1v8a1 1 0 0 0 1 1h10a1 1 0 0 0 1-1V9a1 1 0 0 0-1-1h-1V6a4 4 0 0 0-4-4zm2.5 6h-5V6a2.5 2.5 0 0 1 5 0z"/></svg>',
    star: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 1.8l2.5 5.1 5.6.8-4 4 .9 5.6-5-2.7-5 2.7.9-5.6-4-4 5.6-.8z"/></svg>',
    phone: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5.6 2.3a1.2 1.2 0 0 1 1.37.53l1.55 2.6a1.2 1.2 0 0 1-.22 1.5l-1.2 1.08a9.6 9.6 0 0 0 4.9 4.9l1.08-1.2a1.2 1.2 0 0 1 1.5-.22l2.6 1.55a1.2 1.2 0 0 1 .53 1.37l-.5 1.8A1.9 1.9 0 0 1 15.4 17.6C8.3 17.2 2.8 11.7 2.4 4.6a1.9 1.9 0 0 1 1.4-1.8z"/></svg>',
    mail: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3.5 4h13A1.5 1.5 0 0 1 18 5.5v.35l-8 4.8-8-4.8V5.5A1.5 1.5 0 0 1 3.5 4zM2 7.6v6.9A1.5 1.5 0 0 0 3.5 16h13a1.5 1.5 0 0 0 1.5-1.5V7.6l-7.6 4.56a.75.75 0 0 1-.8 0z"/></svg>',
    people: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm7 0a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM1.5 16c0-2.9 2.5-5 5.5-5s5.5 2.1 5.5 5a1 1 0 0 1-1 1h-9a1 1 0 0 1-1-1zm12.3 1h3.7a1 1 0 0 0 1-1c0-2.5-2-4.4-4.5-4.4-.8 0-1.5.2-2.1.5a6.3 6.3 0 0 1 1.9 4.9z"/></svg>',
    down: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 14.5a1 1 0 0 1-.7-.3l-5-5a1 1 0 1 1 1.4-1.4l4.3 4.29 4.3-4.3a1 1 0 1 1 1.4 1.42l-5 5a1 1 0 0 1-.7.29z"/></svg>',
  };

  // -------------------------------------------------------------------- state

  const S = {
    token: null,
    me: null,
    agents: new Map(),
    queues: new Map(),
    replies: [],
    summaries: new Map(),
    waiting: new Map(),
    mine: new Map(),
    tickets: new Map(),
    ticketsError: null,
    resumeUrls: new Map(),
    announced: new Set(),
    details: new Map(),
    lastText: new Map(),
    unread: new Map(),
    eventMessages: new Map(),
    pending: new Map(),
    fresh: new Map(),
    drafts: new Map(),
    noteMode: new Map(),
    refreshing: new Map(),
    tabs: [],
    active: null,
    renderedSig: null,
    filter: "",
    presence: "online",
    listsLoaded: false,
    synced: false,
    buffer: [],
    lastEventId: null,
    ws: null,
    wsTimer: null,
    syncTimer: null,
    backoff: RECONNECT_MIN,
    failures: 0,
    lastBeep: 0,
    serverOffset: 0,
    briefCollapsed: false,
  };

  const menu = { open: false, mode: null, query: "", items: [], index: 0, dismissed: false };
  const typing = { id: null, active: false, lastSent: 0, timer: null };
  const team = { open: false, loading: false, loaded: false, error: null, timer: null };
  let audioCtx = null;
  let renderQueued = false;
  let loginLockTimer = null;

  // ------------------------------------------------------------------ helpers

  const $ = (selector, root) => (root || document).querySelector(selector);

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "testid") node.setAttribute("data-testid", value);
        else if (key === "html") node.innerHTML = value;
        else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else if (value === true) node.setAttribute(key, "");
        else node.setAttribute(key, String(value));
      }
    }
    if (children !== undefined) {
      for (const child of [].concat(children)) {
        if (child === null || child === undefined || child === false) continue;
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  function icon(name, cls) {
    return el("span", { class: "icon" + (cls ? " " + cls : ""), html: ICONS[name] || "" });
  }

  const store = {
    get(key) { try { return sessionStorage.getItem(key); } catch (e) { return null; } },
    set(key, value) { try { sessionStorage.setItem(key, value); } catch (e) { /* storage full or blocked */ } },
    remove(key) { try { sessionStorage.removeItem(key); } catch (e) { /* blocked */ } },
  };

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function nowSec() {
    return Date.now() / 1000 + S.serverOffset;
  }

  function humanize(code) {
    if (!code) return "";
    const text = String(code).replace(/[_-]+/g, " ").trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function article(title) {
    if (!title) return "a member of our team";
    return (/^[aeiou]/i.test(title) ? "an " : "a ") + title;
  }

  function fmtDuration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
  }

  function fmtAge(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return "just now";
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) {
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      return m && h < 10 ? `${h} h ${m} min` : `${h} h`;
    }
    const d = Math.floor(s / 86400);
    return `${d} ${d === 1 ? "day" : "days"}`;
  }

  function contactHref(contact) {
    const text = String(contact || "").trim();
    if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return "mailto:" + text;
    const digits = text.replace(/[^\d+]/g, "");
    if (/^\+?\d{5,}$/.test(digits)) return "tel:" + digits;
    return null;
  }

  const clockFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function fmtClock(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return "";
    const d = new Date(sec * 1000);
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay ? clockFmt.format(d) : `${dayFmt.format(d)}, ${clockFmt.format(d)}`;
  }

  function fmtFull(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return "";
    return fullFmt.format(new Date(sec * 1000));
  }

  function entrySeconds(entry) {
    if (typeof entry.created_at === "number") return entry.created_at;
    if (typeof entry.timestamp === "number") return entry.timestamp;
    if (entry.timestamp) {
      const ms = Date.parse(entry.timestamp);
      if (!isNaN(ms)) return ms / 1000;
    }
    if (typeof entry.at === "number") return entry.at;
    return null;
  }

  function teamOf(queue) {
    const q = S.queues.get(queue);
    return (q && q.team) || queue || "";
  }

  function agentName(id) {
    if (!id) return "";
    if (S.me && id === S.me.id) return S.me.name;
    const a = S.agents.get(id);
    return (a && a.name) || id;
  }

  function isSupervisor() {
    return !!(S.me && S.me.role === "supervisor");
  }

  function canSeeQueue(queue) {
    return isSupervisor() || (S.me && (S.me.queues || []).includes(queue));
  }

  function summaryOf(id) {
    return S.details.get(id) || S.summaries.get(id) || null;
  }

  function titleOf(id) {
    const d = S.details.get(id);
    const name = userNameOf(d);
    if (name) return name;
    const s = summaryOf(id);
    return (s && s.sender_id) || "Conversation";
  }

  // The name the bot learned (from the slot the designer named: `user_name_slot`), or "".
  function userNameOf(d) {
    return d && typeof d.user_name === "string" ? d.user_name : "";
  }

  function fillPlaceholders(text, d) {
    const values = {
      user_name: userNameOf(d) || "there",
      agent_name: S.me ? S.me.name : "",
      agent_title: S.me ? S.me.title : "",
      agent_role: S.me ? article(S.me.title) : "",
      team: (d && (d.team || teamOf(d.queue))) || "",
    };
    return String(text).replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
  }

  // ---------------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(message, status, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter || 0;
      this.handled = false;
    }
  }

  function noteServerTime(response) {
    const header = response.headers.get("Date");
    if (!header) return;
    const server = Date.parse(header);
    if (isNaN(server)) return;
    const offset = server / 1000 - Date.now() / 1000;
    S.serverOffset = Math.abs(offset) > 2 ? offset : 0;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (S.token) headers.Authorization = "Bearer " + S.token;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError("Cannot reach the desk server. Check your connection and try again.", 0);
    }
    noteServerTime(response);
    let data = null;
    const raw = await response.text();
    if (raw) {
      try { data = JSON.parse(raw); } catch (error) { data = null; }
    }
    if (!response.ok) {
      const message = (data && data.error) || `The server answered ${response.status} ${response.statusText || ""}`.trim() + ".";
      const error = new ApiError(message, response.status, Number(response.headers.get("Retry-After")) || 0);
      if (response.status === 401 && S.token && path !== "/api/v1/login") {
        error.handled = true;
        sessionEnded();
      }
      throw error;
    }
    return data;
  }

  function report(error, prefix) {
    if (error && error.handled) return;
    const message = (error && error.message) || String(error);
    toast(prefix ? `${prefix}: ${message}` : message, "error");
  }

  // ------------------------------------------------------------------- toasts

  function toast(message, kind, timeout) {
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

  // -------------------------------------------------------------------- sound

  function unlockAudio() {
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

  function beep(kind) {
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

  function notify(title, body, handoffId) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification(title, { body, tag: handoffId || undefined });
      n.onclick = () => {
        window.focus();
        if (handoffId) openConversation(handoffId);
        n.close();
      };
    } catch (error) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  function updateNotifyButton() {
    const button = $("#notify-enable");
    button.hidden = !("Notification" in window) || Notification.permission !== "default";
  }

  async function enableNotifications() {
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

  // -------------------------------------------------------------- sign in/out

  function showOnly(which) {
    $("#boot").hidden = which !== "boot";
    $("#login-view").hidden = which !== "login";
    $("#app").hidden = which !== "app";
  }

  function showLogin(message, kind) {
    showOnly("login");
    const error = $("#login-error");
    if (message) {
      error.textContent = message;
      error.hidden = false;
      error.classList.toggle("is-info", kind === "info");
    } else {
      error.hidden = true;
      error.textContent = "";
    }
    document.title = "Sign in · " + BASE_TITLE;
    const user = $("#login-user");
    (user.value ? $("#login-password") : user).focus();
  }

  function lockLogin(seconds) {
    const button = $("#login-submit");
    clearInterval(loginLockTimer);
    let left = Math.max(1, Math.ceil(seconds));
    button.disabled = true;
    button.textContent = `Try again in ${left} s`;
    loginLockTimer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(loginLockTimer);
        button.disabled = false;
        button.textContent = "Sign in";
      } else {
        button.textContent = `Try again in ${left} s`;
      }
    }, 1000);
  }

  async function onLoginSubmit(event) {
    event.preventDefault();
    unlockAudio();
    const button = $("#login-submit");
    if (button.disabled) return;
    const login = $("#login-user").value.trim();
    const password = $("#login-password").value;
    const error = $("#login-error");
    if (!login || !password) {
      error.textContent = "Enter your login and your password.";
      error.classList.remove("is-info");
      error.hidden = false;
      (login ? $("#login-password") : $("#login-user")).focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Signing in…";
    let locked = false;
    try {
      const data = await api("POST", "/api/v1/login", { login, password });
      S.token = data.token;
      store.set(STORE_KEYS.token, data.token);
      store.set(STORE_KEYS.presence, "online");
      $("#login-password").value = "";
      error.hidden = true;
      await startSession(true);
    } catch (err) {
      error.textContent = err.message;
      error.classList.remove("is-info");
      error.hidden = false;
      if (err.status === 429 && err.retryAfter) {
        locked = true;
        lockLogin(err.retryAfter);
      }
      $("#login-password").select();
    } finally {
      if (!locked) {
        button.disabled = false;
        button.textContent = "Sign in";
      }
    }
  }

  function resetState() {
    S.me = null;
    S.agents = new Map();
    S.queues = new Map();
    S.replies = [];
    S.summaries = new Map();
    S.waiting = new Map();
    S.mine = new Map();
    S.tickets = new Map();
    S.ticketsError = null;
    S.resumeUrls = new Map();
    S.announced = new Set();
    S.details = new Map();
    S.lastText = new Map();
    S.unread = new Map();
    S.eventMessages = new Map();
    S.pending = new Map();
    S.fresh = new Map();
    S.drafts = new Map();
    S.noteMode = new Map();
    S.refreshing = new Map();
    S.tabs = [];
    S.active = null;
    S.listsLoaded = false;
    S.synced = false;
    S.buffer = [];
    S.lastEventId = null;
    S.backoff = RECONNECT_MIN;
    S.failures = 0;
    closeMenu();
    resetTyping();
    closeTeam(false);
    team.loaded = false;
    team.error = null;
  }

  function teardown() {
    S.token = null;
    clearTimeout(S.wsTimer);
    clearTimeout(S.syncTimer);
    if (S.ws) {
      const ws = S.ws;
      S.ws = null;
      ws.onclose = null;
      ws.onmessage = null;
      try { ws.close(1000, "signed out"); } catch (error) { /* already closed */ }
    }
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
    resetState();
    $("#conv-host").replaceChildren();
    $("#tabs").replaceChildren();
  }

  function sessionEnded() {
    if (!S.token) return;
    teardown();
    for (const key of Object.values(STORE_KEYS)) if (key !== STORE_KEYS.brief) store.remove(key);
    showLogin("Your session has ended. Sign in again to continue.", "info");
  }

  async function logout() {
    const button = $("#logout");
    button.disabled = true;
    try {
      try { await api("PUT", "/api/v1/me/presence", { status: "offline" }); } catch (error) { /* signing out anyway */ }
      try { await api("POST", "/api/v1/logout"); } catch (error) { /* the session ends locally anyway */ }
    } finally {
      button.disabled = false;
    }
    teardown();
    for (const key of Object.values(STORE_KEYS)) if (key !== STORE_KEYS.brief) store.remove(key);
    showLogin("You have signed out.", "info");
  }

  // ------------------------------------------------------------------ session

  async function startSession(fresh) {
    resetState();
    S.token = store.get(STORE_KEYS.token);
    if (!S.token) { showLogin(); return; }
    S.presence = fresh ? "online" : (store.get(STORE_KEYS.presence) || "online");
    S.filter = store.get(STORE_KEYS.filter) || "";
    S.briefCollapsed = store.get(STORE_KEYS.brief) === "1";
    let me;
    try {
      me = await api("GET", "/api/v1/me");
    } catch (error) {
      if (error.handled) return;
      if (fresh) throw error;
      showOnly("boot");
      $("#boot").replaceChildren(
        el("p", { class: "boot-error", text: error.message }),
        el("button", { class: "btn btn-primary", type: "button", text: "Try again", onclick: () => location.reload() }),
      );
      return;
    }
    S.me = me;
    showOnly("app");
    renderMe();
    renderLists();
    renderTabs();
    renderView();
    updateNotifyButton();
    setWsStatus("connecting");
    setPresence(S.presence, true);
    loadAgents();
    loadQueues();
    loadReplies();
    connect();
    S.syncTimer = setTimeout(() => {
      if (!S.listsLoaded) loadLists().catch((error) => report(error, "Could not load the conversations"));
    }, 3000);
    if (!fresh) {
      let tabs = [];
      try { tabs = JSON.parse(store.get(STORE_KEYS.tabs) || "[]"); } catch (error) { tabs = []; }
      const active = store.get(STORE_KEYS.active);
      for (const id of tabs) if (typeof id === "string") S.tabs.push(id);
      if (S.tabs.length) {
        S.active = S.tabs.includes(active) ? active : S.tabs[0];
        for (const id of S.tabs) loadDetail(id);
        renderTabs();
        renderView();
      }
    }
  }

  async function loadAgents() {
    try {
      const data = await api("GET", "/api/v1/agents");
      S.agents = new Map(data.agents.map((a) => [a.id, a]));
      team.loaded = true;
      team.error = null;
      scheduleRender();
      if (S.active) renderTranscriptFor(S.active);
      if (team.open) renderTeam();
    } catch (error) {
      if (team.open && !error.handled) {
        team.error = error.message;
        renderTeam();
      } else {
        report(error, "Could not load the team list");
      }
    }
  }

  async function loadQueues() {
    try {
      const data = await api("GET", "/api/v1/queues");
      S.queues = new Map(data.queues.map((q) => [q.name, q]));
      renderFilterOptions();
      scheduleRender();
    } catch (error) {
      report(error, "Could not load the queues");
    }
  }

  async function loadReplies() {
    try {
      const data = await api("GET", "/api/v1/saved-replies");
      S.replies = data.saved_replies || [];
    } catch (error) {
      report(error, "Could not load the saved replies");
    }
  }

  function fetchTickets() {
    // Follow-ups are a side list: if they fail, the queue and my conversations still load.
    return api("GET", "/api/v1/tickets").then((data) => {
      S.ticketsError = null;
      return data;
    }, (error) => {
      if (error.handled) throw error;
      S.ticketsError = error.message;
      return null;
    });
  }

  function setTickets(data) {
    if (!data) return;
    S.tickets = new Map();
    for (const h of data.handoffs || []) {
      S.summaries.set(h.id, h);
      S.tickets.set(h.id, h);
    }
  }

  async function refreshTickets() {
    try {
      setTickets(await fetchTickets());
    } catch (error) {
      return;
    }
    renderLists();
  }

  async function loadLists() {
    const [queue, assigned, tickets] = await Promise.all([
      api("GET", "/api/v1/queue"),
      api("GET", "/api/v1/handoffs/assigned"),
      fetchTickets(),
    ]);
    S.waiting = new Map();
    S.mine = new Map();
    S.waitingTotal = queue.total;
    S.waitingMore = Boolean(queue.next);
    for (const h of queue.handoffs) {
      S.summaries.set(h.id, h);
      S.waiting.set(h.id, h);
    }
    for (const h of assigned.handoffs) {
      S.summaries.set(h.id, h);
      S.mine.set(h.id, h);
    }
    setTickets(tickets);
    S.listsLoaded = true;
    renderLists();
    renderTabs();
  }

  async function refreshWaiting() {
    try {
      const queue = await api("GET", "/api/v1/queue");
      S.waiting = new Map(queue.handoffs.map((h) => [h.id, h]));
      S.waitingTotal = queue.total;
      S.waitingMore = Boolean(queue.next);
      for (const h of queue.handoffs) S.summaries.set(h.id, h);
      renderLists();
    } catch (error) {
      report(error, "Could not refresh the queue");
    }
  }

  // ----------------------------------------------------------------- presence

  function renderPresence(presence) {
    const select = $("#presence-select");
    select.value = presence;
    $("#presence-wrap").dataset.presence = presence;
  }

  async function setPresence(status, quiet) {
    const previous = S.me ? S.me.presence : "offline";
    S.presence = status;
    store.set(STORE_KEYS.presence, status);
    renderPresence(status);
    try {
      const agent = await api("PUT", "/api/v1/me/presence", { status });
      if (!S.me) return;
      S.me = Object.assign({}, S.me, agent);
      S.agents.set(agent.id, Object.assign({}, S.agents.get(agent.id) || {}, agent));
      renderPresence(agent.presence);
      renderLoad();
    } catch (error) {
      if (error.handled) return;
      if (!quiet) renderPresence(previous);
      report(error, "Could not change your status");
    }
  }

  // ---------------------------------------------------------------- live feed

  function setWsStatus(state) {
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

  function connect() {
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

  function applyEvent(event) {
    try {
      switch (event.type) {
        case "handoff.created":
          upsertSummary(event.handoff);
          if (event.handoff.state === "queued" && S.waiting.has(event.handoff.id)) announceNew(event.handoff);
          if (isResumedToMe(event.handoff)) announceResume(event.handoff);
          teamChanged();
          break;
        case "handoff.assigned": {
          const d = S.details.get(event.handoff.id);
          const before = d ? d.state : null;
          upsertSummary(event.handoff);
          if (event.handoff.id === S.active && before === "queued" && event.handoff.agent_id !== S.me.id) {
            toast(`${agentName(event.handoff.agent_id)} claimed this conversation.`, "info");
          }
          if (isResumedToMe(event.handoff)) announceResume(event.handoff);
          teamChanged();
          break;
        }
        case "handoff.ticket":
          upsertSummary(event.handoff);
          if (S.tickets.has(event.handoff.id)) S.fresh.set(event.handoff.id, Date.now());
          break;
        case "handoff.transferred":
          onTransferred(event);
          teamChanged();
          break;
        case "handoff.closed":
        case "handoff.returned":
          upsertSummary(event.handoff);
          teamChanged();
          break;
        case "handoff.cancelled":
        case "handoff.abandoned": {
          const wasMine = S.mine.has(event.handoff.id) || event.handoff.id === S.active;
          upsertSummary(event.handoff);
          if (wasMine) {
            const why = event.type === "handoff.cancelled"
              ? "went back to the assistant" : "went silent; the conversation was ended";
            toast(`${titleOf(event.handoff.id)} ${why}.`, "info");
          }
          teamChanged();
          break;
        }
        case "handoff.message":
          onMessage(event.handoff_id, event.message);
          break;
        case "handoff.undelivered":
          if (S.details.has(event.handoff_id)) refreshDetail(event.handoff_id);
          toast(`A message to ${titleOf(event.handoff_id)} could not be delivered.`, "error", 9000);
          break;
        case "handoff.survey":
          onSurvey(event.handoff_id, event.survey);
          teamChanged();
          break;
        case "agent.presence":
          onPresence(event.agent_id, event.presence);
          teamChanged();
          break;
        default:
          break;
      }
    } catch (error) {
      console.error("desk: could not apply event", event, error);
    }
    scheduleRender();
  }

  function upsertSummary(s) {
    if (!s || !s.id) return;
    S.summaries.set(s.id, s);
    if (s.state === "queued" && canSeeQueue(s.queue)) S.waiting.set(s.id, s);
    else S.waiting.delete(s.id);
    if (s.state === "assigned" && (s.agent_id === S.me.id || isSupervisor())) S.mine.set(s.id, s);
    else S.mine.delete(s.id);
    if (s.state === "no_agent" && canSeeQueue(s.queue)) {
      // Keep the contact even if a later summary leaves it out.
      S.tickets.set(s.id, Object.assign({}, S.tickets.get(s.id) || {}, s));
    } else {
      S.tickets.delete(s.id);
    }
    const d = S.details.get(s.id);
    if (d) {
      const changed = d.state !== s.state || d.agent_id !== s.agent_id || d.queue !== s.queue;
      Object.assign(d, s);
      if (changed) {
        refreshView(s.id);
        refreshDetail(s.id);
      }
    }
  }

  function onTransferred(event) {
    const s = event.handoff;
    const wasMine = S.mine.has(s.id) && S.mine.get(s.id).agent_id === S.me.id;
    upsertSummary(s);
    const by = event.from_agent && event.from_agent !== S.me.id ? agentName(event.from_agent) : null;
    if (event.to_agent === S.me.id && event.from_agent !== S.me.id) {
      const note = event.note ? ` Note: “${event.note}”` : "";
      toast(`${by || "A colleague"} transferred ${titleOf(s.id)} to you.${note}`, "info", 9000);
      beep("new");
      notify("A conversation was transferred to you", `${titleOf(s.id)} · ${teamOf(s.queue)}`, s.id);
    } else if (wasMine && s.agent_id !== S.me.id && event.from_agent !== S.me.id) {
      toast(`${titleOf(s.id)} was moved to ${event.to_agent ? agentName(event.to_agent) : teamOf(event.to_queue)}.`, "info");
    } else if (s.state === "queued" && S.waiting.has(s.id) && event.from_agent !== S.me.id) {
      announceNew(s);
    }
  }

  function onMessage(handoffId, message) {
    if (!message) return;
    let list = S.eventMessages.get(handoffId);
    if (!list) { list = []; S.eventMessages.set(handoffId, list); }
    if (!list.some((m) => m.id === message.id)) {
      list.push(message);
      if (list.length > 300) list.shift();
    }
    const known = S.details.get(handoffId);
    const isNew = !known || !known.messages.some((m) => m.id === message.id);
    if (message.role === "user" && isNew) {
      S.lastText.set(handoffId, message.text);
      const tracked = S.mine.has(handoffId) || S.tabs.includes(handoffId);
      const onScreen = handoffId === S.active;
      if (tracked && !onScreen) S.unread.set(handoffId, (S.unread.get(handoffId) || 0) + 1);
      const summary = S.summaries.get(handoffId);
      if (summary && summary.agent_id === S.me.id && (!onScreen || document.hidden)) beep("message");
    }
    if (known) addMessage(handoffId, message);
  }

  function onSurvey(handoffId, survey) {
    const d = S.details.get(handoffId);
    if (!d) return;
    d.survey = survey;
    refreshView(handoffId);
  }

  function onPresence(agentId, presence) {
    const agent = S.agents.get(agentId);
    if (agent) agent.presence = presence;
    else S.agents.set(agentId, { id: agentId, name: agentId, presence });
    if (S.me && agentId === S.me.id) {
      S.me.presence = presence;
      renderPresence(presence);
    }
  }

  function isResumedToMe(s) {
    return !!(s && s.trigger === "resume" && s.state === "assigned" && S.me && s.agent_id === S.me.id);
  }

  function announceResume(s) {
    if (S.announced.has(s.id)) return;
    S.announced.add(s.id);
    S.fresh.set(s.id, Date.now());
    beep("new");
    const tell = () => {
      if (!S.me) return;
      const name = titleOf(s.id);
      toast(`${name} came back through your link.`, "info", 9000);
      notify("Someone came back through your link", `${name} · ${teamOf(s.queue)}`, s.id);
      scheduleRender();
    };
    if (S.details.has(s.id)) { tell(); return; }
    // The user's name is in the context; fetch it so the toast and the list can say who came back.
    api("GET", `/api/v1/handoffs/${encodeURIComponent(s.id)}`).then((d) => {
      if (!S.details.has(s.id)) {
        d.messages = d.messages || [];
        mergeEventMessages(d);
        S.details.set(s.id, d);
      }
    }, () => { /* the summary is enough to show it */ }).finally(tell);
  }

  function announceNew(s) {
    S.fresh.set(s.id, Date.now());
    beep("new");
    const text = S.lastText.get(s.id) || s.last_user_text;
    notify(`Someone is waiting · ${teamOf(s.queue)}`, text ? `“${text}”` : `${s.sender_id} via ${s.channel || "chat"}`, s.id);
  }

  // ------------------------------------------------------------ conversations

  function persistTabs() {
    store.set(STORE_KEYS.tabs, JSON.stringify(S.tabs));
    if (S.active) store.set(STORE_KEYS.active, S.active);
    else store.remove(STORE_KEYS.active);
  }

  function saveDraft() {
    const input = $("#composer-input");
    if (input && input.dataset.handoffId) {
      if (input.value) S.drafts.set(input.dataset.handoffId, input.value);
      else S.drafts.delete(input.dataset.handoffId);
    }
  }

  function openConversation(id) {
    if (!id) return;
    saveDraft();
    closeMenu();
    if (!S.tabs.includes(id)) S.tabs.push(id);
    S.active = id;
    S.unread.delete(id);
    persistTabs();
    renderLists();
    renderTabs();
    renderView();
    if (!S.details.has(id)) loadDetail(id);
    updateTitle();
  }

  function closeTab(id) {
    const index = S.tabs.indexOf(id);
    if (index === -1) return;
    if (id === S.active) saveDraft();
    S.tabs.splice(index, 1);
    S.unread.delete(id);
    if (S.active === id) {
      S.active = S.tabs[index] || S.tabs[index - 1] || null;
      closeMenu();
    }
    if (!S.mine.has(id)) S.details.delete(id);
    persistTabs();
    renderLists();
    renderTabs();
    renderView();
    if (S.active && !S.details.has(S.active)) loadDetail(S.active);
  }

  // What only this desk knows (the link from its close answer, a contact from a
  // ticket event) survives a reload of the conversation that leaves it out.
  function keepLocal(fresh, old) {
    const url = S.resumeUrls.get(fresh.id) || (old && old.resume_url);
    if (url && !fresh.resume_url) fresh.resume_url = url;
    const ticket = S.tickets.get(fresh.id);
    const contact = (old && old.contact) || (ticket && ticket.contact);
    if (contact && !fresh.contact) fresh.contact = contact;
  }

  function mergeEventMessages(d) {
    const extra = S.eventMessages.get(d.id) || [];
    for (const m of extra) {
      if (!d.messages.some((x) => x.id === m.id)) d.messages.push(m);
    }
    d.messages.sort((a, b) => a.id - b.id);
    clearPendingMatches(d.id, d.messages);
  }

  async function loadDetail(id) {
    try {
      const d = await api("GET", `/api/v1/handoffs/${encodeURIComponent(id)}`);
      d.messages = d.messages || [];
      keepLocal(d, S.details.get(id));
      mergeEventMessages(d);
      S.details.set(id, d);
      S.summaries.set(id, d);
      refreshView(id);
      renderTabs();
      renderLists();
    } catch (error) {
      if (error.handled) return;
      if (error.status === 404 || error.status === 403) {
        toast(`Cannot open this conversation: ${error.message}`, "error");
        closeTab(id);
      } else {
        report(error, "Could not load the conversation");
        if (id === S.active) renderView(error.message);
      }
    }
  }

  async function refreshDetail(id) {
    if (S.refreshing.has(id)) {
      S.refreshing.set(id, true);
      return;
    }
    S.refreshing.set(id, false);
    try {
      const fresh = await api("GET", `/api/v1/handoffs/${encodeURIComponent(id)}`);
      const old = S.details.get(id);
      if (!old && !S.tabs.includes(id)) return;
      fresh.messages = fresh.messages || [];
      if (old) {
        for (const m of old.messages) if (!fresh.messages.some((x) => x.id === m.id)) fresh.messages.push(m);
        if (old.survey && !fresh.survey) fresh.survey = old.survey;
      }
      keepLocal(fresh, old);
      mergeEventMessages(fresh);
      S.details.set(id, fresh);
      refreshView(id);
      renderTabs();
    } catch (error) {
      if (error.handled) return;
      if (error.status === 403 || error.status === 404) {
        if (S.tabs.includes(id)) {
          toast(`${titleOf(id)} is no longer visible to you, so its tab was closed.`, "info");
          closeTab(id);
        }
      } else {
        report(error, "Could not refresh the conversation");
      }
    } finally {
      const again = S.refreshing.get(id);
      S.refreshing.delete(id);
      if (again) refreshDetail(id);
    }
  }

  function pendingFor(id) {
    let map = S.pending.get(id);
    if (!map) { map = new Map(); S.pending.set(id, map); }
    return map;
  }

  function clearPendingMatches(id, messages) {
    const map = S.pending.get(id);
    if (!map) return;
    for (const [key, p] of map) {
      const matched = messages.some((m) =>
        (p.note ? m.role === "note" && m.author === S.me.id && m.text === p.text && p.confirmedId === m.id
                : m.role === "agent" && m.client_id && m.client_id === p.clientId));
      if (matched) map.delete(key);
    }
  }

  function addMessage(id, message) {
    const d = S.details.get(id);
    if (!d) return;
    if (!d.messages.some((m) => m.id === message.id)) {
      d.messages.push(message);
      d.messages.sort((a, b) => a.id - b.id);
    }
    clearPendingMatches(id, d.messages);
    if (id === S.active) renderTranscriptFor(id);
  }

  async function claim(id) {
    const button = $('[data-testid="claim-button"]');
    if (button) {
      button.disabled = true;
      button.textContent = "Claiming…";
    }
    try {
      const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/claim`);
      upsertSummary(summary);
      S.unread.delete(id);
      scheduleRender();
      await refreshDetail(id);
      const input = $("#composer-input");
      if (input && id === S.active) input.focus();
    } catch (error) {
      if (error.handled) return;
      toast(error.message, "error");
      if (button && button.isConnected) {
        button.disabled = false;
        button.textContent = "Claim conversation";
      }
      refreshWaiting();
      refreshDetail(id);
    }
  }

  function noteModeFor(d) {
    if (!d) return false;
    if (d.state === "assigned" && d.agent_id !== S.me.id) return true;
    return !!S.noteMode.get(d.id);
  }

  async function sendFromComposer() {
    const id = S.active;
    const d = S.details.get(id);
    const input = $("#composer-input");
    if (!d || !input) return;
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
    renderTranscriptFor(id, true);
    await deliver(id, p);
  }

  async function deliver(id, p) {
    p.status = "sending";
    p.error = null;
    if (id === S.active) renderTranscriptFor(id, true);
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
    if (id === S.active) renderTranscriptFor(id);
  }

  // ------------------------------------------------------------------- typing

  // Best effort: the user sees "typing…" while the agent writes a reply.
  function canType(d) {
    return !!(d && S.me && d.state === "assigned" && d.agent_id === S.me.id && !noteModeFor(d));
  }

  function postTyping(id, active) {
    // Errors are ignored; a 401 still signs out inside api().
    api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/typing`, { active }).catch(() => {});
  }

  function onTyping(input) {
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

  function stopTyping() {
    clearTimeout(typing.timer);
    typing.timer = null;
    const id = typing.id;
    const was = typing.active;
    typing.id = null;
    typing.active = false;
    if (was && id && S.token) postTyping(id, false);
  }

  function resetTyping() {
    clearTimeout(typing.timer);
    typing.timer = null;
    typing.id = null;
    typing.active = false;
    typing.lastSent = 0;
  }

  // ------------------------------------------------------------------ renders

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    // A timer rather than an animation frame: frames pause in background tabs,
    // and the page title must keep counting while the agent works elsewhere.
    setTimeout(() => {
      renderQueued = false;
      renderLists();
      renderTabs();
    }, 16);
  }

  function renderMe() {
    const me = S.me;
    $("#me-name").textContent = me.name;
    $("#me-title").textContent = me.title || "";
    const role = $("#me-role");
    role.textContent = me.role === "supervisor" ? "Supervisor" : "Agent";
    role.hidden = (me.title || "").trim().toLowerCase() === role.textContent.toLowerCase();
    role.classList.toggle("is-supervisor", me.role === "supervisor");
    $("#me-avatar").textContent = (me.name || "?").trim().charAt(0).toUpperCase();
    renderPresence(S.presence);
    renderFilterOptions();
    $("#mine-heading").firstChild.textContent = isSupervisor() ? "Assigned conversations " : "My conversations ";
  }

  function renderFilterOptions() {
    if (!S.me) return;
    const select = $("#queue-filter");
    const names = isSupervisor() && S.queues.size ? [...S.queues.keys()] : (S.me.queues || []).slice();
    const options = [el("option", { value: "", text: isSupervisor() ? "All queues" : "All my queues" })];
    for (const name of names) options.push(el("option", { value: name, text: teamOf(name), "data-queue": name }));
    select.replaceChildren(...options);
    if (S.filter && !names.includes(S.filter)) S.filter = "";
    select.value = S.filter;
    updateFilterCounts();
  }

  function updateFilterCounts() {
    const select = $("#queue-filter");
    const counts = new Map();
    for (const h of S.waiting.values()) counts.set(h.queue, (counts.get(h.queue) || 0) + 1);
    for (const option of select.options) {
      const queue = option.dataset.queue;
      if (!queue) continue;
      const n = counts.get(queue) || 0;
      const text = `${teamOf(queue)}${n ? ` (${n})` : ""}`;
      if (option.textContent !== text) option.textContent = text;
    }
  }

  function rememberFocus(container) {
    const active = document.activeElement;
    if (!active || !container.contains(active)) return null;
    const item = active.closest("[data-handoff-id]");
    return item ? { id: item.getAttribute("data-handoff-id"), cls: active.className } : null;
  }

  function restoreFocus(container, saved) {
    if (!saved) return;
    const item = container.querySelector(`[data-handoff-id="${CSS.escape(saved.id)}"]`);
    const target = item && (item.querySelector(`.${saved.cls.split(" ")[0]}`) || item.querySelector("button"));
    if (target) target.focus({ preventScroll: true });
  }

  function skeletonItems(n) {
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

  function triggerLabel(trigger) {
    const known = ["explicit", "cant_help", "fallback", "frustration", "resume"].includes(trigger);
    return el("span", {
      class: `trigger trigger-${known ? trigger : "other"}`,
      testid: "trigger-label",
      title: TRIGGER_HELP[trigger] || "Why the assistant handed over",
      text: TRIGGER_WORD[trigger] || trigger || "unknown",
    });
  }

  function waitLevel(seconds) {
    if (seconds >= WAIT_LATE) return "is-late";
    if (seconds >= WAIT_WARN) return "is-warn";
    return "";
  }

  function renderLists() {
    if (!S.me) return;
    renderQueue();
    renderFollowups();
    renderMine();
    renderLoad();
    updateFilterCounts();
    updateTitle();
    if (!S.active) renderView();
  }

  function renderQueue() {
    const list = $("#queue-list");
    const focus = rememberFocus(list);
    const all = [...S.waiting.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    const items = all.filter((h) => !S.filter || h.queue === S.filter);
    // The queue comes a page at a time (the longest waiting first): the count says how many wait in all.
    const more = S.waitingMore && !S.filter;
    $("#queue-count").textContent = more ? String(Math.max(S.waitingTotal, items.length)) : String(items.length);
    $("#queue-count").classList.toggle("is-hot", items.length > 0);
    list.setAttribute("aria-busy", S.listsLoaded ? "false" : "true");
    if (!S.listsLoaded) {
      list.replaceChildren(...skeletonItems(3));
      return;
    }
    if (!items.length) {
      list.replaceChildren(el("li", { class: "empty" }, [
        icon("inbox", "empty-icon"),
        el("strong", { text: "No one is waiting" }),
        el("span", { text: S.filter ? `Nothing waiting for the ${teamOf(S.filter)}.` : "New conversations appear here, with a sound." }),
      ]));
      return;
    }
    const now = nowSec();
    const rest = S.waitingMore ? [el("li", { class: "empty", testid: "queue-more" }, [
      el("span", { text: `Showing the ${all.length} waiting longest of ${Math.max(S.waitingTotal, all.length)}; ` +
        "the others appear here as these are taken." }),
    ])] : [];
    list.replaceChildren(...items.map((h) => {
      const last = S.lastText.get(h.id) || h.last_user_text;
      const wait = now - h.created_at;
      return el("li", {
        class: "item" + (h.id === S.active ? " is-active" : "") + (Date.now() - (S.fresh.get(h.id) || 0) < 2500 ? " is-new" : ""),
        testid: "queue-item",
        "data-handoff-id": h.id,
      }, [
        el("button", {
          type: "button",
          class: "item-btn",
          "aria-current": h.id === S.active ? "true" : null,
          onclick: () => openConversation(h.id),
        }, [
          el("span", { class: "item-row" }, [
            triggerLabel(h.trigger),
            el("span", { class: "item-team", text: teamOf(h.queue) }),
            el("span", {
              class: `wait ticker ${waitLevel(wait)}`,
              testid: "wait-time",
              "data-since": h.created_at,
              "data-levels": "1",
              title: `Waiting since ${fmtFull(h.created_at)}`,
              text: fmtDuration(wait),
            }),
          ]),
          el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user yet" }),
          el("span", { class: "item-meta" }, [
            el("span", { class: "meta-team", text: teamOf(h.queue) + " · " }),
            [h.sender_id, h.channel].filter(Boolean).join(" · "),
          ]),
        ]),
      ]);
    }), ...rest);
    restoreFocus(list, focus);
  }

  function ticketSince(h) {
    return h.ticket_at || h.contact_at || h.created_at;
  }

  function contactOf(h) {
    if (!h) return "";
    const ticket = S.tickets.get(h.id);
    return h.contact || (ticket && ticket.contact) || "";
  }

  function renderFollowups() {
    const list = $("#followups-list");
    const focus = rememberFocus(list);
    const items = [...S.tickets.values()].sort((a, b) => ticketSince(a) - ticketSince(b) || (a.id < b.id ? -1 : 1));
    const count = $("#followups-count");
    count.textContent = String(items.length);
    count.classList.toggle("is-follow", items.length > 0);
    list.setAttribute("aria-busy", S.listsLoaded ? "false" : "true");
    if (!S.listsLoaded) {
      list.replaceChildren(...skeletonItems(1));
      return;
    }
    if (!items.length) {
      list.replaceChildren(S.ticketsError
        ? el("li", { class: "empty-line is-error" }, [
          el("span", { text: `Follow-ups did not load: ${S.ticketsError}` }),
          el("button", { type: "button", class: "link-btn", text: "Retry", onclick: refreshTickets }),
        ])
        : el("li", { class: "empty-line", text: "No one is waiting for a call back." }));
      return;
    }
    const now = nowSec();
    list.replaceChildren(...items.map((h) => {
      const last = S.lastText.get(h.id) || h.last_user_text;
      const since = ticketSince(h);
      const contact = contactOf(h) || "No contact given";
      return el("li", {
        class: "item followup" + (h.id === S.active ? " is-active" : "") + (Date.now() - (S.fresh.get(h.id) || 0) < 2500 ? " is-new" : ""),
        testid: "followup-item",
        "data-handoff-id": h.id,
      }, [
        el("button", {
          type: "button",
          class: "item-btn",
          "aria-current": h.id === S.active ? "true" : null,
          "aria-label": `Call back ${contact}, ${titleOf(h.id)}, ${teamOf(h.queue)}, waiting ${fmtAge(now - since)}`,
          onclick: () => openConversation(h.id),
        }, [
          el("span", { class: "item-row" }, [
            icon(/^mailto:/.test(contactHref(contact) || "") ? "mail" : "phone", "followup-icon"),
            el("span", { class: "item-title followup-contact-text", text: contact }),
            el("span", {
              class: "age",
              "data-age-since": since,
              title: `Asked for a call back ${fmtFull(since)}`,
              text: fmtAge(now - since),
            }),
          ]),
          el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user" }),
          el("span", { class: "item-row item-meta" }, [
            el("span", { class: "item-team", text: teamOf(h.queue) }),
            el("span", { class: "followup-who", text: titleOf(h.id) }),
          ]),
        ]),
      ]);
    }));
    restoreFocus(list, focus);
  }

  function renderMine() {
    const list = $("#mine-list");
    const focus = rememberFocus(list);
    const me = S.me.id;
    const items = [...S.mine.values()].sort((a, b) => {
      const own = (b.agent_id === me) - (a.agent_id === me);
      return own || (a.claimed_at || 0) - (b.claimed_at || 0);
    });
    $("#mine-count").textContent = String(items.length);
    list.setAttribute("aria-busy", S.listsLoaded ? "false" : "true");
    if (!S.listsLoaded) {
      list.replaceChildren(...skeletonItems(2));
      return;
    }
    if (!items.length) {
      list.replaceChildren(el("li", { class: "empty" }, [
        icon("chat", "empty-icon"),
        el("strong", { text: isSupervisor() ? "No one is in a conversation" : "No conversations yet" }),
        el("span", { text: "Claim someone from the queue to start helping." }),
      ]));
      return;
    }
    const now = nowSec();
    list.replaceChildren(...items.map((h) => {
      const unread = S.unread.get(h.id) || 0;
      const last = S.lastText.get(h.id) || h.last_user_text;
      const own = h.agent_id === me;
      return el("li", {
        class: "item" + (h.id === S.active ? " is-active" : "") + (unread ? " has-unread" : "") +
          (Date.now() - (S.fresh.get(h.id) || 0) < 2500 ? " is-new" : ""),
        testid: "mine-item",
        "data-handoff-id": h.id,
      }, [
        el("button", {
          type: "button",
          class: "item-btn",
          "aria-current": h.id === S.active ? "true" : null,
          "aria-label": `${titleOf(h.id)}, ${own ? "assigned to you" : "assigned to " + agentName(h.agent_id)}${h.trigger === "resume" ? ", resumed" : ""}${unread ? `, ${unread} unread` : ""}`,
          onclick: () => openConversation(h.id),
        }, [
          el("span", { class: "item-row" }, [
            el("span", { class: "item-title", text: titleOf(h.id) }),
            unread ? el("span", { class: "badge", testid: "unread-badge", text: String(unread) }) : null,
            el("span", {
              class: "since ticker",
              "data-since": h.claimed_at || h.created_at,
              title: h.claimed_at ? `With an agent since ${fmtFull(h.claimed_at)}` : "",
              text: fmtDuration(now - (h.claimed_at || h.created_at)),
            }),
          ]),
          el("span", { class: "item-text" + (last ? "" : " is-muted"), text: last ? `“${last}”` : "No message from the user yet" }),
          el("span", { class: "item-row item-meta" }, [
            el("span", {
              class: "assignee" + (own ? " is-self" : ""),
              testid: "assignee",
              text: own ? "assigned to you" : `assigned to ${agentName(h.agent_id)}`,
            }),
            h.trigger === "resume" ? triggerLabel(h.trigger) : null,
            el("span", { class: "item-team", text: teamOf(h.queue) }),
          ]),
        ]),
      ]);
    }));
    restoreFocus(list, focus);
  }

  function renderLoad() {
    if (!S.me) return;
    let load = 0;
    for (const h of S.mine.values()) if (h.agent_id === S.me.id) load += 1;
    const meter = $("#load-meter");
    const cap = S.me.capacity || 0;
    meter.textContent = `${load} of ${cap}`;
    meter.title = `You have ${load} of at most ${cap} conversations`;
    meter.classList.toggle("is-full", cap > 0 && load >= cap);
  }

  function updateTitle() {
    const waiting = [...S.waiting.values()].filter((h) => !S.filter || h.queue === S.filter).length;
    let unread = 0;
    for (const n of S.unread.values()) unread += n;
    const count = waiting + unread;
    document.title = count ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
  }

  function stateDotClass(s) {
    if (!s) return "dot";
    return `dot dot-${s.state}`;
  }

  function renderTabs() {
    const nav = $("#tabs");
    const focus = rememberFocus(nav);
    nav.hidden = S.tabs.length === 0;
    nav.replaceChildren(...S.tabs.map((id) => {
      const s = summaryOf(id);
      const unread = S.unread.get(id) || 0;
      const active = id === S.active;
      const title = titleOf(id);
      return el("div", {
        class: "tab" + (active ? " is-active" : "") + (unread ? " has-unread" : ""),
        testid: "conv-tab",
        "data-handoff-id": id,
      }, [
        el("button", {
          type: "button",
          class: "tab-btn",
          "aria-current": active ? "page" : null,
          title: s ? `${title} · ${teamOf(s.queue)} · ${STATE_WORD[s.state] || s.state}` : title,
          onclick: () => openConversation(id),
        }, [
          el("span", { class: stateDotClass(s), "aria-hidden": "true" }),
          el("span", { class: "tab-title", text: title }),
          unread ? el("span", { class: "badge", testid: "unread-badge", text: String(unread), "aria-label": `${unread} unread` }) : null,
        ]),
        el("button", {
          type: "button",
          class: "tab-close",
          "aria-label": `Close tab ${title}`,
          title: "Close tab",
          text: "×",
          onclick: () => closeTab(id),
        }),
      ]);
    }));
    restoreFocus(nav, focus);
  }

  // ------------------------------------------------------------ conversation

  function emptyWorkspace() {
    const waiting = S.waiting.size;
    return el("div", { class: "workspace-empty" }, [
      icon("chat", "empty-icon empty-icon-lg"),
      el("h2", { text: "Pick a conversation" }),
      el("p", {
        text: waiting
          ? `${waiting} ${waiting === 1 ? "person is" : "people are"} waiting. Open one from the queue to read the context and claim it.`
          : "When someone needs a person, they appear in the queue on the left. You can keep several conversations open as tabs.",
      }),
    ]);
  }

  function loadingView(error) {
    if (error) {
      return el("div", { class: "workspace-empty" }, [
        el("h2", { text: "This conversation did not load" }),
        el("p", { text: error }),
        el("button", { type: "button", class: "btn btn-primary", text: "Try again", onclick: () => loadDetail(S.active) }),
      ]);
    }
    return el("div", { class: "conv-loading", "aria-busy": "true" }, [
      el("div", { class: "spinner", "aria-hidden": "true" }),
      el("span", { text: "Loading the conversation…" }),
    ]);
  }

  function viewSig(d) {
    if (!d) return "";
    return [d.id, d.state, d.agent_id, d.queue, d.resolution, d.close_note, d.survey ? JSON.stringify(d.survey) : "",
      d.resume_url || "", contactOf(d), S.me.id].join("|");
  }

  function refreshView(id) {
    if (id !== S.active) return;
    const d = S.details.get(id);
    if (d && S.renderedSig === viewSig(d) && $('[data-testid="conversation"]')) {
      renderTranscriptFor(id);
      return;
    }
    renderView();
  }

  function renderView(error) {
    const host = $("#conv-host");
    S.renderedSig = null;
    const id = S.active;
    const focused = document.activeElement && document.activeElement.id === "composer-input";
    saveDraft();
    closeMenu();
    if (typing.id && !(typing.id === id && canType(S.details.get(id)))) stopTyping();
    if (!id) {
      host.replaceChildren(emptyWorkspace());
      return;
    }
    const d = S.details.get(id);
    if (!d) {
      host.replaceChildren(loadingView(typeof error === "string" ? error : null));
      return;
    }
    const view = el("section", {
      class: `conversation state-${d.state}`,
      testid: "conversation",
      "data-handoff-id": id,
      "data-state": d.state,
      "aria-label": `Conversation with ${titleOf(id)}`,
      tabindex: "-1",
    }, [convHead(d), briefEl(d), transcriptEl(), footerEl(d)]);
    host.replaceChildren(view);
    S.renderedSig = viewSig(d);
    renderTranscriptFor(id, true);
    const input = $("#composer-input");
    if (input && focused) input.focus();
  }

  function convHead(d) {
    const mineNow = d.state === "assigned" && d.agent_id === S.me.id;
    const canAct = d.state === "assigned" && (mineNow || isSupervisor());
    let status;
    if (d.state === "queued") {
      status = el("span", { class: "state-pill state-pill-queued" }, [
        "Waiting ",
        el("span", { class: "ticker", "data-since": d.created_at, text: fmtDuration(nowSec() - d.created_at) }),
      ]);
    } else if (d.state === "assigned") {
      status = el("span", { class: "state-pill state-pill-assigned" },
        mineNow ? `With you since ${fmtClock(d.claimed_at)}` : `With ${agentName(d.agent_id)} since ${fmtClock(d.claimed_at)}`);
    } else if (d.state === "no_agent") {
      status = el("span", { class: "state-pill state-pill-followup" }, `Follow-up · asked ${fmtClock(ticketAt(d))}`);
    } else if (d.state === "cancelled") {
      status = el("span", { class: "state-pill state-pill-closed" }, "Cancelled by the user");
    } else if (d.state === "abandoned") {
      status = el("span", { class: "state-pill state-pill-closed" }, "Ended · the user went silent");
    } else {
      status = el("span", { class: "state-pill state-pill-closed" },
        `Closed${d.resolution ? " · " + humanize(d.resolution) : ""}`);
    }
    const meta = [teamOf(d.queue), d.channel ? `via ${d.channel}` : null, d.sender_id !== titleOf(d.id) ? d.sender_id : null]
      .filter(Boolean).join(" · ");
    return el("header", { class: "conv-head" }, [
      el("div", { class: "conv-title" }, [
        el("h2", { text: titleOf(d.id) }),
        el("div", { class: "conv-meta" }, [status, el("span", { text: meta })]),
      ]),
      canAct ? el("div", { class: "conv-actions" }, [
        el("button", {
          type: "button", class: "btn btn-secondary", testid: "transfer-button",
          onclick: () => openTransfer(d.id),
        }, [icon("transfer"), "Transfer"]),
        el("button", {
          type: "button", class: "btn btn-secondary btn-close-conv", testid: "close-button",
          onclick: () => openClose(d.id),
        }, [icon("check"), "Close"]),
      ]) : null,
    ]);
  }

  function ticketAt(d) {
    const t = (d.transitions || []).slice().reverse().find((x) => x.to_state === "no_agent");
    return (t && t.at) || ticketSince(d);
  }

  function chip(text, cls, title) {
    return el("span", { class: "chip" + (cls ? " " + cls : ""), text, title: title || null });
  }

  function briefCard(title, body, cls) {
    return el("div", { class: "brief-card" + (cls ? " " + cls : "") }, [el("h4", { text: title }), body]);
  }

  function briefEl(d) {
    const ctx = d.context || {};
    const reasons = (d.reasons && d.reasons.length ? d.reasons : ctx.reasons) || [];
    const frustration = ctx.frustration;

    const why = el("div", { class: "brief-why" }, [
      el("div", { class: "chip-row" }, [triggerLabel(d.trigger || ctx.trigger), ...reasons.map((r) => chip(humanize(r), "chip-reason", r))]),
    ]);
    if (frustration && typeof frustration.score === "number") {
      const score = frustration.score;
      const level = score >= 3 ? "high" : score >= 1 ? "elevated" : "calm";
      const segments = [];
      for (let i = 1; i <= 6; i++) segments.push(el("span", { class: "seg" + (i <= score ? " on" : "") }));
      why.append(el("div", { class: `frustration frustration-${level}`, title: "Frustration signals found by the assistant; 3 or more hands over on its own" }, [
        el("span", { class: "frustration-label", text: "Frustration" }),
        el("span", { class: "meter", "aria-hidden": "true" }, segments),
        el("strong", { text: `${score} · ${level}` }),
      ]));
      const extra = (frustration.reasons || []).filter((r) => !reasons.includes(r));
      if (extra.length) why.append(el("div", { class: "chip-row" }, extra.map((r) => chip(humanize(r), "chip-soft", r))));
    } else {
      why.append(el("div", { class: "frustration frustration-none" }, [
        el("span", { class: "frustration-label", text: "Frustration" }),
        el("span", { class: "muted", text: "not measured" }),
      ]));
    }

    const intents = (ctx.recent_intents || []).slice(-5);
    const wanted = intents.length
      ? el("ol", { class: "brief-list" }, intents.map((i) => {
        const conf = typeof i.confidence === "number" ? Math.round(i.confidence * 100) : null;
        return el("li", {}, [
          el("span", { class: "quote", text: `“${i.text}”` }),
          el("span", { class: "intent" }, [
            el("code", { text: i.intent || "unknown" }),
            conf !== null ? el("span", { class: "conf" + (conf < 60 ? " is-low" : ""), text: `${conf}%` }) : null,
          ]),
        ]);
      }))
      : el("p", { class: "muted", text: "The assistant recorded no requests." });

    const botTurns = (ctx.transcript || []).filter((t) => t.role === "bot").slice(-3);
    const tried = botTurns.length
      ? el("ul", { class: "brief-list" }, botTurns.map((t) => el("li", {}, [
        el("span", { class: "bot-said", text: t.text }),
        el("time", { class: "muted", text: fmtClock(entrySeconds(t)) }),
      ])))
      : el("p", { class: "muted", text: "The assistant answered nothing before handing over." });

    const rows = [];
    const slots = ctx.slots || {};
    for (const [key, value] of Object.entries(slots)) {
      if (value === null || value === undefined || value === "") continue;
      const shown = Array.isArray(value) ? value.join(", ") : typeof value === "object" ? JSON.stringify(value) : String(value);
      rows.push(el("dt", { text: humanize(key) }), el("dd", { text: shown }));
    }
    rows.push(el("dt", { text: "Channel" }), el("dd", { text: d.channel || ctx.channel || "unknown" }));
    rows.push(el("dt", { text: "Sender" }), el("dd", { class: "mono", text: d.sender_id || ctx.sender_id || "" }));
    if (ctx.language) rows.push(el("dt", { text: "Language" }), el("dd", { text: ctx.language }));
    rows.push(el("dt", { text: "Queue" }), el("dd", { text: teamOf(d.queue) }));

    const collapsed = S.briefCollapsed;
    const grid = el("div", { class: "brief-grid", id: "brief-grid", hidden: collapsed }, [
      briefCard("Why they are here", why),
      briefCard("What they wanted", wanted),
      briefCard("What the assistant tried", tried),
      briefCard("Details", el("dl", { class: "kv" }, rows)),
      previousEl(d),
    ]);
    const toggle = el("button", {
      type: "button",
      class: "link-btn brief-toggle",
      "aria-expanded": collapsed ? "false" : "true",
      "aria-controls": "brief-grid",
      text: collapsed ? "Show" : "Hide",
      onclick: () => {
        S.briefCollapsed = !S.briefCollapsed;
        store.set(STORE_KEYS.brief, S.briefCollapsed ? "1" : "0");
        grid.hidden = S.briefCollapsed;
        toggle.textContent = S.briefCollapsed ? "Show" : "Hide";
        toggle.setAttribute("aria-expanded", S.briefCollapsed ? "false" : "true");
        section.classList.toggle("is-collapsed", S.briefCollapsed);
      },
    });
    const summaryLine = el("span", { class: "brief-summary" }, [
      triggerLabel(d.trigger || ctx.trigger),
      el("span", { text: intents.length ? `“${intents[intents.length - 1].text}”` : "" }),
    ]);
    const section = el("section", { class: "brief" + (collapsed ? " is-collapsed" : ""), testid: "brief", "aria-label": "Context brief" }, [
      el("div", { class: "brief-head" }, [el("h3", { text: "Context from the assistant" }), summaryLine, toggle]),
      grid,
    ]);
    return section;
  }

  // The same user's other conversations (those this agent may see), each opening its record.
  function previousEl(d) {
    if (!Array.isArray(d.previous)) return null;
    const items = d.previous.map((h) => el("li", {}, [
      el("a", { href: `/desk/insights#history?handoff=${encodeURIComponent(h.id)}`, testid: "previous-conversation",
        target: INSIGHTS_TAB, rel: "opener", "data-handoff-id": h.id, text: fmtFull(h.created_at) }),
      el("span", { class: "muted", text: `${teamOf(h.queue)} · ${h.resolution ? humanize(h.resolution) : humanize(h.state)}` }),
    ]));
    return el("div", { class: "brief-card", testid: "previous-conversations" }, [
      el("h4", { text: "Previous conversations" }),
      items.length ? el("ul", { class: "brief-list" }, items) : el("p", { class: "muted", text: "None: this is their first." }),
    ]);
  }

  function transcriptEl() {
    const wrap = el("div", { class: "transcript-wrap" });
    const log = el("div", { class: "transcript", testid: "transcript", role: "log", "aria-label": "Transcript", tabindex: "0" });
    const jump = el("button", {
      type: "button", class: "jump-btn", hidden: true,
      onclick: () => { log.scrollTop = log.scrollHeight; jump.hidden = true; },
    }, [icon("down"), "New messages"]);
    log.addEventListener("scroll", () => {
      if (log.scrollHeight - log.scrollTop - log.clientHeight < 40) jump.hidden = true;
    });
    wrap.append(log, jump);
    return wrap;
  }

  function authorLabel(entry, d) {
    switch (entry.role) {
      case "bot": return "Assistant";
      case "system": return "Automatic update to the user";
      case "user": return userNameOf(d) || "User";
      case "agent":
      case "note": {
        if (!entry.author || entry.author === "agent" || entry.author === "note") return "Agent";
        return entry.author === S.me.id ? `${S.me.name} (you)` : agentName(entry.author);
      }
      default: return humanize(entry.role);
    }
  }

  function systemEl(entry, d) {
    const sec = entrySeconds(entry);
    return el("article", {
      class: "msg msg-system",
      testid: "msg",
      "data-role": "system",
      "data-message-id": entry.id !== undefined ? entry.id : null,
      title: "Sent automatically by the connector while the user waited",
    }, [
      el("span", { class: "msg-who", text: authorLabel(entry, d) }),
      el("span", { class: "msg-body", text: entry.text || "" }),
      sec !== null ? el("time", { datetime: new Date(sec * 1000).toISOString(), title: fmtFull(sec), text: fmtClock(sec) }) : null,
    ]);
  }

  function msgEl(entry, d, pending) {
    const role = entry.role;
    if (role === "system" && !pending) return systemEl(entry, d);
    const sec = entrySeconds(entry);
    const node = el("article", {
      class: `msg msg-${role}` + (pending ? ` is-${pending.status}` : ""),
      testid: "msg",
      "data-role": role,
      "data-message-id": entry.id !== undefined ? entry.id : null,
    }, [
      role === "note" ? el("div", { class: "note-flag" }, [icon("lock"), "Internal note, not sent to the user"]) : null,
      el("div", { class: "msg-head" }, [
        el("span", { class: "msg-who", text: authorLabel(entry, d) }),
        sec !== null ? el("time", { datetime: new Date(sec * 1000).toISOString(), title: fmtFull(sec), text: fmtClock(sec) }) : null,
      ]),
      el("div", { class: "msg-body", text: entry.text || "" }),
    ]);
    if (entry.late && entry.sent_at) {
      // Recovered after an outage: it was written earlier than it arrived.
      node.classList.add("is-late");
      node.append(el("div", { class: "msg-status", testid: "msg-late",
        text: `Sent at ${fmtClock(entry.sent_at)}; reached you late` }));
    }
    if (entry.undelivered) {
      node.append(el("div", { class: "msg-status is-error", testid: "msg-undelivered",
        text: `Not delivered to the user: ${entry.undelivered}` }));
    }
    if (pending) {
      if (pending.status === "sending") {
        node.append(el("div", { class: "msg-status", text: "Sending…" }));
      } else if (pending.status === "failed") {
        node.append(el("div", { class: "msg-status is-error" }, [
          el("span", { text: `Not sent: ${pending.error}` }),
          el("button", {
            type: "button", class: "link-btn", text: "Retry",
            onclick: () => deliver(d.id, pending),
          }),
          el("button", {
            type: "button", class: "link-btn", text: "Discard",
            onclick: () => { pendingFor(d.id).delete(pending.key); renderTranscriptFor(d.id); },
          }),
        ]));
      }
    }
    return node;
  }

  function transitionText(t, d) {
    const actor = t.actor && t.actor.startsWith("agent:") ? agentName(t.actor.slice(6)) : null;
    const resumed = d && d.trigger === "resume";
    if (resumed && t.to_state === "assigned" && t.actor === "link") {
      return `Came back through a link · straight to ${d.agent_id ? agentName(d.agent_id) : "the same agent"}`;
    }
    if (resumed && t.from_state === "requested" && t.to_state === "queued") {
      const direct = (d.transitions || []).some((x) => x.actor === "link");
      return direct ? null : "Came back through a link · waiting in the queue";
    }
    if (t.from_state === "requested" && t.to_state === "queued") return "Handed over to a person · waiting in the queue";
    if (t.from_state === "queued" && t.to_state === "assigned") return `${actor || "An agent"} joined the conversation`;
    if (t.from_state === "transferred" && t.to_state === "queued") return `${actor || "An agent"} passed the conversation back to a queue`;
    if (t.from_state === "transferred" && t.to_state === "assigned") return `${actor || "An agent"} transferred the conversation`;
    if (t.from_state === "no_agent" && t.to_state === "closed") return `${actor || "An agent"} marked the follow-up done`;
    if (t.to_state === "closed") return `${actor || "An agent"} closed the conversation`;
    if (t.to_state === "returned") return "The assistant took the conversation back";
    if (t.to_state === "no_agent") return "Nobody was free · the user left a contact for a call back";
    if (t.to_state === "cancelled") return "The user went back to the assistant";
    if (t.to_state === "abandoned") return "The user went silent · the conversation was ended";
    return null;
  }

  function renderTranscriptFor(id, forceBottom) {
    if (id !== S.active) return;
    const d = S.details.get(id);
    const log = $('[data-testid="transcript"]');
    if (!d || !log) return;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;

    const items = [];
    const earlier = (d.transcript || []).filter((t) => t.id === undefined || t.id === null);
    if (earlier.length) {
      const label = d.trigger === "resume" ? "Earlier, before the link" : "With the assistant";
      items.push({ key: "divider", build: () => el("div", { class: "divider" }, [el("span", { text: label })]) });
    }
    earlier.forEach((entry, i) => items.push({ key: `b${i}|${authorLabel(entry, d)}`, build: () => msgEl(entry, d) }));

    const live = [];
    for (const m of d.messages || []) live.push({ kind: "msg", at: entrySeconds(m) || 0, order: 1, id: m.id, entry: m });
    for (const t of d.transitions || []) {
      const text = transitionText(t, d);
      if (text) live.push({ kind: "event", at: t.at || 0, order: 0, id: 0, text });
    }
    live.sort((a, b) => a.at - b.at || a.order - b.order || a.id - b.id);
    for (const item of live) {
      if (item.kind === "msg") {
        const flags = `${item.entry.late ? "late" : ""}|${item.entry.undelivered ? "undelivered" : ""}`;
        items.push({ key: `m${item.id}|${authorLabel(item.entry, d)}|${flags}`, build: () => msgEl(item.entry, d) });
      } else {
        items.push({
          key: `e${item.at}|${item.text}`,
          build: () => el("div", { class: "event-line" }, [el("span", { text: `${item.text} · ${fmtClock(item.at)}` })]),
        });
      }
    }
    const pending = S.pending.get(id);
    if (pending) {
      for (const p of pending.values()) {
        items.push({
          key: `p${p.key}|${p.status}|${p.error || ""}`,
          build: () => msgEl({ role: p.note ? "note" : "agent", author: S.me.id, text: p.text, created_at: p.at }, d, p),
        });
      }
    }

    const children = [...log.children];
    let same = 0;
    while (same < items.length && same < children.length && children[same].dataset.key === items[same].key) same += 1;
    for (let j = children.length - 1; j >= same; j -= 1) children[j].remove();
    let added = 0;
    for (let j = same; j < items.length; j += 1) {
      const node = items[j].build();
      node.dataset.key = items[j].key;
      if (node.classList.contains("msg") && j >= children.length) added += 1;
      log.append(node);
    }
    const jump = log.parentElement.querySelector(".jump-btn");
    if (forceBottom || nearBottom) {
      log.scrollTop = log.scrollHeight;
      if (jump) jump.hidden = true;
    } else if (added > 0 && jump) {
      jump.hidden = false;
    }
  }

  function footerEl(d) {
    if (d.state === "queued") {
      const load = [...S.mine.values()].filter((h) => h.agent_id === S.me.id).length;
      const full = S.me.capacity && load >= S.me.capacity;
      return el("div", { class: "claim-panel" }, [
        el("div", { class: "claim-text" }, [
          el("strong", { text: `${titleOf(d.id)} is waiting for the ${teamOf(d.queue)}.` }),
          el("span", {
            text: full
              ? `You already have ${load} of ${S.me.capacity} conversations; close or transfer one first.`
              : "Claim it to reply. The user is told who you are, and no one else can take it.",
          }),
        ]),
        el("button", {
          type: "button", class: "btn btn-primary btn-lg", testid: "claim-button",
          onclick: () => claim(d.id),
        }, "Claim conversation"),
      ]);
    }
    if (d.state === "no_agent") return followupEl(d);
    if (d.state === "assigned") {
      if (d.agent_id === S.me.id || isSupervisor()) return composerEl(d);
      return el("div", { class: "readonly-panel" }, [
        el("strong", { text: `${agentName(d.agent_id)} is handling this conversation.` }),
        el("span", { text: "You can read along; only they can reply." }),
        el("button", { type: "button", class: "btn btn-secondary", text: "Close tab", onclick: () => closeTab(d.id) }),
      ]);
    }
    return closedEl(d);
  }

  function followupEl(d) {
    const contact = contactOf(d);
    const href = contactHref(contact);
    return el("div", { class: "followup-panel" }, [
      icon(href && href.startsWith("mailto:") ? "mail" : "phone", "followup-panel-icon"),
      el("div", { class: "followup-text" }, [
        el("strong", { class: "followup-contact", testid: "followup-contact" }, [
          "Call back: ",
          contact ? (href ? el("a", { href, text: contact }) : contact) : "no contact given",
        ]),
        el("span", {
          text: `Nobody was free when ${titleOf(d.id)} asked for a person, so they left this for the ${teamOf(d.queue)}. ` +
            "They are not connected to a chat now: reach them directly, then mark it done.",
        }),
      ]),
      el("button", {
        type: "button", class: "btn btn-primary", testid: "followup-done",
        onclick: () => openClose(d.id),
      }, [icon("check"), "Mark done"]),
    ]);
  }

  function copyText(text, button) {
    const done = () => {
      const before = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { if (button.isConnected) button.textContent = before; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => toast("Could not copy; select the link and copy it by hand.", "error"));
      return;
    }
    const area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    try { document.execCommand("copy"); done(); } catch (error) { toast("Could not copy; select the link and copy it by hand.", "error"); }
    area.remove();
    button.focus();
  }

  function closedEl(d) {
    const survey = d.survey;
    const ended = d.state === "cancelled" || d.state === "abandoned";
    const followup = !!contactOf(d);
    let surveyNode;
    if (survey) {
      const stars = [];
      for (let i = 1; i <= 5; i++) stars.push(icon("star", i <= (survey.rating || 0) ? "star on" : "star"));
      surveyNode = el("div", { class: "survey", testid: "survey" }, survey.skipped
        ? [el("span", { class: "survey-label", text: "Survey" }), el("span", { class: "muted", text: "The user skipped the survey." })]
        : [
          el("span", { class: "survey-label", text: "Survey" }),
          el("span", { class: "stars", "aria-label": `Rated ${survey.rating} out of 5` }, stars),
          el("strong", { text: `${survey.rating}/5` }),
          survey.comment ? el("q", { class: "survey-comment", text: survey.comment }) : null,
        ]);
    } else if (ended || followup) {
      surveyNode = null;
    } else {
      surveyNode = el("div", { class: "survey-wait muted", text: "The user's feedback shows here when they answer the survey." });
    }
    const closedBy = (d.transitions || []).slice().reverse().find((t) => t.to_state === "closed");
    const by = closedBy && closedBy.actor && closedBy.actor.startsWith("agent:") ? agentName(closedBy.actor.slice(6)) : null;
    let heading = `Closed${d.resolution ? ": " + humanize(d.resolution) : ""}`;
    if (d.state === "cancelled") heading = "Cancelled: the user went back to the assistant";
    else if (d.state === "abandoned") heading = "Ended: the user went silent";
    else if (followup) heading = `Follow-up done${d.resolution ? ": " + humanize(d.resolution) : ""}`;
    const url = d.resume_url || S.resumeUrls.get(d.id);
    let linkNode = null;
    if (url) {
      const copy = el("button", { type: "button", class: "link-btn", text: "Copy" });
      copy.addEventListener("click", () => copyText(url, copy));
      linkNode = el("p", { class: "resume-sent", testid: "resume-link-sent" }, [
        el("span", { class: "resume-label", text: "Link sent: " }),
        el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }),
        copy,
      ]);
    }
    return el("div", { class: "closed-panel" }, [
      el("div", { class: "closed-head" }, [
        icon("check", "closed-icon"),
        el("div", {}, [
          el("strong", { text: heading }),
          el("span", { class: "muted", text: [by ? `by ${by}` : null, d.closed_at ? fmtFull(d.closed_at) : null, d.state === "returned" ? "back with the assistant" : null].filter(Boolean).join(" · ") }),
        ]),
      ]),
      d.close_note ? el("p", { class: "close-note" }, [el("span", { class: "muted", text: "Closing note: " }), d.close_note]) : null,
      linkNode,
      surveyNode,
    ]);
  }

  function composerEl(d) {
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

  function autosize(input) {
    if (!input) return;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 220) + "px";
  }

  // ------------------------------------------------------------ saved replies

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

  function matchReplies(query) {
    const q = query.toLowerCase();
    if (!q) return S.replies.slice();
    const starts = S.replies.filter((r) => r.shortcut.toLowerCase().startsWith(q));
    const contains = S.replies.filter((r) => !starts.includes(r) &&
      (r.shortcut.toLowerCase().includes(q) || (r.title || "").toLowerCase().includes(q)));
    return starts.concat(contains);
  }

  function openMenu(mode, query) {
    const box = $("#saved-menu");
    if (!box) return;
    const sameQuery = menu.open && menu.mode === mode && menu.query === query;
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

  function renderMenu() {
    const box = $("#saved-menu");
    const input = $("#composer-input");
    if (!box) return;
    const d = S.details.get(S.active);
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
      ]),
      el("span", { class: "saved-text", text: fillPlaceholders(r.text, d) }),
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

  function closeMenu() {
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

  function pickReply(reply) {
    const input = $("#composer-input");
    if (!input || !reply) return;
    const d = S.details.get(S.active);
    const text = fillPlaceholders(reply.text, d);
    if (menu.mode === "slash" || /^\/[\w-]*$/.test(input.value)) {
      input.value = text;
      input.setSelectionRange(text.length, text.length);
    } else {
      const start = input.selectionStart ?? input.value.length;
      const end = input.selectionEnd ?? input.value.length;
      const before = input.value.slice(0, start);
      const spacer = before && !/\s$/.test(before) ? " " : "";
      input.setRangeText(spacer + text, start, end, "end");
    }
    closeMenu();
    menu.dismissed = false;
    S.drafts.set(S.active, input.value);
    autosize(input);
    onTyping(input);
    input.focus();
  }

  // --------------------------------------------------------------------- team

  const PRESENCE_ORDER = { online: 0, away: 1, offline: 2 };

  function toggleTeam() {
    if (team.open) closeTeam(true);
    else openTeam();
  }

  function openTeam() {
    closeMenu();
    team.open = true;
    $("#team-panel").hidden = false;
    $("#team-button").setAttribute("aria-expanded", "true");
    renderTeam();
    $("#team-panel").focus();
    loadAgents();
  }

  function closeTeam(returnFocus) {
    const wasOpen = team.open;
    team.open = false;
    clearTimeout(team.timer);
    const panel = $("#team-panel");
    if (!panel) return;
    panel.hidden = true;
    $("#team-button").setAttribute("aria-expanded", "false");
    if (returnFocus && wasOpen) $("#team-button").focus();
  }

  // Presence, load and ratings change on the server; while the list is open, fetch them again.
  function teamChanged() {
    if (!team.open) return;
    clearTimeout(team.timer);
    team.timer = setTimeout(() => { if (team.open) loadAgents(); }, 300);
  }

  function averageStars(average, count) {
    const base = [];
    const fill = [];
    for (let i = 0; i < 5; i++) {
      base.push(icon("star", "star"));
      fill.push(icon("star", "star on"));
    }
    const over = el("span", { class: "stars-fill" }, fill);
    over.style.width = `${Math.max(0, Math.min(5, average)) * 20}%`;
    return el("span", {
      class: "stars stars-avg",
      role: "img",
      "aria-label": `Average ${average.toFixed(1)} out of 5 from ${count} ${count === 1 ? "survey" : "surveys"}`,
    }, [el("span", { class: "stars-base" }, base), over]);
  }

  function surveyCell(agent) {
    const survey = agent.survey || {};
    const count = typeof survey.count === "number" ? survey.count : 0;
    const average = typeof survey.average === "number" ? survey.average : null;
    if (average === null || !count) {
      return el("span", { class: "team-survey is-empty", testid: "team-survey", title: "No rated surveys yet" }, [
        el("span", { class: "muted", text: "No ratings yet" }),
      ]);
    }
    return el("span", { class: "team-survey", testid: "team-survey", title: `${count} rated ${count === 1 ? "survey" : "surveys"}` }, [
      averageStars(average, count),
      el("strong", { class: "team-avg", text: average.toFixed(1) }),
      el("span", { class: "team-count muted", text: `(${count})` }),
    ]);
  }

  function renderTeam() {
    const list = $("#team-list");
    if (!list || !S.me) return;
    list.setAttribute("aria-busy", team.loaded ? "false" : "true");
    if (team.error && !team.loaded) {
      list.replaceChildren(el("li", { class: "empty-line is-error" }, [
        el("span", { text: `The team list did not load: ${team.error}` }),
        el("button", { type: "button", class: "link-btn", text: "Retry", onclick: () => { team.error = null; renderTeam(); loadAgents(); } }),
      ]));
      return;
    }
    if (!team.loaded) {
      list.replaceChildren(...skeletonItems(3));
      return;
    }
    const agents = [...S.agents.values()].filter((a) => a.name).sort((a, b) =>
      (PRESENCE_ORDER[a.presence] ?? 3) - (PRESENCE_ORDER[b.presence] ?? 3) || a.name.localeCompare(b.name));
    if (!agents.length) {
      list.replaceChildren(el("li", { class: "empty-line", text: "No agents are set up." }));
      return;
    }
    list.replaceChildren(...agents.map((a) => {
      const presence = a.presence || "offline";
      const self = a.id === S.me.id;
      const hasLoad = typeof a.load === "number";
      const full = hasLoad && a.capacity && a.load >= a.capacity;
      return el("li", { class: "team-row", testid: "team-row", "data-agent-id": a.id }, [
        el("span", { class: `team-dot is-${presence}`, title: PRESENCE_WORD[presence] || presence, "aria-hidden": "true" }),
        el("span", { class: "team-who" }, [
          el("span", { class: "team-name" }, [
            el("strong", { text: a.name }),
            self ? el("span", { class: "muted", text: " (you)" }) : null,
            a.role === "supervisor" && (a.title || "").toLowerCase() !== "supervisor"
              ? el("span", { class: "role-pill is-supervisor", text: "Supervisor" }) : null,
          ]),
          el("span", { class: "team-sub" }, [
            el("span", { class: `team-presence is-${presence}`, text: PRESENCE_WORD[presence] || presence }),
            a.title ? ` · ${a.title}` : "",
          ]),
        ]),
        el("span", {
          class: "team-load" + (full ? " is-full" : ""),
          title: hasLoad ? `${a.load} of at most ${a.capacity} conversations` : "",
          text: hasLoad ? `${a.load}/${a.capacity}` : "–",
        }),
        surveyCell(a),
      ]);
    }));
  }

  // ------------------------------------------------------------------ dialogs

  let dialogHandoff = null;
  let dialogReturnFocus = null;

  function showDialog(dialog) {
    dialogReturnFocus = document.activeElement;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function hideDialog(dialog) {
    if (dialog.open) dialog.close();
  }

  function setFormError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function fillTransferTargets(d) {
    const select = $("#transfer-target");
    const keep = select.value;
    const people = [...S.agents.values()]
      .filter((a) => a.id !== S.me.id && a.id !== d.agent_id && a.name)
      .sort((a, b) => (a.presence === "online" ? 0 : 1) - (b.presence === "online" ? 0 : 1) || a.name.localeCompare(b.name));
    const queues = [...S.queues.values()];
    const placeholder = el("option", { value: "", text: "Choose a person or a team…" });
    const peopleGroup = el("optgroup", { label: "People" }, people.map((a) => {
      const load = typeof a.load === "number" && a.capacity ? ` · ${a.load}/${a.capacity}` : "";
      const full = typeof a.load === "number" && a.capacity && a.load >= a.capacity ? " · full" : "";
      return el("option", {
        value: `agent:${a.id}`,
        text: `${a.name}, ${a.title || "agent"} · ${PRESENCE_WORD[a.presence] || a.presence || "offline"}${load}${full}`,
      });
    }));
    const queueGroup = el("optgroup", { label: "Teams (back to the queue)" }, queues.map((q) => el("option", {
      value: `queue:${q.name}`,
      text: `${q.team} · ${q.waiting || 0} waiting`,
    })));
    const children = [placeholder];
    if (people.length) children.push(peopleGroup);
    if (queues.length) children.push(queueGroup);
    select.replaceChildren(...children);
    if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  async function openTransfer(id) {
    const d = S.details.get(id);
    if (!d) return;
    dialogHandoff = id;
    const dialog = $("#transfer-dialog");
    $("#transfer-title").textContent = `Transfer ${titleOf(id)}`;
    $("#transfer-note").value = "";
    setFormError($("#transfer-error"), "");
    $("#transfer-target").value = "";
    fillTransferTargets(d);
    showDialog(dialog);
    $("#transfer-target").focus();
    try {
      const [agents, queues] = await Promise.all([api("GET", "/api/v1/agents"), api("GET", "/api/v1/queues")]);
      S.agents = new Map(agents.agents.map((a) => [a.id, a]));
      S.queues = new Map(queues.queues.map((q) => [q.name, q]));
      if (dialog.open && dialogHandoff === id) fillTransferTargets(d);
    } catch (error) {
      if (error.handled) return;
      setFormError($("#transfer-error"), `Could not refresh who is available: ${error.message}`);
    }
  }

  async function submitTransfer(event) {
    event.preventDefault();
    const id = dialogHandoff;
    const error = $("#transfer-error");
    const value = $("#transfer-target").value;
    if (!id) return;
    if (!value) {
      setFormError(error, "Choose a person or a team to transfer to.");
      $("#transfer-target").focus();
      return;
    }
    const colon = value.indexOf(":");
    const kind = value.slice(0, colon);
    const target = value.slice(colon + 1);
    const body = kind === "agent" ? { agent_id: target } : { queue: target };
    const note = $("#transfer-note").value.trim();
    if (note) body.note = note;
    const button = $("#transfer-submit");
    button.disabled = true;
    button.textContent = "Transferring…";
    setFormError(error, "");
    try {
      const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/transfer`, body);
      hideDialog($("#transfer-dialog"));
      const name = titleOf(id);
      upsertSummary(summary);
      toast(kind === "agent"
        ? `${name} is now with ${agentName(target)}.`
        : `${name} is back in the queue for the ${teamOf(target)}.`, "success");
      if (!isSupervisor() && summary.agent_id !== S.me.id) closeTab(id);
      renderLists();
    } catch (err) {
      if (err.handled) return;
      setFormError(error, err.message);
    } finally {
      button.disabled = false;
      button.textContent = "Transfer";
    }
  }

  const CLOSE_SUB = "The assistant takes the conversation back and asks the user for feedback.";

  function closeLabel(followup) {
    return followup ? "Mark done" : "Close conversation";
  }

  function openClose(id) {
    const d = S.details.get(id);
    if (!d) return;
    dialogHandoff = id;
    const followup = d.state === "no_agent";
    $("#close-title").textContent = followup ? `Mark the follow-up for ${titleOf(id)} done` : `Close ${titleOf(id)}`;
    $("#close-sub").textContent = followup
      ? `Record how the call back to ${contactOf(d) || "the user"} went; it then leaves the Follow-ups list.`
      : CLOSE_SUB;
    const select = $("#close-resolution");
    select.replaceChildren(...(S.me.resolutions || []).map((r) => el("option", { value: r, text: humanize(r) })));
    $("#close-note").value = "";
    const resume = $("#close-resume-link");
    resume.checked = false;
    // The link goes to a connected user, from the agent who talked with them.
    $("#close-resume-wrap").hidden = followup || d.agent_id !== S.me.id;
    $("#close-submit").textContent = closeLabel(followup);
    $("#close-dialog").dataset.followup = followup ? "1" : "";
    setFormError($("#close-error"), "");
    showDialog($("#close-dialog"));
    select.focus();
  }

  async function submitClose(event) {
    event.preventDefault();
    const id = dialogHandoff;
    if (!id) return;
    const resolution = $("#close-resolution").value;
    const error = $("#close-error");
    if (!resolution) {
      setFormError(error, "Choose how the conversation ended.");
      return;
    }
    const body = { resolution };
    const note = $("#close-note").value.trim();
    if (note) body.note = note;
    const wantLink = !$("#close-resume-wrap").hidden && $("#close-resume-link").checked;
    if (wantLink) body.resume_link = true;
    const followup = $("#close-dialog").dataset.followup === "1";
    const button = $("#close-submit");
    button.disabled = true;
    button.textContent = followup ? "Saving…" : "Closing…";
    setFormError(error, "");
    try {
      const summary = await api("POST", `/api/v1/handoffs/${encodeURIComponent(id)}/close`, body);
      hideDialog($("#close-dialog"));
      const d = S.details.get(id);
      if (d) d.close_note = note || null;
      if (summary && summary.resume_url) {
        S.resumeUrls.set(id, summary.resume_url);
        if (d) d.resume_url = summary.resume_url;
      }
      upsertSummary(summary);
      refreshView(id);
      if (followup) {
        toast(`Follow-up for ${titleOf(id)} marked done as “${humanize(resolution)}”.`, "success");
      } else {
        const link = summary && summary.resume_url ? " They got a link to continue with you later." : "";
        toast(`${titleOf(id)} closed as “${humanize(resolution)}”. The assistant takes it from here.${link}`, "success");
      }
      if (wantLink && !(summary && summary.resume_url)) {
        toast("The conversation is closed, but the server sent back no link to continue later.", "error");
      }
      renderLists();
    } catch (err) {
      if (err.handled) return;
      setFormError(error, err.message);
    } finally {
      button.disabled = false;
      button.textContent = closeLabel(followup);
    }
  }

  // --------------------------------------------------------------------- tick

  function tick() {
    const now = nowSec();
    for (const node of document.querySelectorAll(".ticker[data-since]")) {
      const since = Number(node.getAttribute("data-since"));
      if (!since) continue;
      const seconds = now - since;
      const text = fmtDuration(seconds);
      if (node.textContent !== text) node.textContent = text;
      if (node.hasAttribute("data-levels")) {
        node.classList.toggle("is-warn", seconds >= WAIT_WARN && seconds < WAIT_LATE);
        node.classList.toggle("is-late", seconds >= WAIT_LATE);
      }
    }
    for (const node of document.querySelectorAll("[data-age-since]")) {
      const since = Number(node.getAttribute("data-age-since"));
      if (!since) continue;
      const text = fmtAge(now - since);
      if (node.textContent !== text) node.textContent = text;
    }
  }

  // ------------------------------------------------------------------ binding

  function listKeyNav(event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const list = event.currentTarget;
    const buttons = [...list.querySelectorAll(".item-btn")];
    const index = buttons.indexOf(document.activeElement);
    if (index === -1) return;
    event.preventDefault();
    const next = buttons[index + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) next.focus();
  }

  function bind() {
    $("#login-form").addEventListener("submit", onLoginSubmit);
    $("#logout").addEventListener("click", logout);
    $("#notify-enable").addEventListener("click", enableNotifications);
    $("#presence-select").addEventListener("change", (event) => setPresence(event.target.value, false));
    $("#queue-filter").addEventListener("change", (event) => {
      S.filter = event.target.value;
      store.set(STORE_KEYS.filter, S.filter);
      renderLists();
    });
    $("#queue-list").addEventListener("keydown", listKeyNav);
    $("#mine-list").addEventListener("keydown", listKeyNav);
    $("#followups-list").addEventListener("keydown", listKeyNav);
    $("#team-button").prepend(icon("people"));
    $("#team-button").addEventListener("click", (event) => { event.stopPropagation(); toggleTeam(); });
    $("#team-close").addEventListener("click", () => closeTeam(true));
    $("#team-panel").addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeTeam(true);
      }
    });
    document.addEventListener("click", (event) => {
      if (!team.open) return;
      const wrap = $(".team-wrap");
      if (wrap && !wrap.contains(event.target)) closeTeam(false);
    });
    $("#transfer-form").addEventListener("submit", submitTransfer);
    $("#close-form").addEventListener("submit", submitClose);
    for (const dialog of document.querySelectorAll("dialog")) {
      for (const button of dialog.querySelectorAll("[data-dismiss]")) button.addEventListener("click", () => hideDialog(dialog));
      dialog.addEventListener("close", () => {
        const target = dialogReturnFocus;
        dialogReturnFocus = null;
        const fallback = $("#composer-input") || $('[data-testid="conversation"]');
        if (target && target.isConnected) target.focus();
        else if (fallback) fallback.focus();
      });
      dialog.addEventListener("click", (event) => {
        if (event.target === dialog) hideDialog(dialog);
      });
    }
    document.addEventListener("click", (event) => {
      if (!menu.open || menu.mode !== "list") return;
      const box = $("#saved-menu");
      if (box && !box.contains(event.target)) closeMenu();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && team.open && !menu.open && !document.querySelector("dialog[open]")) {
        closeTeam(true);
        return;
      }
      if (event.key === "Escape" && menu.open && !document.querySelector("dialog[open]")) {
        const wasList = menu.mode === "list";
        closeMenu();
        if (wasList) { const b = $("#saved-replies-button"); if (b) b.focus(); }
      }
    });
    const unlock = () => unlockAudio();
    document.addEventListener("pointerdown", unlock, { capture: true });
    document.addEventListener("keydown", unlock, { capture: true });
    window.addEventListener("online", () => {
      if (S.token && !S.ws) { S.backoff = RECONNECT_MIN; connect(); }
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && S.token && !S.ws) { S.backoff = RECONNECT_MIN; connect(); }
    });
    setInterval(tick, 1000);
  }

  function init() {
    bind();
    S.token = store.get(STORE_KEYS.token);
    if (S.token) {
      showOnly("boot");
      startSession(false).catch((error) => showLogin(error.message));
    } else {
      showLogin();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
