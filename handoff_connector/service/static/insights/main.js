// The insights pages: which view the address names (#live, #people, #bot, #history), for whom.
//
// Each view is a module with `render(container, context)`; it draws into the container and may
// return a function that stops what it started (a refresh timer), called when another view opens.

import { get, token, signIn } from "./api.js";
import { el, failure } from "./dom.js";
import * as live from "./live.js";
import * as people from "./people.js";
import * as bot from "./bot.js";
import * as history from "./history.js";

const VIEWS = { live, people, bot, history };
const SUPERVISORS_ONLY = new Set(["bot"]);
let stop = null;

function allowed(name, me) {
  return name in VIEWS && (me.role === "supervisor" || !SUPERVISORS_ONLY.has(name));
}

async function show(me) {
  const asked = window.location.hash.replace(/^#/, "").split("?")[0];
  const name = allowed(asked, me) ? asked : (me.role === "supervisor" ? "live" : "people");
  for (const link of document.querySelectorAll(".insights-nav a")) {
    const current = link.dataset.view === name;
    link.classList.toggle("is-current", current);
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (stop) { stop(); stop = null; }
  const container = document.getElementById("view");
  refused(asked, name, container);
  container.replaceChildren();
  container.dataset.view = name;
  try {
    stop = (await VIEWS[name].render(container, { me })) || null;
  } catch (error) {
    if (error.status !== 401) container.replaceChildren(failure(error));
  }
}

// Asked by address for a view this role may not see: say so, above the view shown instead.
function refused(asked, name, container) {
  const old = document.querySelector('[data-testid="view-refused"]');
  if (old) old.remove();
  if (asked === name || !(asked in VIEWS)) return;
  const title = (view) => document.querySelector(`.insights-nav a[data-view="${view}"]`)?.textContent || view;
  container.before(el("p", {
    class: "view-refused", role: "alert", testid: "view-refused",
    text: `The ${title(asked)} view is for supervisors. Here is the ${title(name)} view instead.`,
  }));
}

async function start() {
  if (!token()) { signIn(); return; }
  let me;
  try {
    me = await get("/api/v1/me");
  } catch (error) {
    if (error.status !== 401) document.getElementById("view").replaceChildren(failure(error));
    return;
  }
  document.getElementById("me-name").textContent = me.name;
  for (const link of document.querySelectorAll(".insights-nav [data-supervisor]")) {
    link.hidden = me.role !== "supervisor";
  }
  window.addEventListener("hashchange", () => show(me));
  await show(me);
}

start();

