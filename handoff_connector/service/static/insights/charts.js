// Charts, drawn by Chart.js (served from /static/vendor/, see its README). One look for every page.

const Chart = window.Chart;
const PALETTE = ["#2456cc", "#17834a", "#a85a00", "#c0303a", "#6b4fbb", "#0f7f8c", "#838d9c"];
const live = new WeakMap();

if (Chart) {
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.color = "#5b6677";
  Chart.defaults.animation = false; // figures, not a show; and screenshots are the same each time
  Chart.defaults.maintainAspectRatio = false;
}

export const colour = (i) => PALETTE[i % PALETTE.length];

// A canvas in a sized box, labelled for screen readers with the figures it draws.
export function chartBox(testid, label, height = 240) {
  const box = document.createElement("div");
  box.className = "chart";
  box.style.height = height + "px";
  box.setAttribute("data-testid", testid);
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  box.append(canvas);
  return box;
}

// Draws (or redraws) a chart in a box from chartBox. `series`: [{label, data}], one per dataset.
export function draw(box, { type = "bar", labels, series, stacked = false, percent = false, horizontal = false }) {
  const canvas = box.querySelector("canvas");
  if (live.has(canvas)) live.get(canvas).destroy();
  if (!Chart) {
    box.textContent = "The chart library did not load.";
    return null;
  }
  const datasets = series.map((s, i) => ({
    label: s.label, data: s.data, borderColor: s.colour || colour(i),
    backgroundColor: type === "line" ? s.colour || colour(i) : (s.colour || colour(i)) + "cc",
    borderWidth: type === "line" ? 2 : 0, pointRadius: type === "line" ? 2 : 0, tension: 0.25,
  }));
  const value = { beginAtZero: true, stacked, ticks: percent ? { callback: (v) => Math.round(v * 100) + "%" } : {} };
  const category = { stacked, grid: { display: false } };
  const chart = new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: horizontal ? { x: value, y: category } : { x: category, y: value },
      plugins: {
        legend: { display: series.length > 1, position: "bottom" },
        tooltip: percent ? { callbacks: { label: (c) => `${c.dataset.label}: ${(c.raw * 100).toFixed(1)}%` } } : {},
      },
    },
  });
  live.set(canvas, chart);
  // What the chart shows, as data the tests (and assistive tools) can read.
  box.setAttribute("data-labels", JSON.stringify(labels));
  box.setAttribute("data-series", JSON.stringify(series.map((s) => ({ label: s.label, data: s.data }))));
  return chart;
}
