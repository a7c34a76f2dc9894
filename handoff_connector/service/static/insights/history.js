// The history (#history): every conversation the signed-in person may see, by filters and
// words, newest first, a page at a time; exports with the same filters. `#history?handoff=<id>`
// opens one conversation's record (history-record.js). The filters live in the address, so a
// filtered history can be linked to and Back returns to it.
import { get, download } from "./api.js";
import { el, card, empty, failure, number, moment, day, dateInput, startOf, endOf } from "./dom.js";
import { renderRecord } from "./history-record.js";
import {
  TRIGGERS, STATES, hashParams, recordHref, rememberList, lookups, terms, marked, stars, humanize, triggerLabel, stateLabel,
} from "./history-common.js";

const FILTERS = ["from", "to", "queue", "agent", "trigger", "resolution", "rating", "channel", "state", "q"];
const PAGE = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SOURCES = { transcript: "Before the handoff", message: "Message", note: "Internal note", close_note: "Close note" };

export async function render(container, { me }) {
  const params = hashParams();
  if (params.get("handoff")) return renderRecord(container, { me, id: params.get("handoff") });
  const filters = {};
  for (const key of FILTERS) if (params.get(key)) filters[key] = params.get(key);
  return renderList(container, me, filters);
}

// The API's values for the filters: a day in the date inputs is the local day, from its start
// to its end; any other value (an exact time from a link) goes as it is.
export function apiParams(filters) {
  const out = { ...filters };
  if (DATE.test(out.from || "")) out.from = startOf(out.from);
  if (DATE.test(out.to || "")) out.to = endOf(out.to);
  return out;
}

function select(name, label, options, value) {
  return el("label", {}, [label, el("select", { name, testid: `history-filter-${name}` }, [
    el("option", { value: "", text: "Any" }),
    ...options.map(([v, text]) => el("option", { value: v, text, selected: String(v) === String(value || "") })),
  ])]);
}

function input(name, label, type, value, extra) {
  return el("label", {}, [label, el("input", { name, type, value: value || "", testid: `history-filter-${name}`, ...extra })]);
}

function filterBar(me, names, filters, apply) {
  const queues = names.queues.filter((q) => me.role === "supervisor" || (me.queues || []).includes(q.name));
  const resolutions = [...(me.resolutions || []), ...((me.resolutions || []).includes("abandoned") ? [] : ["abandoned"])];
  const dateValue = (v) => (v ? (DATE.test(v) ? v : dateInput(/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : v)) : "");
  const form = el("form", { class: "toolbar history-filters", testid: "history-filters", role: "search" }, [
    el("label", { class: "history-search" }, ["Words said", el("input", {
      name: "q", type: "search", value: filters.q || "", testid: "history-search", maxlength: 500,
      placeholder: "in messages, notes, transcripts (evict* for a prefix)",
    })]),
    input("from", "From", "date", dateValue(filters.from)),
    input("to", "To", "date", dateValue(filters.to)),
    select("queue", "Queue", queues.map((q) => [q.name, q.team]), filters.queue),
    select("agent", "Agent", names.agents.map((a) => [a.id, a.name]), filters.agent),
    select("trigger", "Trigger", TRIGGERS.map((t) => [t, triggerLabel(t)]), filters.trigger),
    select("resolution", "Resolution", resolutions.map((r) => [r, humanize(r)]), filters.resolution),
    select("rating", "Rating", [5, 4, 3, 2, 1].map((r) => [r, `${r} of 5`]), filters.rating),
    input("channel", "Channel", "text", filters.channel, { placeholder: "any", size: 9, maxlength: 100 }),
    select("state", "State", STATES.map((s) => [s, stateLabel(s)]), filters.state),
    el("button", { type: "submit", class: "btn btn-primary btn-sm", testid: "history-apply", text: "Search" }),
    el("button", { type: "button", class: "btn btn-ghost btn-sm", testid: "history-clear", text: "Clear", onclick: () => apply({}) }),
  ]);
  // The exact times of a link stay until their date input is changed.
  const kept = { from: filters.from, to: filters.to };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    for (const key of FILTERS) {
      const field = form.elements[key];
      const value = field ? field.value.trim() : "";
      if (!value) continue;
      next[key] = (key === "from" || key === "to") && kept[key] && dateValue(kept[key]) === value ? kept[key] : value;
    }
    apply(next);
  });
  return form;
}

// What the filters say, in words, above the table.
function describe(filters, total) {
  const parts = [`${number(total)} ${total === 1 ? "conversation" : "conversations"}`];
  const when = (v) => (DATE.test(v) ? day(v + "T00:00:00") : moment(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v));
  if (filters.from) parts.push(`created from ${when(filters.from)}`);
  if (filters.to) parts.push(`${filters.from ? "to" : "created until"} ${when(filters.to)}`);
  if (filters.q) parts.push(`that said “${filters.q}”`);
  return parts.join(" ");
}

