// The unit board and one unit from it. The board: every unit grouped by its station, each a small
// tile with its status (colour and words), call sign, kind and time in status, ticking; stations
// with a unit on a job come first, so what is busy is on screen without scrolling; it shows all,
// free, busy or out-of-service units (B steps through them). One unit: a status its crew reports
// by radio, taking it out of service with a reason and an expected return, and putting it back.
// U finds a unit by call sign on the board; Enter (or a click) opens it here; 1-9 pick the
// reported status.
"use strict";
import { $, escapeHtml, getJSON, gettext, interpolate, postJSON as post } from "./shared.js";
import { errorText } from "./console-dialogs.js";
import { STATUS_COLOR, STATUS_ORDER, isStale } from "./citymap.js";

// Why a unit is out of service: the common reasons, or the dispatcher's own words.
const OUT_REASONS = [
  gettext("Vehicle fault"),
  gettext("Maintenance"),
  gettext("Cleaning and disinfection"),
  gettext("Crew short"),
  gettext("Refuelling"),
  gettext("Training"),
];
// The free statuses a unit may be taken out of service from (a unit on a job finishes it first).
const MAY_GO_OUT = ["available", "returning", "relocating", "out_of_service"];

let ctx = null; // { labels, radio, time, timeZone, units, staleSeconds, locate(unit) }

export function setUpUnits(context) {
  ctx = context;
  const show = $("unit-show");
  show.addEventListener("change", () => renderBoard());
  // A click on a choice hands the keys back to the console (a focused radio button would keep
  // U, B and the rest as typing); from the keyboard, the arrows still move between the choices.
  show.addEventListener("click", (event) => {
    if (event.detail > 0) setTimeout(() => { if (show.contains(document.activeElement)) document.activeElement.blur(); });
  });
  $("unit-legend-list").innerHTML = STATUS_ORDER.map((s) =>
    `<li><span class="status-swatch" style="background:${STATUS_COLOR[s]}"></span>${escapeHtml(ctx.labels.status[s] || s)}</li>`).join("");
  loadStations();
  setInterval(tickBoard, 1000);
}

// The stations' names the board groups under; read again when one is added or renamed.
export function loadStations() {
  return getJSON("/api/stations").then((rows) => {
    stations = new Map(rows.map((s) => [s.id, s]));
    renderBoard();
  }).catch(() => { /* the board then groups by station number */ });
}

// ---------------------------------------------------------------- the board

// Which units each choice of the board shows; "busy" is a unit on a job.
export const FREE = ["available", "returning", "relocating"];
const SHOWS = {
  all: () => true,
  free: (u) => FREE.includes(u.status),
  busy: (u) => onJob(u),
  out: (u) => u.status === "out_of_service",
};
const onJob = (u) => !FREE.includes(u.status) && u.status !== "out_of_service";
let stations = new Map();

