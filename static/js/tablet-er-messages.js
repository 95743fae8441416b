// The crew's line to the receiving ER (a small panel in the job card of the tablet): once the
// pre-arrival notice is sent, the crew writes to that hospital's ER ("STEMI, please alert the
// cath lab") and sees its answers. Only the crew, that hospital and the control room read it.
// Self-contained: it reads GET /api/crew/er-line every few seconds (and when the tablet wakes)
// and writes with an idempotency key that stays with the draft until the server has it, so a
// retry after a dropped connection never sends the line twice and a failure loses nothing.
"use strict";
import { $, answer, centreTime, csrfToken, escapeHtml, gettext, interpolate } from "./shared.js";
import { chime } from "./sound.js";
import { newKey } from "./tablet-queue.js";

const POLL_MS = 8000;
const SHOWN = 2; // the last few lines: the job card must keep its buttons in view
const box = $("er-line");
const config = JSON.parse($("tablet-config")?.textContent || "{}");
const hhmm = centreTime(config.time_zone || "Asia/Shanghai");

const state = { line: null, seen: null, draft: { key: null, text: "" }, sending: false };

async function read() {
  try {
    const response = await fetch("/api/crew/er-line", {
      credentials: "same-origin", headers: { Accept: "application/json" }, signal: AbortSignal.timeout(10000),
    });
    // A copy the service worker kept is not what the ER wrote since: keep what is shown.
    if (response.headers.get("X-Tablet-Copy")) return;
    state.line = await answer(response);
    announce();
    render();
  } catch { /* offline: the tablet says so; the line shows what it last had */ }
}

// An answer from the ER not seen before chimes (not on the first read).
function announce() {
  const ids = new Set(state.line.messages.map((m) => m.id));
  const fresh = state.line.messages.some((m) => m.direction === "to_crew" && state.seen && !state.seen.has(m.id));
  state.seen = ids;
  if (fresh) {
    chime("message", 0.3);
    if (navigator.vibrate) navigator.vibrate(200);
  }
}

function render() {
  const line = state.line;
  box.hidden = !(line && line.notice && line.open);
  if (box.hidden) return;
  const typing = box.contains(document.activeElement);
  const messages = line.messages.slice(-SHOWN);
  const earlier = line.messages.length - messages.length;
  const rows = messages.map((m) => `<li class="${m.direction === "to_er" ? "to_control" : "to_crew"}" data-er-message="${m.id}">
      <time>${hhmm(m.sent_at)}</time><b class="from">${escapeHtml(m.direction === "to_er" ? m.sender : line.hospital_name)}</b>
      <small class="who">${m.direction === "to_crew" ? escapeHtml(m.sender) : ""}</small>
      <div class="text">${escapeHtml(m.text)}</div></li>`);
  const title = interpolate(gettext("ER of %(hospital)s"), { hospital: line.hospital_name }, true);
  if (!typing) {
    box.innerHTML = `<p class="er-line-title"><b>${escapeHtml(title)}</b>${earlier ? ` <small class="muted">${escapeHtml(interpolate(gettext("%(count)s earlier"), { count: earlier }, true))}</small>` : ""}</p>
      <ol id="er-line-list" class="message-list">${rows.join("")}</ol>
      <form id="er-line-form" class="message-form" autocomplete="off">
        <input id="er-line-text" maxlength="500" placeholder="${escapeHtml(gettext("To the ER… e.g. STEMI, please alert the cath lab"))}" aria-label="${escapeHtml(gettext("Message to the receiving ER"))}">
        <button class="t-button primary" type="submit">${gettext("Send to ER")}</button>
      </form>
      <p id="er-line-error" class="error" role="alert"></p>`;
    $("er-line-text").value = state.draft.text;
  } else {
    $("er-line-list").innerHTML = rows.join("");
  }
}

async function send(event) {
  event.preventDefault();
  const input = $("er-line-text");
  const text = input.value.trim();
  if (!text || state.sending || !state.line?.assignment) return;
  // The same key for the same draft: a resend after a timeout is answered from the first.
  if (!state.draft.key) state.draft = { key: newKey(), text };
  state.sending = true;
  $("er-line-error").textContent = "";
  try {
    await answer(await fetch(`/api/crew/assignments/${state.line.assignment}/er-messages`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Idempotency-Key": state.draft.key },
      body: JSON.stringify({ text, client_time: new Date().toISOString() }),
      signal: AbortSignal.timeout(10000),
    }));
    state.draft = { key: null, text: "" };
    input.value = "";
    input.blur();
    await read();
  } catch (error) {
    $("er-line-error").textContent = error.name === "TypeError" || error.name === "TimeoutError"
      ? gettext("Not sent: no network. Your message is kept; send it again.")
      : error.message;
  } finally {
    state.sending = false;
  }
}

if (box) {
  box.addEventListener("submit", (event) => { if (event.target.id === "er-line-form") send(event); });
  // An edited draft is a new message: a new key when it is sent.
  box.addEventListener("input", (event) => {
    if (event.target.id === "er-line-text") state.draft = { key: null, text: event.target.value };
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) read(); });
  window.addEventListener("online", read);
  setInterval(read, POLL_MS);
  read();
}
