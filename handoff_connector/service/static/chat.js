/* The demo chat over Rasa's callback channel (no push: it polls the connector's /demo routes). */
(() => {
"use strict";
const sender = sessionStorage.getItem("sender") || ("demo-" + Math.random().toString(36).slice(2, 10));
sessionStorage.setItem("sender", sender);
document.getElementById("who").textContent = "conversation id: " + sender;
const log = document.getElementById("log");
let next = 0;
function show(text, cls, buttons) {
  const div = document.createElement("div");
  div.className = "msg " + cls;
  div.textContent = text || "";
  if (buttons && buttons.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.textContent = b.title;
      btn.onclick = () => send(b.payload, b.title);
      row.appendChild(btn);
    }
    div.appendChild(row);
  }
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}
async function send(text, shown) {
  show(shown || text, "user");
  const r = await fetch("/demo/send", {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({sender, text})});
  if (!r.ok) show("(" + (await r.json()).error + ")", "bot");
  poll();
}
async function poll() {
  const r = await fetch(`/demo/messages?sender=${encodeURIComponent(sender)}&after=${next}`);
  if (!r.ok) return;
  const data = await r.json();
  for (const m of data.messages) show(m.text, "bot", m.buttons);
  next = data.next;
}
document.getElementById("composer").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  if (input.value.trim()) send(input.value.trim());
  input.value = "";
};
setInterval(poll, 1000);
})();
