// The control room's wallboard (templates/wallboard.html): today's figures in very large type.
// The page never asks for a touch: its socket (static/js/live.js) tells it only that the event log
// moved on (a "cursor" frame: the wallboard receives no event, dispatch/core/permissions.py), and
// it then reads /wallboard/figures/ again, at most once every few seconds. On every (re)connect it
// reads them too, so a dropped socket recovers by itself; a slow timer covers a lost doorbell.
"use strict";
import { $, LANG, PRIORITY, centreTime, escapeHtml, getJSON, gettext, interpolate } from "./shared.js";
import { LiveSocket, showConnectionState } from "./live.js";

const config = JSON.parse($("wallboard-config").textContent);
const board = $("wallboard");
const clock = centreTime(config.time_zone, { seconds: true });
const shortTime = centreTime(config.time_zone);
const dayFormat = new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "zh-CN", {
  timeZone: config.time_zone, year: "numeric", month: "long", day: "numeric", weekday: "long",
});

const MIN_GAP_MS = 3000; // at most one read every 3 s, however busy the log
const SAFETY_READ_MS = 60000; // and one a minute anyway
let figures = config.figures;
let seenSeq = config.last_seq;
let offsetMs = Date.parse(figures.now) - Date.now(); // server clock minus this screen's
let lastRead = 0;
let pending = null;
let reading = false;

$("wb-answer-title").textContent = interpolate(gettext("Answered within %(s)s s today"), { s: config.answer_within_s }, true);
$("wb-departure-title").textContent = interpolate(gettext("Rolling within %(m)s min of the call today"), { m: config.departure_within_s / 60 }, true);

function minutesSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function percent(pct) {
  return pct === null || pct === undefined ? "–" : `${pct.toFixed(1)}%`;
}

function state(element, met) {
  element.classList.toggle("met", met === true);
  element.classList.toggle("missed", met === false);
}

function renderTarget(key, figure) {
  $(`wb-${key}`).textContent = figure ? percent(figure.pct) : "–";
  state($(`tile-${key}`), figure && figure.of ? figure.met : null);
  $(`wb-${key}-sub`).textContent = figure
    ? interpolate(gettext("%(within)s of %(of)s · goal %(goal)s"), { within: figure.within, of: figure.of, goal: `${figure.goal_pct}%` }, true)
    : gettext("no target set");
}

function renderPriorities(rows) {
  $("wb-priorities").innerHTML = rows.map((row) => {
    const met = row.p90_met === true ? "met" : row.p90_met === false ? "missed" : "";
    const label = row.priority ? PRIORITY[row.priority] : gettext("Not triaged");
    const goal = row.target_p90_s ? interpolate(gettext("goal %(t)s"), { t: minutesSeconds(row.target_p90_s) }, true) : gettext("no goal");
    return `<div class="wb-priority ${met} prio-${row.priority ?? "none"}" data-priority="${row.priority ?? ""}">
      <h3>${escapeHtml(label)}</h3>
      <p class="wb-mid">${escapeHtml(minutesSeconds(row.p90_s))}</p>
      <p class="wb-sub">${escapeHtml(goal)} · ${escapeHtml(interpolate(gettext("%(n)s measured"), { n: row.count }, true))}</p>
    </div>`;
  }).join("");
}

function stationName(station) {
  return LANG === "en" && station.name_en ? station.name_en : station.name;
}

function render() {
  const f = figures;
  $("wb-day").textContent = dayFormat.format(new Date(f.now));
  $("wb-calls").textContent = f.calls.today;
  $("wb-calls-sub").textContent = interpolate(
    gettext("%(answered)s answered · %(abandoned)s abandoned · %(incidents)s incidents"),
    { answered: f.calls.answered, abandoned: f.calls.abandoned, incidents: f.incidents }, true);
  $("wb-waiting").textContent = f.waiting.count;
  $("tile-waiting").classList.toggle("missed", f.waiting.count > 0);
  renderTarget("answer", f.answer);
  renderTarget("departure", f.departure);
  $("wb-alarms").textContent = f.alarms.count;
  $("tile-alarms").classList.toggle("missed", f.alarms.count > 0);
  $("wb-alarms-sub").textContent = interpolate(gettext("%(n)s not acknowledged"), { n: f.alarms.unacknowledged }, true);
  renderPriorities(f.response_by_priority);
  const free = f.stations.reduce((sum, s) => sum + s.free, 0);
  const inService = f.stations.reduce((sum, s) => sum + s.in_service, 0);
  $("wb-free-total").textContent = `${free} / ${inService}`;
  $("wb-stations").innerHTML = f.stations.map((s) => `<li class="${s.free ? "" : "none-free"}">
      <span class="wb-station-name">${escapeHtml(stationName(s))}</span>
      <b class="wb-station-free">${s.free}</b><span class="wb-station-of">/${s.in_service}</span></li>`).join("");
  $("wb-diverting-count").textContent = f.diverting.length;
  $("wb-diverting").innerHTML = f.diverting.length
    ? f.diverting.map((h) => `<li class="missed"><b>${escapeHtml(LANG === "en" && h.name_en ? h.name_en : h.name)}</b>
        <span>${escapeHtml(h.categories.join(" · "))}</span></li>`).join("")
    : `<li class="wb-none">${escapeHtml(gettext("None: every hospital takes patients"))}</li>`;
  $("wb-alarm-list").innerHTML = f.alarms.list.length
    ? f.alarms.list.map((a) => `<li class="${a.acknowledged ? "" : "missed"}"><b>${escapeHtml(a.label)}</b>
        <span>${escapeHtml(a.call_sign || "")} ${escapeHtml(shortTime(a.raised_at))}</span></li>`).join("")
    : `<li class="wb-none">${escapeHtml(gettext("No open alarm"))}</li>`;
  tick();
}

// Every second: the clock and the longest wait, from the server's time (the screen's own clock
// may be wrong).
function tick() {
  const now = Date.now() + offsetMs;
  $("wb-clock").textContent = clock(new Date(now));
  const oldest = figures.waiting.oldest_at;
  $("wb-longest").textContent = oldest ? minutesSeconds((now - Date.parse(oldest)) / 1000) : "–";
}

async function read() {
  if (reading) { schedule(); return; }
  reading = true;
  lastRead = Date.now();
  try {
    const body = await getJSON("/wallboard/figures/");
    figures = body.figures;
    offsetMs = Date.parse(figures.now) - Date.now();
    board.dataset.seq = body.last_seq;
    $("wb-error").hidden = true;
    render();
  } catch (error) {
    $("wb-error").textContent = interpolate(gettext("Could not read the figures (%(why)s); the last ones stay on screen."), { why: error.message }, true);
    $("wb-error").hidden = false;
  } finally {
    reading = false;
  }
}

// One read soon: now if the last was long enough ago, else when the gap has passed.
function schedule() {
  if (pending) return;
  const wait = Math.max(0, lastRead + MIN_GAP_MS - Date.now());
  pending = setTimeout(() => { pending = null; read(); }, wait);
}

class Doorbell extends LiveSocket {
  handle(message) {
    super.handle(message);
    if (message.type === "cursor" && message.seq > seenSeq) {
      seenSeq = message.seq;
      schedule();
    }
  }
}

const showState = showConnectionState($("conn"));
new Doorbell({
  after: config.last_seq,
  onResync: () => schedule(),
  onState: (s) => {
    showState(s);
    if (s === "live") schedule(); // (re)connected: what changed meanwhile
  },
});
setInterval(tick, 1000);
setInterval(schedule, SAFETY_READ_MS);
render();
board.dataset.ready = "1";
