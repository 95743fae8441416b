// Missed and abandoned calls to call back (未接来电, dispatch/calls/callbacks.py): a list under the
// console's alarms, read from /api/call-backs when the page opens and kept by the events. A call
// that rang out unanswered appears at once with a chime and a flash: the caller's number, when it
// rang, how long the caller waited before hanging up, the attempts so far. "Call back" places the
// call through the telephony provider (the dispatcher's own phone rings where the PBX knows it);
// the one who placed it then says what came of it. "No answer" keeps the call in the list for
// another try; any other outcome takes it off every console (into "Called back"). Another
// dispatcher's attempt shows whose it is and cannot be doubled (the server answers 409).
// console.js hands every event to callBackEvent and calls loadCallBacks on start and resync.
"use strict";
import { $, KIND, escapeHtml, getJSON, gettext, interpolate, postJSON as post } from "./shared.js";
import { chime } from "./sound.js";

const root = $("missed-calls");
const me = Number(root?.dataset.user);
const supervisor = root?.dataset.supervisor === "1";
const config = JSON.parse($("console-config")?.textContent || "{}");

const OUTCOMES = [
  ["reached", gettext("Reached")],
  ["no_answer", gettext("No answer")],
  ["wrong_number", gettext("Wrong number")],
  ["not_needed", gettext("No help needed")],
];
const OUTCOME_TEXT = Object.fromEntries(OUTCOMES);
const DONE_SHOWN = 5;

const missed = new Map(); // call id -> the list's row (MissedCallOut)
const done = []; // called back while this page was open, newest first
const busy = new Set(); // call ids whose request is under way here
const problems = new Map(); // call id -> the last error for it

