// Formats for the desk: times, durations, ages, contacts, and the words for triggers, states and presence.

export const TRIGGER_HELP = {
  explicit: "The user asked for a person",
  cant_help: "The assistant could not help several turns in a row",
  fallback: "The assistant could not understand the user",
  frustration: "The assistant noticed the user getting frustrated",
  resume: "The user came back through a link an agent sent when closing",
};

export const TRIGGER_WORD = { resume: "resumed", cant_help: "can't help" };

export const STATE_WORD = {
  queued: "waiting", assigned: "with an agent", no_agent: "follow-up", closed: "closed",
  returned: "closed", cancelled: "cancelled", abandoned: "abandoned",
};

export const PRESENCE_WORD = { online: "Online", away: "Away", offline: "Offline" };

// A wait is marked from 2 minutes (is-warn), and as late from 5 (is-late).
export const WAIT_WARN = 120;
export const WAIT_LATE = 300;

export function humanize(code) {
  if (!code) return "";
  const text = String(code).replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function article(title) {
  if (!title) return "a member of our team";
  return (/^[aeiou]/i.test(title) ? "an " : "a ") + title;
}

export function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
}

export function fmtAge(seconds) {
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

export function contactHref(contact) {
  const text = String(contact || "").trim();
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return "mailto:" + text;
  const digits = text.replace(/[^\d+]/g, "");
  if (/^\+?\d{5,}$/.test(digits)) return "tel:" + digits;
  return null;
}

const clockFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function fmtClock(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return "";
  const d = new Date(sec * 1000);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? clockFmt.format(d) : `${dayFmt.format(d)}, ${clockFmt.format(d)}`;
}

export function fmtFull(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return "";
  return fullFmt.format(new Date(sec * 1000));
}

export function entrySeconds(entry) {
  if (typeof entry.created_at === "number") return entry.created_at;
  if (typeof entry.timestamp === "number") return entry.timestamp;
  if (entry.timestamp) {
    const ms = Date.parse(entry.timestamp);
    if (!isNaN(ms)) return ms / 1000;
  }
  if (typeof entry.at === "number") return entry.at;
  return null;
}

export function waitLevel(seconds) {
  if (seconds >= WAIT_LATE) return "is-late";
  if (seconds >= WAIT_WARN) return "is-warn";
  return "";
}
