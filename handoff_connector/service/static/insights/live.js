// The live view (#live): the line now, per queue; who is on and how full they are; the
// conversations waiting past the threshold. It asks again every few seconds until another view opens.

import { get } from "./api.js";
import { el, card, duration, empty, failure, number, stat } from "./dom.js";
import { triggerName } from "./bot-parts.js";

export const REFRESH_SECONDS = 5;

const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function scope(me) {
  if (me.role === "supervisor") return "Every queue.";
  const queues = me.queues || [];
  return queues.length ? `Your queues: ${queues.join(", ")}.` : "You belong to no queue, so there is nothing to show.";
}

function headline(figures) {
  const { totals } = figures;
  const late = stat("live-over-threshold", `Waiting over ${duration(figures.wait_threshold_seconds)}`, number(totals.over_threshold));
  if (totals.over_threshold > 0) late.classList.add("is-alert");
  const online = stat("live-agents-online", "Agents online", number(totals.agents_online));
  if (totals.agents_away) online.append(el("span", { class: "stat-note", text: `${number(totals.agents_away)} away` }));
  return el("div", { class: "stats", testid: "live-headline" }, [
    stat("live-waiting", "Waiting now", number(totals.waiting)),
    stat("live-longest-wait", "Longest wait", duration(totals.longest_wait_seconds)),
    late,
    online,
    stat("live-follow-ups", "Follow-ups open", number(totals.follow_ups_open)),
  ]);
}

function numericCell(value, testid, alert = false) {
  return el("td", { class: "num" + (alert ? " live-late" : ""), testid }, value);
}

function queueTable(figures) {
  if (!figures.queues.length) return empty("No queues to show: you belong to none. A supervisor can add you to one.");
  const heads = ["Queue", "Waiting", "Longest wait", `Over ${duration(figures.wait_threshold_seconds)}`, "With a person", "Follow-ups open"];
  const rows = figures.queues.map((q) => el("tr", { testid: "live-queue-row", "data-queue": q.queue }, [
    el("td", {}, [el("strong", { text: q.queue }), el("span", { class: "muted live-team", text: q.team })]),
    numericCell(number(q.waiting), "waiting"),
    numericCell(duration(q.longest_wait_seconds), "longest-wait"),
    numericCell(number(q.over_threshold), "over-threshold", q.over_threshold > 0),
    numericCell(number(q.assigned), "assigned"),
    numericCell(number(q.follow_ups_open), "follow-ups-open"),
  ]));
  return el("div", { class: "table-scroll" }, el("table", { class: "table", testid: "live-queues" }, [
    el("thead", {}, el("tr", {}, heads.map((head, i) => el("th", { class: i ? "num" : null, scope: "col", text: head })))),
    el("tbody", {}, rows),
  ]));
}

// Each agent's load against their capacity, as a meter: full is amber, over full red.
function agentList(figures) {
  if (!figures.agents.length) {
    return empty("Nobody is online or away right now: new handoffs wait in line, or become follow-ups.");
  }
  return el("ul", { class: "live-agents", testid: "live-agents" }, figures.agents.map((agent) => {
    const share = agent.capacity ? Math.min(1, agent.load / agent.capacity) : 1;
    const level = agent.load > agent.capacity ? "is-over" : agent.load === agent.capacity ? "is-full" : "";
    return el("li", { class: "live-agent", testid: "live-agent", "data-agent": agent.id, "data-load": agent.load, "data-capacity": agent.capacity }, [
      el("span", { class: "live-agent-name" }, [
        el("strong", { text: agent.name }),
        el("span", { class: "pill live-presence is-" + agent.presence, text: agent.presence }),
        agent.role === "supervisor" ? el("span", { class: "muted", text: "supervisor" }) : null,
      ]),
      el("span", {
        class: "live-meter " + level, role: "meter", "aria-label": `${agent.name}'s load`,
        "aria-valuemin": 0, "aria-valuemax": agent.capacity, "aria-valuenow": agent.load,
      }, el("span", { class: "live-meter-fill", style: `width: ${Math.round(share * 100)}%` })),
      el("span", { class: "live-load", testid: "live-load", text: `${agent.load} of ${agent.capacity}` }),
    ]);
  }));
}

function lateList(figures) {
  const threshold = duration(figures.wait_threshold_seconds);
  if (!figures.over_threshold.length) {
    return empty(`Nobody has waited longer than ${threshold}.`);
  }
  const heads = ["Queue", "Trigger", "Channel", "Waiting for"];
  const rows = figures.over_threshold.map((h) => el("tr", { testid: "live-late-row", "data-handoff-id": h.id }, [
    el("td", { text: h.queue }), el("td", { text: triggerName(h.trigger) }), el("td", { text: h.channel || "—" }),
    el("td", { class: "num live-late", testid: "waiting-for", text: duration(h.waiting_seconds) }),
  ]));
  const more = figures.totals.over_threshold > rows.length
    ? el("p", { class: "muted", text: `The oldest ${rows.length} of ${number(figures.totals.over_threshold)} are listed.` }) : null;
  return [
    el("p", { class: "muted live-hint" }, ["Oldest first. To take one, claim it from the queue in ",
      el("a", { href: "/desk", text: "the desk" }), "."]),
    el("div", { class: "table-scroll" }, el("table", { class: "table", testid: "live-late" }, [
      el("thead", {}, el("tr", {}, heads.map((head, i) => el("th", { class: i === 3 ? "num" : null, scope: "col", text: head })))),
      el("tbody", {}, rows),
    ])),
    more,
  ];
}

function content(figures) {
  return [
    headline(figures),
    el("div", { class: "grid live-grid" }, [
      el("div", { class: "grid-wide" }, card("Queues", queueTable(figures), "live-queues-card")),
      card("Agents on", agentList(figures), "live-agents-card"),
      card(`Waiting over ${duration(figures.wait_threshold_seconds)}`, lateList(figures), "live-late-card"),
    ]),
  ];
}

export function render(container, { me }) {
  const status = el("p", { class: "muted live-status", testid: "live-updated", "aria-live": "polite", text: "Loading…" });
  const problem = el("div", { testid: "live-error" });
  const body = el("div", { testid: "live-body" });
  container.append(
    el("div", { class: "view-head" }, [
      el("div", {}, [el("h1", { text: "Live" }), el("p", { testid: "live-scope", text: `The line right now. ${scope(me)}` })]),
      status,
    ]),
    problem, body,
  );
  let timer = null;
  let stopped = false;
  let shown = null;

  async function refresh() {
    timer = null;
    try {
      const figures = await get("/api/v1/insights/live");
      if (stopped) return;
      body.replaceChildren(...content(figures));
      problem.replaceChildren();
      shown = figures.at;
      status.textContent = `Updated ${clock(figures.at)} · every ${REFRESH_SECONDS} s`;
      body.dataset.at = String(figures.at);
    } catch (error) {
      if (stopped || error.status === 401) return;
      // Keep the last figures on the page, and say how old they are.
      problem.replaceChildren(failure(error));
      status.textContent = shown ? `Could not update; these are from ${clock(shown)}. Trying again…` : "Could not load.";
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_SECONDS * 1000);
  }

  refresh();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