function snippetRow(h, words, columns) {
  return el("tr", { class: "history-snippet", testid: "history-snippet", "data-handoff-id": h.id }, [
    el("td", { colspan: columns }, (h.matches || []).map((m) => el("p", { class: "history-match", testid: "history-match", "data-source": m.source }, [
      el("span", { class: "pill", text: SOURCES[m.source] || m.source }), " ",
      el("span", {}, marked(m.text, words)),
    ]))),
  ]);
}

function row(h, names, words) {
  const open = () => { window.location.hash = recordHref(h.id); };
  const rows = [el("tr", {
    class: "history-row", testid: "history-row", "data-handoff-id": h.id, "data-state": h.state, onclick: open,
  }, [
    el("td", {}, el("a", { href: recordHref(h.id), testid: "history-open", text: moment(h.created_at), onclick: (e) => e.stopPropagation() })),
    el("td", { text: names.team(h.queue) }),
    el("td", { text: triggerLabel(h.trigger) }),
    el("td", { text: h.agent_id ? names.agent(h.agent_id) : "—" }),
    el("td", {}, h.resolution ? humanize(h.resolution) : el("span", { class: "muted", text: stateLabel(h.state) })),
    el("td", { "data-rating": h.rating || "" }, stars(h.rating)),
    el("td", { text: h.channel || "—" }),
  ])];
  if (words.length && (h.matches || []).length) rows.push(snippetRow(h, words, 7));
  return rows;
}

async function renderList(container, me, filters) {
  let alive = true;
  const names = await lookups();
  const words = terms(filters.q);
  rememberList(window.location.hash);
  const apply = (next) => {
    const query = new URLSearchParams(next).toString();
    const hash = "#history" + (query ? "?" + query : "");
    if (hash === window.location.hash) window.dispatchEvent(new HashChangeEvent("hashchange")); // the same search again
    else window.location.hash = hash;
  };
  const summary = el("p", { class: "muted history-total", testid: "history-total", "aria-live": "polite", text: "Loading…" });
  const problem = el("div", { testid: "history-error" });
  const body = el("tbody", { testid: "history-rows" });
  const more = el("button", { type: "button", class: "btn btn-secondary btn-sm", testid: "history-more", hidden: true, text: "Load more" });
  const exportButton = (kind, label) => el("button", {
    type: "button", class: "btn btn-secondary btn-sm", testid: `export-${kind}`, text: label,
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      problem.replaceChildren();
      try {
        await download(`/api/v1/export/${kind}.csv`, apiParams(filters), `${kind}-${dateInput(Date.now())}.csv`);
      } catch (error) {
        problem.replaceChildren(failure(error));
      } finally {
        button.disabled = false;
      }
    },
  });
  const table = el("table", { class: "table history-table", testid: "history-table" }, [
    el("thead", {}, el("tr", {}, ["Created", "Queue", "Trigger", "Agent", "Resolution", "Rating", "Channel"]
      .map((h) => el("th", { scope: "col", text: h })))),
    body,
  ]);
  container.append(
    el("div", { class: "view-head" }, [
      el("div", {}, [el("h1", { text: "History" }),
        el("p", { text: me.role === "supervisor" ? "Every conversation people took over, newest first." : "The conversations of your queues and yours, newest first." })]),
      el("div", { class: "toolbar" }, [exportButton("handoffs", "Export handoffs (CSV)"), exportButton("messages", "Export messages (CSV)")]),
    ]),
    filterBar(me, names, filters, apply),
    problem,
    card("Conversations", [summary, table, el("div", { class: "history-more" }, more)], "history-results"),
  );

  let shown = 0;
  async function page(after) {
    more.disabled = true;
    try {
      const found = await get("/api/v1/history", { ...apiParams(filters), limit: PAGE, after });
      if (!alive) return;
      shown += found.handoffs.length;
      summary.textContent = describe(filters, found.total) + (found.total > shown ? ` · showing the newest ${number(shown)}` : "");
      summary.dataset.total = found.total;
      for (const h of found.handoffs) body.append(...row(h, names, words));
      if (!shown) body.append(el("tr", {}, el("td", { colspan: 7 }, empty(
        Object.keys(filters).length ? "No conversation matches these filters. Clear some to see more."
          : "No conversation has been handed to a person yet."))));
      more.hidden = !found.next;
      more.onclick = () => page(found.next);
    } catch (error) {
      if (!alive) return;
      summary.textContent = "";
      problem.replaceChildren(failure(error));
    } finally {
      more.disabled = false;
    }
  }
  await page(null);
  return () => { alive = false; };
}