// Time in status: mm:ss within the hour, then 1h05, then 2d03h.
export function timeInStatus(iso, now = Date.now()) {
  if (!iso) return "—";
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const two = (n) => String(n).padStart(2, "0");
  if (s < 3600) return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

function stationName(id) {
  if (id == null) return gettext("No station");
  const s = stations.get(id);
  return s ? s.name : interpolate(gettext("Station %(id)s"), { id }, true);
}

function tile(u) {
  const li = document.createElement("li");
  li.id = `unit-${u.id}`;
  const why = unitLine(u);
  li.className = `unit-tile${onJob(u) ? " on-job" : ""}${u.status === "out_of_service" ? " out" : ""}${why ? " noted" : ""}`;
  li.dataset.status = u.status;
  li.tabIndex = -1;
  li.style.setProperty("--status", STATUS_COLOR[u.status] || "#333");
  const stale = isStale(u, ctx.staleSeconds);
  const status = ctx.labels.status[u.status] || u.status;
  const kind = ctx.labels.kind[u.kind] || u.kind;
  li.title = [u.call_sign, kind, status, why, stale ? ctx.labels.stale : ""].filter(Boolean).join(" · ");
  li.innerHTML = `<span class="line"><b class="call-sign">${escapeHtml(u.call_sign)}</b>` +
    `<span class="kind">${escapeHtml((ctx.labels.kind_short || {})[u.kind] || kind)}</span></span>` +
    `<span class="line"><span class="status">${escapeHtml(status)}${why ? `<small class="why">${escapeHtml(why)}</small>` : ""}</span>` +
    `<span class="since" title="${escapeHtml(gettext("Time in this status"))}">${timeInStatus(u.status_changed_at)}</span></span>` +
    (stale || u.crew_on_shift === false ? `<span class="flags">${stale ? `<span class="stale-flag">${escapeHtml(ctx.labels.stale)}</span>` : ""}` +
      `${u.crew_on_shift === false ? `<span class="no-crew-flag">${gettext("no crew")}</span>` : ""}</span>` : "");
  li.onclick = () => { ctx.locate?.(u); openUnit(u.id); };
  return li;
}

// Stations with a unit on a job first, then those with one out of service, then the others, each
// in station order; in a station, units by call sign (a tile keeps its place while its unit works).
const attention = (rows) => (rows.some(onJob) ? 0 : rows.some(SHOWS.out) ? 1 : 2);
function stationGroups(units) {
  const groups = new Map();
  for (const u of units) {
    const key = u.home_station ?? null;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(u);
  }
  const order = (id) => (id == null ? Infinity : id); // stations in the order they were set up
  return [...groups.entries()]
    .map(([id, rows]) => ({ id, rows: rows.sort((a, b) => a.call_sign.localeCompare(b.call_sign)), rank: attention(rows) }))
    .sort((a, b) => a.rank - b.rank || order(a.id) - order(b.id));
}

export function renderBoard() {
  if (!ctx) return;
  const board = $("unit-board");
  const all = [...ctx.units.values()];
  const show = $("unit-show").querySelector("input:checked")?.value || "all";
  const wanted = $("unit-filter").value.trim().toLowerCase();
  const focused = document.activeElement?.closest?.("#unit-board .unit-tile")?.id;
  const sections = stationGroups(all).flatMap(({ id, rows }) => {
    const shown = rows.filter((u) => SHOWS[show](u) && (!wanted || u.call_sign.toLowerCase().includes(wanted)));
    if (!shown.length) return [];
    const section = document.createElement("section");
    section.className = "station";
    section.dataset.station = id ?? "";
    const free = rows.filter((u) => FREE.includes(u.status)).length;
    const name = stationName(id);
    section.innerHTML = `<h3 class="station-name" title="${escapeHtml(name)}">${escapeHtml(name)}` +
      ` <small class="station-free" title="${escapeHtml(gettext("free of all its units"))}">${free}/${rows.length}</small></h3><ul class="tiles"></ul>`;
    section.querySelector(".tiles").replaceChildren(...shown.map(tile));
    return [section];
  });
  board.replaceChildren(...sections);
  if (!sections.length) board.innerHTML = `<p class="empty">${gettext("No unit to show.")}</p>`;
  if (focused) $(focused)?.focus({ preventScroll: true });
  const counts = { all: all.length, free: all.filter(SHOWS.free).length, busy: all.filter(SHOWS.busy).length, out: all.filter(SHOWS.out).length };
  for (const input of $("unit-show").querySelectorAll("input")) {
    input.closest("label").querySelector(".n").textContent = counts[input.value];
  }
}

function tickBoard() {
  const now = Date.now();
  for (const li of document.querySelectorAll("#unit-board .unit-tile")) {
    const unit = ctx.units.get(Number(li.id.slice(5)));
    if (unit) li.querySelector(".since").textContent = timeInStatus(unit.status_changed_at, now);
  }
}

// B: all, free, busy, out of service, all again.
export function nextBoardShow() {
  const inputs = [...$("unit-show").querySelectorAll("input")];
  const at = inputs.findIndex((i) => i.checked);
  inputs[(at + 1) % inputs.length].checked = true;
  renderBoard();
  $("unit-board").scrollTop = 0;
}

// The board by keyboard: U into the call-sign filter, ↓/↑ along the units, Enter opens one.
export function boardKeys(event) {
  const rows = [...$("unit-board").querySelectorAll(".unit-tile")];
  const at = rows.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && rows.length) { event.preventDefault(); rows[Math.min(at + 1, rows.length - 1)].focus(); }
  else if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? rows[at - 1] : $("unit-filter")).focus(); }
  else if (event.key === "Enter") {
    event.preventDefault();
    const row = at >= 0 ? rows[at] : rows[0];
    if (row) openUnit(Number(row.id.slice(5)));
  } else if (event.key === "Escape" && event.target === $("unit-filter")) {
    event.preventDefault();
    $("unit-filter").value = "";
    renderBoard();
    $("unit-filter").blur();
  }
}

// A time as a datetime-local field shows it: in the centre's time zone (the server reads a time
// typed without a zone as the centre's), whatever the zone of this PC.
function localInput(iso) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: ctx.timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

export function unitLine(unit) {
  const parts = [];
  // Where a move-up sends it, or where it waits since (console-moveup.js), while in that status.
  // The two clocks are one moment written in two formats (the event's and the unit list's).
  if (unit.move_up && Date.parse(unit.move_up.at) === Date.parse(unit.status_changed_at)) parts.push(unit.move_up.text);
  if (unit.status === "out_of_service" && unit.out_of_service_reason) parts.push(unit.out_of_service_reason);
  if (unit.status === "out_of_service" && unit.expected_back_at) {
    parts.push(interpolate(gettext("back %(time)s"), { time: ctx.time(unit.expected_back_at) }, true));
  }
  return parts.join(" · ");
}