const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "zh-CN", {
  timeZone: config.time_zone || undefined, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const time = (iso) => timeFormat.format(new Date(iso));

function mmss(seconds) {
  if (seconds == null) return "—";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// ---------------------------------------------------------------- state

function keep(row) {
  if (row.done) {
    if (missed.delete(row.id)) done.unshift(row);
    return;
  }
  missed.set(row.id, { ...(missed.get(row.id) || {}), ...row });
}

// A call that ended while still ringing: the call's own summary (dispatch.calls.actions).
function fromEndedCall(call) {
  const waited = call.ended_at ? (Date.parse(call.ended_at) - Date.parse(call.ringing_at)) / 1000 : null;
  return {
    id: call.id, caller_number: call.caller_number, ringing_at: call.ringing_at, ended_at: call.ended_at,
    waited_s: waited == null ? null : Math.max(0, waited), attempts: 0, calling: null, done: false, last_outcome: "",
  };
}

export async function loadCallBacks() {
  if (!root) return;
  try {
    const rows = await getJSON("/api/call-backs");
    missed.clear();
    for (const row of rows) missed.set(row.id, row);
    render();
  } catch (error) {
    // The console goes on without the list; the next resync reads it again.
    $("missed-list").innerHTML = `<li class="missed-none error">${escapeHtml(error.message || String(error))}</li>`;
  }
}

export function callBackEvent(event) {
  if (!root) return;
  const data = event.data || {};
  if (event.kind === KIND.CALL_ENDED && data.status === "missed" && !data.answered_at && data.caller_number) {
    if (missed.has(data.id)) return;
    missed.set(data.id, { ...fromEndedCall(data), freshUntil: Date.now() + 3000 });
    chime("missed"); // sound.js has no pattern of its own for it: the notice tone, announced as "missed"
    render();
  } else if (event.kind === KIND.CALL_BACK_PLACED || event.kind === KIND.CALL_BACK_OUTCOME) {
    problems.delete(data.id);
    keep(data);
    render();
  }
}

// ---------------------------------------------------------------- actions

async function callBack(id) {
  busy.add(id);
  problems.delete(id);
  render();
  try {
    keep(await post(`/api/calls/${id}/call-back`));
  } catch (error) {
    problems.set(id, error.message || String(error));
    // Someone else was first, or the call is no longer waiting: read the list as it is now.
    if (error.status === 409) await loadCallBacks();
  }
  busy.delete(id);
  render();
}

async function recordOutcome(row, outcome) {
  busy.add(row.id);
  render();
  try {
    keep(await post(`/api/call-backs/${row.calling.id}/outcome`, { outcome }));
  } catch (error) {
    problems.set(row.id, error.message || String(error));
    if (error.status === 409) await loadCallBacks();
  }
  busy.delete(row.id);
  render();
}

// ---------------------------------------------------------------- rendering

function times(row) {
  const rang = interpolate(escapeHtml(gettext("rang %(time)s")), { time: `<b>${time(row.ringing_at)}</b>` }, true);
  const waited = interpolate(escapeHtml(gettext("waited %(clock)s before hanging up")), { clock: `<b>${mmss(row.waited_s)}</b>` }, true);
  const attempts = row.attempts
    ? ` <span class="missed-attempts">${escapeHtml(interpolate(gettext("attempts: %(n)s"), { n: row.attempts }, true))}</span>` : "";
  return `${rang} · ${waited}${attempts}`;
}

function rowHtml(row) {
  const calling = row.calling;
  const error = `<p class="error" role="alert">${escapeHtml(problems.get(row.id) || "")}</p>`;
  const head = `<span class="missed-number">${escapeHtml(row.caller_number)}</span><span class="missed-times">${times(row)}</span>`;
  if (!calling) {
    const label = busy.has(row.id) ? gettext("Calling…") : `☎ ${gettext("Call back")}`;
    return `${head}<button type="button" class="call-back"${busy.has(row.id) ? " disabled" : ""}>${escapeHtml(label)}</button>${error}`;
  }
  const who = calling.by === me ? gettext("You are calling back") : interpolate(gettext("%(who)s is calling back"), { who: calling.by_name }, true);
  const mayRecord = calling.by === me || supervisor;
  const outcomes = mayRecord
    ? `<div class="missed-outcomes"><span>${escapeHtml(gettext("What came of it?"))}</span>${OUTCOMES.map(([value, words]) =>
      `<button type="button" class="${value}" data-outcome="${value}"${busy.has(row.id) ? " disabled" : ""}>${escapeHtml(words)}</button>`).join("")}</div>`
    : "";
  return `${head}<span class="missed-by">${escapeHtml(who)}</span>${outcomes}${error}`;
}

function render() {
  const rows = [...missed.values()].sort((a, b) => Date.parse(a.ringing_at) - Date.parse(b.ringing_at) || a.id - b.id);
  $("missed-count").textContent = rows.length;
  root.classList.toggle("quiet", !rows.length);
  root.classList.toggle("waiting", rows.some((r) => !r.calling));
  const list = $("missed-list");
  if (!rows.length) {
    list.innerHTML = `<li class="missed-none">${escapeHtml(gettext("No missed calls to call back."))}</li>`;
  } else {
    list.replaceChildren(...rows.map((row) => {
      const li = document.createElement("li");
      li.id = `missed-${row.id}`;
      li.className = `missed${row.calling ? " calling" : ""}${row.freshUntil > Date.now() ? " fresh" : ""}`;
      li.dataset.call = row.id;
      li.innerHTML = rowHtml(row);
      li.querySelector(".call-back")?.addEventListener("click", () => callBack(row.id));
      li.querySelectorAll("[data-outcome]").forEach((b) => b.addEventListener("click", () => recordOutcome(row, b.dataset.outcome)));
      return li;
    }));
  }
  renderDone();
}

function renderDone() {
  const box = $("missed-done");
  box.hidden = !done.length;
  box.querySelector(".n").textContent = done.length;
  box.querySelector("ol").innerHTML = done.slice(0, DONE_SHOWN).map((row) => {
    const by = row.call_back?.by_name || "";
    const outcome = OUTCOME_TEXT[row.call_back?.outcome || row.last_outcome] || "";
    return `<li data-call="${row.id}">${escapeHtml(row.caller_number)} · ${escapeHtml(outcome)} · ${escapeHtml(by)}</li>`;
  }).join("");
}
