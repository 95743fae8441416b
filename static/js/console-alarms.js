// The console's alarms (dispatch/alarms): a list at the top of the open incidents, always in
// view and never over the incident shown, read from /api/alarms when the page opens (so a console
// opened or reloaded later shows what is open) and kept by the alarm events. Each alarm says which
// incident, what is wrong and for how long; Acknowledge records the dispatcher. A tone of its own
// repeats while any alarm is unacknowledged. L reaches the list from the keyboard. A unit not
// acknowledging its job offers to send another unit instead (the console's own dialog).
//
// The detail's turnout clocks live here too: each unit sent counts from its dispatch until it
// rolls, red past the turnout target.
"use strict";
import { $, KIND, LANG, escapeHtml, getJSON, gettext, interpolate, postJSON as post, typing } from "./shared.js";
import { repeatChime, stopChime } from "./sound.js";

const en = LANG === "en";
const alarms = new Map(); // open alarms by id, as /api/alarms and the events carry them
let settings = { open: () => {}, errorText: (error) => error.message, turnoutSeconds: 180, sendInstead: null };

function since(iso) {
  return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
}

function mmss(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

// What is wrong, in words (the timeline says it too).
export function alarmText(alarm) {
  const d = alarm.detail || {};
  const unit = alarm.call_sign || d.call_sign || "";
  const target = d.target_s != null ? mmss(d.target_s) : "";
  switch (alarm.kind) {
    case "notice_unacknowledged":
      return interpolate(gettext("%(hospital)s has not acknowledged the pre-arrival notice for %(unit)s: phone the ER"),
        { hospital: (en ? d.hospital_name_en : d.hospital_name) || d.hospital_name || "", unit }, true);
    case "unit_not_acknowledging":
      return interpolate(gettext("%(unit)s has not acknowledged the job within %(target)s"), { unit, target }, true);
    case "incident_undispatched_overdue":
      return interpolate(gettext("No unit sent within %(target)s"), { target }, true);
    case "turnout_exceeded":
      return interpolate(gettext("%(unit)s not en route within %(target)s"), { unit, target }, true);
    default:
      return alarm.kind;
  }
}

function sorted() {
  // Unacknowledged first, then by age (oldest first): what needs a hand is on top.
  return [...alarms.values()].sort((a, b) => Boolean(a.acknowledged_at) - Boolean(b.acknowledged_at)
    || Date.parse(a.raised_at) - Date.parse(b.raised_at) || a.id - b.id);
}

function alarmRow(alarm) {
  const li = document.createElement("li");
  li.id = `alarm-${alarm.id}`;
  li.className = `alarm kind-${alarm.kind}${alarm.acknowledged_at ? " acknowledged" : ""}`;
  li.dataset.incident = alarm.incident;
  const d = alarm.detail || {};
  const phone = alarm.kind === "notice_unacknowledged" && d.hospital_phone
    ? ` <a class="alarm-phone" href="tel:${escapeHtml(d.hospital_phone)}">☎ ${escapeHtml(d.hospital_phone)}</a>` : "";
  const phoned = alarm.kind === "notice_unacknowledged" && d.notice
    ? `<button type="button" class="alarm-phoned">${gettext("Phoned: recorded")}</button>` : "";
  const instead = alarm.kind === "unit_not_acknowledging" && alarm.assignment && settings.sendInstead
    ? `<button type="button" class="alarm-instead">${gettext("Send another unit instead")}</button>` : "";
  const action = alarm.acknowledged_at
    ? `<span class="alarm-by" title="${escapeHtml(gettext("Acknowledged by"))}">✓ ${escapeHtml(alarm.acknowledged_by || "")}</span>`
    : `<button type="button" class="alarm-ack">${gettext("Acknowledge alarm")}</button>`;
  li.innerHTML = `<button type="button" class="alarm-open" title="${escapeHtml(gettext("Show the incident"))}">
      <span class="alarm-line"><b class="alarm-number">${escapeHtml(alarm.incident_number)}</b>
        <span class="alarm-age" data-raised="${escapeHtml(alarm.raised_at)}">${mmss(since(alarm.raised_at))}</span></span>
      <span class="alarm-what">${escapeHtml(alarmText(alarm))}</span></button>
    <span class="alarm-actions">${phone}${phoned}${instead}${action}</span>`;
  li.querySelector(".alarm-open").onclick = () => settings.open(alarm.incident);
  li.querySelector(".alarm-ack")?.addEventListener("click", (event) => acknowledge(alarm.id, event));
  li.querySelector(".alarm-phoned")?.addEventListener("click", () => phoned(alarm));
  li.querySelector(".alarm-instead")?.addEventListener("click", () => sendInstead(alarm));
  return li;
}

function render() {
  const rows = sorted();
  const waiting = rows.filter((a) => !a.acknowledged_at).length;
  const list = $("alarm-list");
  const focused = document.activeElement?.closest?.("#alarm-list li");
  const focusedClass = document.activeElement?.className;
  list.replaceChildren(...rows.map(alarmRow));
  if (!rows.length) list.innerHTML = `<li class="alarm-none">${gettext("No alarms")}</li>`;
  $("alarm-count").textContent = waiting;
  $("alarms").classList.toggle("ringing", waiting > 0);
  $("alarms").classList.toggle("quiet", rows.length === 0);
  if (focused) $(focused.id)?.querySelector(`.${focusedClass?.split(" ")[0]}`)?.focus({ preventScroll: true });
  if (waiting) repeatChime("alarm", 5);
  else stopChime("alarm");
}

export async function loadAlarms() {
  try {
    const rows = await getJSON("/api/alarms");
    alarms.clear();
    for (const alarm of rows) alarms.set(alarm.id, alarm);
    render();
  } catch (error) {
    $("alarm-list").innerHTML = `<li class="alarm-none error">${escapeHtml(settings.errorText(error))}</li>`;
  }
}

// An alarm event from the live socket: raised and acknowledged alarms carry their whole row.
export function alarmEvent(event) {
  const alarm = event.data;
  if (!alarm?.id) return;
  if (event.kind === KIND.ALARM_CLEARED) alarms.delete(alarm.id);
  else if (event.kind === KIND.ALARM_RAISED || event.kind === KIND.ALARM_ACKNOWLEDGED) {
    if (alarm.cleared_at) alarms.delete(alarm.id);
    else alarms.set(alarm.id, alarm);
  } else return;
  render();
}

async function acknowledge(id, event) {
  // From the keyboard (Enter on the button), on to the next alarm waiting.
  const byKey = event?.detail === 0;
  try {
    const alarm = await post(`/api/alarms/${id}/acknowledge`, {});
    if (!alarm.cleared_at) alarms.set(alarm.id, alarm);
    render();
  } catch (error) {
    const what = $(`alarm-${id}`)?.querySelector(".alarm-what");
    if (what) what.textContent = settings.errorText(error);
    return;
  }
  if (byKey) focusAlarm(0) || document.activeElement?.blur();
}

// The dispatcher phoned the ER: the notice is acknowledged by phone (the scanner then clears the
// alarm) and the alarm acknowledged by them.
async function phoned(alarm) {
  try {
    await post(`/api/er/notices/${alarm.detail.notice}/acknowledge`, {});
    if (!alarm.acknowledged_at) await acknowledge(alarm.id);
  } catch (error) {
    const what = $(`alarm-${alarm.id}`)?.querySelector(".alarm-what");
    if (what) what.textContent = settings.errorText(error);
  }
}

// Another unit for the job the alarm's unit does not acknowledge: the console's reassign dialog
// (console.js sendInstead); once sent, the old unit is stood down and the scanner clears the alarm.
async function sendInstead(alarm) {
  try {
    settings.open(alarm.incident);
    await settings.sendInstead(alarm.incident, alarm.assignment);
  } catch (error) {
    const what = $(`alarm-${alarm.id}`)?.querySelector(".alarm-what");
    if (what) what.textContent = settings.errorText(error);
  }
}

// The first unacknowledged alarm's button (else the first alarm's), or the one `step` away from
// the alarm focused now. True when something took the focus.
function focusAlarm(step) {
  const rows = [...$("alarm-list").querySelectorAll("li.alarm")];
  if (!rows.length) return false;
  const at = rows.indexOf(document.activeElement?.closest?.("#alarm-list li"));
  let row;
  if (step && at >= 0) row = rows[Math.min(Math.max(at + step, 0), rows.length - 1)];
  else row = rows.find((li) => !li.classList.contains("acknowledged")) || (step ? rows[0] : null);
  if (!row) return false;
  (row.querySelector(".alarm-ack") || row.querySelector(".alarm-open")).focus();
  row.scrollIntoView({ block: "nearest" });
  return true;
}


function keys(event) {
  if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
  const inList = Boolean(document.activeElement?.closest?.("#alarm-list"));
  if (inList && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    focusAlarm(event.key === "ArrowDown" ? 1 : -1);
  } else if (inList && event.key === "Escape") {
    event.preventDefault();
    document.activeElement.blur();
  } else if ((event.key === "l" || event.key === "L") && !typing(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    focusAlarm(0) || focusAlarm(1);
  }
}

// ---------------------------------------------------------------- turnout clocks

const ROLLED = ["en_route_at", "on_scene_at", "transport_started_at", "at_hospital_at"];

// A unit's turnout clock (dispatch to en route) for the detail's units: ticking while it has not
// rolled, stopped at the time it took once it has, red from the turnout target on.
export function turnoutClock(a) {
  if (a.cancelled_at) return "";
  const rolled = ROLLED.map((name) => a[name]).filter(Boolean).sort()[0];
  if (!rolled && a.cleared_at) return "";
  const end = rolled ? Date.parse(rolled) : Date.now();
  const seconds = Math.max(0, Math.floor((end - Date.parse(a.dispatched_at)) / 1000));
  const over = seconds >= settings.turnoutSeconds;
  return `<span class="turnout-clock${over ? " over" : ""}${rolled ? " stopped" : ""}" data-dispatched="${escapeHtml(a.dispatched_at)}"
    title="${escapeHtml(interpolate(gettext("Turnout: dispatch to en route, target %(target)s"), { target: mmss(settings.turnoutSeconds) }, true))}">${
    escapeHtml(interpolate(gettext("turnout %(clock)s"), { clock: mmss(seconds) }, true))}</span>`;
}

function tick() {
  for (const age of document.querySelectorAll("#alarm-list .alarm-age")) age.textContent = mmss(since(age.dataset.raised));
  for (const clock of document.querySelectorAll(".turnout-clock:not(.stopped)")) {
    const seconds = since(clock.dataset.dispatched);
    clock.textContent = interpolate(gettext("turnout %(clock)s"), { clock: mmss(seconds) }, true);
    clock.classList.toggle("over", seconds >= settings.turnoutSeconds);
  }
}

// `open(incidentId)` shows an incident; `turnoutSeconds` the target; `errorText` an error's words.
export function setUpAlarms(options) {
  settings = { ...settings, ...options };
  document.addEventListener("keydown", keys, true); // before the page's own keys: Esc here leaves the list only
  setInterval(tick, 1000);
}