export function openUnit(unitId) {
  const unit = ctx.units.get(unitId);
  if (!unit) return;
  const box = $("unit-dialog");
  const radio = ctx.radio[unit.status] || [];
  const out = unit.status === "out_of_service";
  const crew = unit.crew_on_shift === undefined ? "" : unit.crew_on_shift
    ? `<span class="crew-on">${gettext("crew on shift")}</span>` : `<span class="crew-off">${gettext("no crew on shift")}</span>`;
  box.innerHTML = `<div class="unit-form">
    <header class="unit-head"><h2>${escapeHtml(unit.call_sign)}</h2>
      <span class="muted">${escapeHtml(ctx.labels.kind[unit.kind] || unit.kind)}</span>
      <span class="status-pill">${escapeHtml(ctx.labels.status[unit.status] || unit.status)}</span>${crew}
      <button type="button" class="link-button close" aria-label="${gettext("Close")}">× <kbd>Esc</kbd></button></header>
    ${out ? `<p class="out-line">${escapeHtml(unitLine(unit)) || gettext("Out of service")}</p>
      <p><button type="button" class="primary back-in">${gettext("Back in service")}</button></p>` : ""}
    ${radio.length ? `<h3>${gettext("Status reported by radio")}</h3>
      <div class="radio-statuses">${radio.map((s, i) => `<button type="button" data-status="${s}"><kbd>${i + 1}</kbd> ${escapeHtml(ctx.labels.status[s] || s)}</button>`).join("")}</div>` : ""}
    ${MAY_GO_OUT.includes(unit.status) ? `<form class="out-form" novalidate>
      <h3>${out ? gettext("Change the reason or the expected return") : gettext("Take out of service")}</h3>
      <div class="row">
        <label class="grow-3">${gettext("Reason")}
          <input name="reason" list="out-reasons" maxlength="120" required autocomplete="off" value="${escapeHtml(out ? unit.out_of_service_reason || "" : "")}">
          <datalist id="out-reasons">${OUT_REASONS.map((r) => `<option value="${escapeHtml(r)}">`).join("")}</datalist></label>
        <label class="grow-1">${gettext("Expected back")} <small class="muted">${gettext("optional")}</small>
          <input name="back" type="datetime-local"></label>
      </div>
      <p class="reason-chips">${OUT_REASONS.map((r) => `<button type="button" class="chip-button" data-reason="${escapeHtml(r)}">${escapeHtml(r)}</button>`).join("")}</p>
      <div class="row dialog-buttons"><button type="submit" class="primary">${out ? gettext("Save") : gettext("Take out of service")}</button></div>
    </form>` : ""}
    <p class="error" role="alert"></p></div>`;
  const error = box.querySelector(".error");
  const act = async (work) => {
    error.textContent = "";
    try { await work(); box.close(); } catch (failure) { error.textContent = errorText(failure); }
  };
  box.querySelector(".close").onclick = () => box.close();
  box.querySelector(".back-in")?.addEventListener("click", () => act(() => post(`/api/units/${unit.id}/back-in-service`, {})));
  const buttons = [...box.querySelectorAll("[data-status]")];
  for (const b of buttons) b.onclick = () => act(() => post(`/api/units/${unit.id}/status`, { status: b.dataset.status }));
  const form = box.querySelector(".out-form");
  if (form) {
    if (out && unit.expected_back_at) form.elements.back.value = localInput(unit.expected_back_at);
    form.querySelectorAll("[data-reason]").forEach((b) => (b.onclick = () => { form.elements.reason.value = b.dataset.reason; form.elements.back.focus(); }));
    form.onsubmit = (event) => {
      event.preventDefault();
      const reason = form.elements.reason.value.trim();
      if (!reason) { error.textContent = gettext("Say why the unit is out of service."); form.elements.reason.focus(); return; }
      const back = form.elements.back.value;
      act(() => post(`/api/units/${unit.id}/out-of-service`, { reason, expected_back_at: back || null }));
    };
  }
  box.onkeydown = (event) => {
    const typingHere = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
    if (!typingHere && /^[1-9]$/.test(event.key) && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      buttons[Number(event.key) - 1]?.click();
    }
  };
  const opener = document.activeElement;
  box.onclose = () => { if (opener?.isConnected) opener.focus({ preventScroll: true }); };
  box.showModal();
  (buttons[0] || box.querySelector(".back-in") || form?.elements.reason || box.querySelector(".close")).focus();
}
