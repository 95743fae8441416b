// The station alert screen (/station/, dispatch/station): a wall screen in an ambulance station.
// A job for one of the station's units rings (a tone repeated every few seconds, the screen
// flashing) until someone acknowledges it here; the job shows in type readable across the
// garage, further jobs wait in a queue below it, and with nothing to do the screen shows the
// station's units and their statuses. Each job's dispatch slip (派车单) prints from a button.
//
// The page starts from the board it was rendered with; every event the socket brings (a unit of
// this station sent, stood down, acknowledged, changing status, moved up to cover elsewhere) reads
// the board again.
"use strict";
import { $, KIND, LANG, PRIORITY, centreTime, escapeHtml, getJSON, gettext, interpolate, postJSON } from "./shared.js";
import { LiveSocket, showConnectionState } from "./live.js";
import { chime, repeatChime, stopChime } from "./sound.js";

const config = JSON.parse($("station-config").textContent);
const root = $("station");
const time = centreTime(config.time_zone);
const clockTime = centreTime(config.time_zone, { seconds: true });
const RING_EVERY_S = 3;
let board = config.board;
let loading = null;
let again = false;

function mmss(seconds) {
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function since(iso) {
  return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
}

const waiting = (job) => !job.station_acknowledged_at && !job.crew_acknowledged_at;
const priorityText = (p) => PRIORITY[p] || gettext("Priority not set");

function stateText(job) {
  if (job.station_acknowledged_at) {
    return interpolate(gettext("Acknowledged at the station %(time)s"), { time: time(job.station_acknowledged_at) }, true);
  }
  if (job.crew_acknowledged_at) return gettext("Crew acknowledged on the tablet");
  return gettext("Not acknowledged");
}

function sentLine(job) {
  return `<span class="job-sent" data-sent="${escapeHtml(job.dispatched_at)}">${escapeHtml(
    interpolate(gettext("Sent %(time)s · %(ago)s ago"), { time: time(job.dispatched_at), ago: mmss(since(job.dispatched_at)) }, true))}</span>`;
}

function currentJob(job) {
  return `<div class="job-head">
      <span class="job-unit">${escapeHtml(job.unit)}</span>
      <span class="job-priority priority-${job.priority || "none"}">${escapeHtml(priorityText(job.priority))}</span>
      <span class="job-state${waiting(job) ? " waiting" : ""}">${escapeHtml(stateText(job))}</span>
    </div>
    <p class="job-complaint">${escapeHtml(job.chief_complaint || gettext("Complaint not given yet"))}</p>
    <p class="job-address">${escapeHtml(job.address || gettext("Address not given yet"))}</p>
    <p class="job-meta"><span class="job-number">${escapeHtml(job.number)}</span>${sentLine(job)}</p>`;
}

function queueItem(job) {
  const li = document.createElement("li");
  li.className = `queue-job${waiting(job) ? " waiting" : ""}`;
  li.dataset.assignment = job.assignment;
  li.innerHTML = `<div class="queue-line"><b class="queue-unit">${escapeHtml(job.unit)}</b>
      <span class="job-priority priority-${job.priority || "none"}">${escapeHtml(priorityText(job.priority))}</span>
      <span class="queue-number">${escapeHtml(job.number)}</span></div>
    <p class="queue-complaint">${escapeHtml(job.chief_complaint || "—")}</p>
    <p class="queue-address">${escapeHtml(job.address || "—")}</p>
    <p class="queue-meta">${sentLine(job)} · <span class="job-state">${escapeHtml(stateText(job))}</span></p>
    <div class="queue-actions">
      ${waiting(job) ? `<button type="button" class="queue-ack">${gettext("Acknowledge the job")}</button>` : ""}
      <button type="button" class="queue-print">${gettext("Print dispatch slip")}</button>
    </div>`;
  li.querySelector(".queue-ack")?.addEventListener("click", () => acknowledge(job.assignment));
  li.querySelector(".queue-print").addEventListener("click", () => printSlip(job.assignment));
  return li;
}

// A move-up sent the unit to stand by elsewhere (still free for a job): say where.
function relocationLine(unit) {
  const site = unit.relocating_to;
  if (!site) return "";
  const name = LANG === "en" && site.name_en ? site.name_en : site.name;
  return `<span class="station-unit-site">${escapeHtml(interpolate(gettext("To %(site)s"), { site: name }, true))}</span>`;
}

function unitItem(unit) {
  const li = document.createElement("li");
  li.className = `station-unit status-${unit.status}`;
  li.dataset.unit = unit.id;
  li.innerHTML = `<b>${escapeHtml(unit.call_sign)}</b><span>${escapeHtml(config.status[unit.status] || unit.status)}</span>${relocationLine(unit)}`;
  return li;
}

function render() {
  const jobs = board.jobs;
  const pending = jobs.filter(waiting);
  // The job in front: the oldest nobody acknowledged, else the oldest still waiting to roll.
  const current = pending[0] || jobs[0] || null;
  $("station-alert").hidden = !current;
  $("station-idle").hidden = Boolean(current);
  document.body.classList.toggle("ringing", pending.length > 0);
  document.body.classList.toggle("has-job", Boolean(current));
  if (current) {
    $("station-alert").dataset.assignment = current.assignment;
    $("station-current").innerHTML = currentJob(current);
    $("station-ack").hidden = !waiting(current);
  }
  const others = jobs.filter((job) => job !== current);
  $("station-queue-box").hidden = others.length === 0;
  $("station-queue").replaceChildren(...others.map(queueItem));
  $("station-units").replaceChildren(...board.units.map(unitItem));
  root.dataset.jobs = jobs.length;
  root.dataset.waiting = pending.length;
  if (pending.length) repeatChime("alert", RING_EVERY_S, 0.5);
  else stopChime("alert");
}

function showError(error) {
  const box = $("station-error");
  box.hidden = !error;
  box.textContent = error ? error.message || String(error) : "";
}

// Reads the board again; calls while one read runs fold into one more read after it.
async function reload() {
  if (loading) { again = true; return loading; }
  loading = (async () => {
    do {
      again = false;
      try {
        board = await getJSON("/api/station/board");
        showError(null);
        render();
      } catch (error) {
        showError(error);
      }
    } while (again);
  })();
  try { await loading; } finally { loading = null; }
}

async function acknowledge(assignment) {
  try {
    await postJSON(`/api/station/assignments/${assignment}/acknowledge`, {});
  } catch (error) {
    showError(error);
  }
  await reload();
}

function printSlip(assignment) {
  window.open(`/station/slip/${assignment}/`, "_blank", "noopener");
}

function tick() {
  const now = new Date();
  $("station-clock").textContent = clockTime(now);
  $("station-idle-clock").textContent = time(now);
  for (const sent of document.querySelectorAll(".job-sent")) {
    sent.textContent = interpolate(gettext("Sent %(time)s · %(ago)s ago"),
      { time: time(sent.dataset.sent), ago: mmss(since(sent.dataset.sent)) }, true);
  }
}

// A page nobody touched may not play sound (the browser's autoplay rule): offer the one touch
// it needs, until it has had it. A kiosk started with --autoplay-policy=no-user-gesture-required
// never shows it.
function soundUnlock() {
  const button = $("sound-unlock");
  let probe;
  try { probe = new AudioContext(); } catch { return; }
  const locked = probe.state === "suspended";
  probe.close();
  if (!locked) return;
  button.hidden = false;
  const unlock = () => {
    button.hidden = true;
    document.removeEventListener("pointerdown", unlock, true);
    if (document.body.classList.contains("ringing")) { stopChime("alert"); render(); }
  };
  document.addEventListener("pointerdown", unlock, true);
  button.addEventListener("click", unlock);
}

$("station-ack").addEventListener("click", () => acknowledge(Number($("station-alert").dataset.assignment)));
$("station-print").addEventListener("click", () => printSlip(Number($("station-alert").dataset.assignment)));
document.documentElement.dataset.lang = LANG;
soundUnlock();
render();
tick();
setInterval(tick, 1000);
const showState = showConnectionState($("conn"));
let wasLive = false;
new LiveSocket({
  after: config.last_seq,
  // Back after a dropped connection: the socket brings what was missed; the board is read too.
  onState: (state, reason) => {
    showState(state, reason);
    if (state === "live" && wasLive) reload();
    if (state === "live") wasLive = true;
  },
  onEvent: (event) => {
    // One of our units sent to cover another area: the people in the garage should know.
    if (event.kind === KIND.MOVE_UP_ACCEPTED) chime("notice", 0.3);
    reload();
  },
  onResync: () => reload(),
});
root.dataset.ready = "1";
