// The team view's charts: the times per group, the resolutions per group, the ratings 1-5.
// Each is a Chart.js chart (charts.js) whose box carries the figures it draws (data-labels/-series).

import { el, card, duration, empty } from "./dom.js";
import { chartBox, draw } from "./charts.js";
import { axes } from "./bot-parts.js";
import { groupName } from "./people-figures.js";
import { BY } from "./people-table.js";

const RATINGS = ["1", "2", "3", "4", "5"];

// Times are in seconds (as the API has them); the axis reads them as durations.
function timeAxis(chart) {
  if (!chart) return;
  const value = chart.options.scales.y;
  value.ticks = { ...value.ticks, callback: (v) => duration(v) };
  chart.options.plugins.tooltip = { callbacks: { label: (c) => `${c.dataset.label}: ${duration(c.raw)}` } };
  chart.update("none");
}

function times(answer) {
  const { by } = answer;
  // By agent, those who never reached a person have no times to draw.
  const groups = answer.period.groups.filter((g) => !(by === "agent" && g.key === null));
  const box = chartBox("people-times-chart", `Median wait, first response and handle time per ${BY[by].toLowerCase()}`, 260);
  const draws = () => {
    const chart = draw(box, {
      labels: groups.map((g) => groupName(by, g)),
      series: [
        { label: "Wait", data: groups.map((g) => g.figures.wait_seconds.median) },
        { label: "First response", data: groups.map((g) => g.figures.first_response_seconds.median) },
        { label: "Handle", data: groups.map((g) => g.figures.handle_seconds.median) },
      ],
    });
    axes(chart, BY[by], "Median time");
    timeAxis(chart);
  };
  const body = groups.length ? box : empty("Nobody answered a handoff in this period, so there are no times to show.");
  return { node: card(`Median times per ${BY[by].toLowerCase()}`, body, "people-times"), after: groups.length ? draws : null };
}

function outcomes(answer) {
  const { by } = answer;
  const groups = answer.period.groups;
  const total = answer.period.total.resolutions;
  const names = Object.keys(total).filter((name) => total[name] > 0);
  const box = chartBox("people-resolutions-chart", `Resolutions per ${BY[by].toLowerCase()}`, 260);
  const draws = () => {
    const chart = draw(box, {
      labels: groups.map((g) => groupName(by, g)), stacked: true,
      series: names.map((name) => ({ label: name.replace(/_/g, " "), data: groups.map((g) => g.figures.resolutions[name] || 0) })),
    });
    axes(chart, BY[by], "Handoffs");
  };
  const body = names.length ? box : empty("No handoff was closed in this period, so there are no resolutions yet.");
  return { node: card(`Resolutions per ${BY[by].toLowerCase()}`, body, "people-resolutions"), after: names.length ? draws : null };
}

function ratings(answer) {
  const now = answer.period.total.satisfaction;
  const before = answer.compare ? answer.compare.total.satisfaction : null;
  const box = chartBox("people-ratings-chart", "How users rated the conversations, 1 to 5", 260);
  const draws = () => {
    const series = [{ label: "This period", data: RATINGS.map((r) => now.distribution[r]) }];
    if (before) series.push({ label: "Compared period", data: RATINGS.map((r) => before.distribution[r]) });
    const chart = draw(box, { labels: RATINGS, series });
    axes(chart, "Rating (1 poor, 5 great)", "Surveys");
  };
  const rated = now.rated || (before && before.rated);
  const body = rated ? box : empty(now.closed_by_a_person
    ? "Nobody answered the survey after their conversation in this period."
    : "No conversation was closed by a person in this period, so nobody was asked to rate one.");
  return { node: card("Satisfaction ratings", body, "people-ratings"), after: rated ? draws : null };
}

// The cards, and what draws their charts once they are on the page (Chart.js needs the size).
export function charts(answer) {
  const parts = [times(answer), outcomes(answer), ratings(answer)];
  return {
    node: el("div", { class: "grid people-charts" }, parts.map((p) => p.node)),
    after: () => parts.forEach((p) => p.after && p.after()),
  };
}
