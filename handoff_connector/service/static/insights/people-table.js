// The team view's table: every figure per group (agent, queue, trigger), the total last; with a
// compared period, each figure's change under it.

import { el, number, NONE } from "./dom.js";
import { FIGURES, groupName, moved, shown } from "./people-figures.js";

export const BY = { agent: "Agent", queue: "Queue", trigger: "Trigger" };

function resolutions(figures) {
  const found = Object.entries(figures.resolutions || {}).filter(([, count]) => count);
  if (!found.length) return el("span", { class: "muted", text: NONE });
  return el("span", { class: "people-resolutions" }, found.map(([name, count]) => el("span", {
    class: "pill", "data-resolution": name, text: `${name.replace(/_/g, " ")} · ${number(count)}`,
  })));
}

function cell(figure, figures, change) {
  const diff = change ? moved(figure, figure.get(change)) : null;
  return el("td", { class: "num", testid: figure.id }, [
    el("span", { class: "people-value", text: shown(figure, figure.get(figures)) }),
    diff ? el("span", { class: "people-change is-" + diff.direction, testid: figure.id + "-change", text: diff.text }) : null,
  ]);
}

function nameCell(by, group, fixed) {
  const name = fixed || groupName(by, group);
  const team = by === "queue" && group.label && group.label !== group.key ? group.label : null;
  return el("th", { scope: "row", class: group.key === null && by === "agent" ? "muted" : null }, [
    el("span", { text: name }), team ? el("span", { class: "muted people-team", text: team }) : null,
  ]);
}

function row(by, group, change, props, fixed) {
  return el("tr", props, [
    nameCell(by, group, fixed),
    ...FIGURES.map((figure) => cell(figure, group.figures, change)),
    el("td", { testid: "resolutions" }, resolutions(group.figures)),
  ]);
}

// A group of the compared period with no handoffs in this one still has a row: it says what changed.
// Its counts are 0; its times, rates and averages are not there ("—"), as for an empty set.
const NOT_THERE = new Set(["mean", "median", "p90", "max", "abandonment_rate", "service_level", "response_rate", "average"]);

function emptyLike(figures, key) {
  if (figures && typeof figures === "object") {
    return Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, emptyLike(value, name)]));
  }
  if (NOT_THERE.has(key)) return null;
  return typeof figures === "number" ? 0 : figures;
}

export function groupTable(answer) {
  const { by } = answer;
  const groups = answer.period.groups;
  const changes = new Map((answer.change ? answer.change.groups : []).map((g) => [g.key, g.figures]));
  const gone = answer.compare ? answer.compare.groups.filter((g) => !groups.some((h) => h.key === g.key)) : [];
  const rows = [
    ...groups.map((group) => row(by, group, changes.get(group.key), { testid: "people-row", "data-key": group.key ?? "" })),
    ...gone.map((group) => row(by, { ...group, figures: emptyLike(group.figures) }, changes.get(group.key),
      { testid: "people-row", "data-key": group.key ?? "", class: "people-gone", title: "Only in the compared period" })),
  ];
  const heads = [BY[by], ...FIGURES.map((f) => f.label), "Resolutions"];
  return el("div", { class: "table-scroll" }, el("table", { class: "table people-table", testid: "people-table" }, [
    el("thead", {}, el("tr", {}, heads.map((head, i) => el("th", {
      scope: "col", class: i && i <= FIGURES.length ? "num" : null, text: head,
    })))),
    el("tbody", {}, rows),
    el("tfoot", {}, row(by, { key: "", figures: answer.period.total }, answer.change ? answer.change.total : null,
      { testid: "people-total-row", class: "people-total" }, "All")),
  ]));
}
