// The kiosk's screen: renders each view the kiosk streams (server-sent events)
// and sends presses of the talk button. No libraries, nothing from elsewhere.
// A view is complete (site, state, caller's words, reply words and how many
// were played), so rendering never depends on having seen the one before.
"use strict";

const STATE_LABELS = {
  idle: "Idle", listening: "Listening", thinking: "Thinking", speaking: "Speaking",
  yielding: "Yielding", error: "Error",
};
const $ = (id) => document.getElementById(id);
let shownWords = [];
let idleClearS = 20;
let clearTimer = null;
window.screenLog = [];   // {seq, state, heard, cut, latency_ms}: read by tests and measurements

function sameWords(words) {
  return words.length === shownWords.length && words.every((word, i) => word === shownWords[i]);
}

function renderReply(reply) {
  const text = $("reply-text");
  if (!sameWords(reply.words)) {
    text.replaceChildren(...reply.words.map((word) => {
      const span = document.createElement("span");
      span.textContent = word;
      return span;
    }));
    // spaces between the word spans, so the caption wraps like text
    for (const span of Array.from(text.children).slice(1)) span.before(" ");
    shownWords = reply.words.slice();
  }
  Array.from(text.children).forEach((span, i) => {
    span.classList.toggle("heard", i < reply.heard);
    span.classList.toggle("unsaid", reply.cut && i >= reply.heard);
    span.classList.toggle("last-heard", reply.cut && i === reply.heard - 1);
  });
  const section = $("reply");
  section.hidden = reply.words.length === 0;
  section.dataset.heard = String(reply.heard);
  section.dataset.cut = String(reply.cut);
}

function render(view) {
  document.body.dataset.state = view.state;
  document.body.dataset.ready = String(view.ready);
  document.body.dataset.seq = String(view.seq);
  $("site").textContent = view.site;
  document.title = view.site || "Kiosk";
  $("state-label").textContent = view.ready ? (STATE_LABELS[view.state] || view.state) : "Starting";
  const caller = $("caller");
  caller.hidden = !view.caller.text;
  caller.dataset.final = String(view.caller.final);
  $("caller-text").textContent = view.caller.text;
  renderReply(view.reply);
  $("hint").hidden = !(view.ready && caller.hidden && view.reply.words.length === 0);
  $("hint").textContent = view.state === "listening" ? "Go ahead, I am listening."
    : "Press Talk or say the wake word.";
  $("talk").textContent = view.state === "speaking" ? "Stop" : "Talk";
  idleClearS = view.idle_clear_s;
}

function forget() {
  // Privacy: a page that lost the kiosk shows nothing of the last guest for long.
  render({seq: -1, site: $("site").textContent, state: "idle", ready: false, caller: {text: "", final: true},
          reply: {words: [], heard: 0, cut: false}, idle_clear_s: idleClearS});
}

function received(view) {
  render(view);
  // The frame after this DOM change is painted next: measure event -> pixel there.
  requestAnimationFrame(() => {
    window.screenLog.push({seq: view.seq, state: view.state, heard: view.reply.heard,
                           cut: view.reply.cut, latency_ms: Date.now() - view.emitted_ms});
    if (window.screenLog.length > 5000) window.screenLog.shift();
  });
}

function connected(isConnected) {
  document.body.dataset.connected = String(isConnected);
  $("connection").textContent = isConnected ? "" : "Reconnecting to the kiosk…";
  clearTimeout(clearTimer);
  if (!isConnected) clearTimer = setTimeout(forget, idleClearS * 1000);
}

function connect() {
  const source = new EventSource("/events");
  source.onopen = () => connected(true);
  source.onmessage = (message) => received(JSON.parse(message.data));
  source.onerror = () => {
    connected(false);
    // EventSource retries by itself unless the server answered with an error;
    // then it is CLOSED and a new one is needed.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
  };
}

$("talk").addEventListener("click", () => {
  fetch("/talk", {method: "POST"}).catch(() => connected(false));
});

if (window.SCREEN_VIEW) {        // a still snapshot (appliance sim's screen.png)
  document.body.dataset.connected = "true";
  $("connection").textContent = "";
  render(window.SCREEN_VIEW);
} else {
  connect();
}
