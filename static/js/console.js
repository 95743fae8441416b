// The dispatcher console: open incidents with their clocks, the intake (caller, location,
// triage, recommendation, dispatch), each incident's detail and timeline, the unit board and a
// live map. Keyboard first; every change arrives through the event socket, so two consoles
// always agree and a dropped connection loses nothing.
"use strict";
import { CityMap, STATUS_COLOR, isStale } from "./citymap.js";
import { LiveSocket, showConnectionState } from "./live.js";
import {
  $, KIND, LANG, PRIORITY, centreTime, escapeHtml, eventLabel, getJSON, gettext, interpolate, pgettext,
  postJSON as post,
} from "./shared.js";
import { chime } from "./sound.js";
import { handleCallEvent } from "./calls.js";

const root = $("console");
const config = JSON.parse($("console-config").textContent);
// The server's bilingual data (protocol names, recommendation reasons, notice texts) carries
// both languages: the page's language picks one.
const en = LANG === "en";
const L10N = config.labels;
const targets = config.targets;

const PIN_SVG = '<svg viewBox="0 0 26 34" width="26" height="34" aria-hidden="true"><path d="M13 33C13 33 2 19.5 2 12a11 11 0 0 1 22 0c0 7.5-11 21-11 21z" fill="#c8102e" stroke="#fff" stroke-width="2"/><circle cx="13" cy="12" r="4" fill="#fff"/></svg>';
const clockTime = centreTime(config.time_zone, { seconds: true });

const state = {
  incidents: new Map(),
  units: new Map(),
  hospitals: [],
  selected: null, // incident id shown in detail
  intake: null, // the incident being taken
};

// ---------------------------------------------------------------- clocks

function since(iso) {
  if (!iso) return null;
  return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
}

function mmss(seconds) {
  if (seconds == null) return "—";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

const sinceDispatch = (incident) => interpolate(gettext("sent %(clock)s"), { clock: mmss(since(incident.dispatched_at)) }, true);

function overdue(incident) {
  const sinceCall = since(incident.call_received_at || incident.created_at);
  if (!incident.dispatched_at) return sinceCall > targets.processing_s;
  if (!incident.on_scene_at) return sinceCall > (targets.response_s[incident.priority || 4] || 3600);
  return false;
}

// ---------------------------------------------------------------- incident list

function sortedIncidents() {
  return [...state.incidents.values()]
    .filter((i) => i.status === "open")
    .sort((a, b) => (a.priority || 9) - (b.priority || 9) || Date.parse(a.created_at) - Date.parse(b.created_at));
}

function unitChips(incident) {
  return incident.assignments
    .filter((a) => !a.cancelled_at && !a.cleared_at)
    .map((a) => `<span class="chip" style="border-color:${STATUS_COLOR[a.unit_status]}">${escapeHtml(a.unit_call_sign)} · ${L10N.status[a.unit_status] || a.unit_status}</span>`)
    .join("");
}

function incidentRow(incident) {
  const li = document.createElement("li");
  li.id = `incident-${incident.id}`;
  li.className = `incident p${incident.priority || 0}` + (incident.id === state.selected ? " selected" : "") + (overdue(incident) ? " overdue" : "");
  li.tabIndex = -1;
  li.innerHTML = `
    <div class="line1"><span class="prio">${incident.priority ? PRIORITY[incident.priority] : gettext("Not triaged")}</span>
      <b>${escapeHtml(incident.chief_complaint || gettext("(no complaint yet)"))}</b>
      <span class="num">${escapeHtml(incident.number)}</span></div>
    <div class="line2">${escapeHtml(incident.address || gettext("Location unknown"))}</div>
    <div class="line3"><span class="clock-call" title="${gettext("since the call")}">☎ ${mmss(since(incident.call_received_at || incident.created_at))}</span>
      <span class="clock-dispatch" title="${gettext("since dispatch")}">${incident.dispatched_at ? sinceDispatch(incident) : gettext("not dispatched")}</span></div>
    <div class="chips">${unitChips(incident)}</div>`;
  li.onclick = () => showDetail(incident.id);
  return li;
}

function renderIncidents() {
  const rows = sortedIncidents();
  city.drawIncidents(rows, state.selected);
  $("incident-count").textContent = rows.length;
  const list = $("incident-list");
  if (!rows.length) {
    list.innerHTML = `<li class="empty">${gettext("No open incidents.")}</li>`;
    return;
  }
  list.replaceChildren(...rows.map(incidentRow));
}

function tickClocks() {
  for (const incident of sortedIncidents()) {
    const li = $(`incident-${incident.id}`);
    if (!li) continue;
    li.querySelector(".clock-call").textContent = `☎ ${mmss(since(incident.call_received_at || incident.created_at))}`;
    if (incident.dispatched_at) li.querySelector(".clock-dispatch").textContent = sinceDispatch(incident);
    li.classList.toggle("overdue", overdue(incident));
  }
  if (state.intake?.incident) $("intake-clock").textContent = mmss(since(state.intake.incident.call_received_at));
  $("clock").textContent = clockTime(new Date());
}

// ---------------------------------------------------------------- units

function renderUnits() {
  const board = $("unit-board");
  const counts = {};
  const order = ["available", "returning", "dispatched", "acknowledged", "en_route", "on_scene", "patient_contact", "transporting", "at_hospital", "out_of_service"];
  const rows = [...state.units.values()].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || a.call_sign.localeCompare(b.call_sign));
  board.replaceChildren(...rows.map((u) => {
    counts[u.status] = (counts[u.status] || 0) + 1;
    const li = document.createElement("li");
    li.id = `unit-${u.id}`;
    const stale = isStale(u, targets.stale_s);
    li.innerHTML = `<span class="unit-dot${stale ? " stale" : ""}" style="background:${STATUS_COLOR[u.status]}"></span>` +
      `<b>${escapeHtml(u.call_sign)}</b><span class="muted">${L10N.kind[u.kind] || u.kind}</span>` +
      (stale ? `<span class="stale-flag">${L10N.stale}</span>` : "") +
      `<span class="status">${L10N.status[u.status] || u.status}</span>`;
    li.onclick = () => u.lon != null && city.map.setView([u.lat, u.lon], 15);
    return li;
  }));
  // Drawn dots, not emoji: a control-room PC may have no colour-emoji font.
  const free = (counts.available || 0) + (counts.returning || 0), off = counts.out_of_service || 0;
  const groups = [["available", gettext("free"), free], ["dispatched", gettext("busy"), rows.length - free - off], ["out_of_service", gettext("out"), off]];
  $("unit-summary").innerHTML = groups
    .map(([s, label, n]) => `<span class="unit-dot" style="background:${STATUS_COLOR[s]}"></span> ${label} ${n}`).join(" ");
}

async function loadUnits() {
  for (const unit of await getJSON("/api/units")) {
    state.units.set(unit.id, unit);
    city.drawUnit(unit);
  }
  renderUnits();
}

// ---------------------------------------------------------------- incidents from the server

const pending = new Map();
function refreshIncident(id) {
  // Several events about one incident often arrive together: fetch it once.
  clearTimeout(pending.get(id));
  pending.set(id, setTimeout(async () => {
    pending.delete(id);
    try {
      const incident = await getJSON(`/api/incidents/${id}`);
      state.incidents.set(id, incident);
      if (state.intake?.incident?.id === id) {
        state.intake.incident = incident;
        // A position adopted from the caller's phone (calls panel) fills the intake too.
        if (takeLocation(incident)) { checkDuplicates(); loadRecommendation(); }
      }
    } catch {
      state.incidents.delete(id);
    }
    renderIncidents();
    if (state.selected === id) renderDetail();
  }, 80));
}

async function loadIncidents() {
  state.incidents.clear();
  for (const incident of await getJSON("/api/incidents")) state.incidents.set(incident.id, incident);
  renderIncidents();
}

// ---------------------------------------------------------------- intake

function resetIntake() {
  state.intake = { incident: null, location: null, outcome: null, recommendation: null, unitIndex: 0, hospitalIndex: 0 };
  $("intake").reset();
  $("intake-title").textContent = gettext("New incident");
  $("intake-number").textContent = "";
  $("intake-clock").textContent = "";
  $("location-line").textContent = gettext("No location yet: pick a place or click the map.");
  $("location-line").className = "location-line muted";
  $("duplicates").hidden = true;
  $("triage-line").textContent = "";
  $("recommendation").innerHTML = `<p class="muted">${gettext("Locate and triage to see the best units.")}</p>`;
  $("override-box").hidden = true;
  $("dispatch-button").disabled = true;
  $("intake-error").textContent = "";
  if (pinMarker) { pinMarker.remove(); pinMarker = null; }
}

function openIntake() {
  endTriagePane(); // the previous intake's, when one was open: its CPR coaching goes to the dock
  // The next call needs the room: the docked steps fold away (one click opens them again), the
  // beat and its stop control stay in sight.
  cprDock?.element.querySelector(".cpr-dock-steps")?.removeAttribute("open");
  state.selected = null;
  $("detail").hidden = true;
  $("work-empty").hidden = true;
  $("intake").hidden = false;
  resetIntake();
  startTriagePane();
  $("caller-number").focus();
  renderIncidents();
}

// `dispatched`: a unit was just sent, so CPR coaching on screen goes on in the dock even if its
// beat has not started yet (dispatch first, coach after).
function closeIntake({ dispatched = false } = {}) {
  // Here, or nowhere: the dispatch button lets the focus go when it is disabled while sending.
  const focusWasHere = $("intake").contains(document.activeElement) || document.activeElement === document.body;
  endTriagePane({ dispatched });
  $("intake").hidden = true;
  state.intake = null;
  if (!state.selected) $("work-empty").hidden = false;
  if (pinMarker) { pinMarker.remove(); pinMarker = null; }
  // A hidden field keeping the focus would swallow the next shortcut (N, J, K) as typing; the
  // CPR dock, when there is one, is what the dispatcher turns to next.
  if (focusWasHere) {
    document.activeElement.blur();
    cprDock?.element.focus({ preventScroll: true });
  }
}

function showError(error) {
  $("intake-error").textContent = error.message || String(error);
}

async function ensureIncident() {
  // The record exists from the moment the dispatcher has something to write down.
  const intake = state.intake;
  if (intake.incident) return intake.incident;
  if (!intake.creating) {
    intake.creating = post("/api/incidents", { caller_number: $("caller-number").value.trim() });
  }
  intake.incident = await intake.creating;
  state.incidents.set(intake.incident.id, intake.incident);
  if (state.intake === intake) $("intake-number").textContent = intake.incident.number;
  renderIncidents();
  return intake.incident;
}

// After an await: is this still the intake on screen? (Esc or a new call may have replaced it.)
const current = (intake) => intake !== null && state.intake === intake;

async function callerNumberDone() {
  const intake = state.intake;
  if (!intake || !$("caller-number").value.trim()) return;
  try {
    const incident = await ensureIncident();
    if (!current(intake)) return;
    if (incident.caller_number !== $("caller-number").value.trim()) {
      const updated = await post(`/api/incidents/${incident.id}/details`, { caller_number: $("caller-number").value.trim() });
      if (!current(intake)) return;
      intake.incident = updated;
    }
    checkDuplicates();
  } catch (error) { if (current(intake)) showError(error); }
}

// Location search (gazetteer) --------------------------------------------

let searchTimer = null;
let results = [];
let highlighted = -1;

function renderResults() {
  const list = $("place-results");
  list.hidden = !results.length;
  $("place-search").setAttribute("aria-expanded", String(results.length > 0));
  list.replaceChildren(...results.map((place, i) => {
    const li = document.createElement("li");
    li.role = "option";
    li.className = i === highlighted ? "active" : "";
    li.innerHTML = `<b>${escapeHtml(place.name)}</b> <span class="muted">${escapeHtml(place.name_en || "")}</span>` +
      `<span class="kind">${escapeHtml(place.district || "")} ${escapeHtml(place.kind)}</span>`;
    li.onmousedown = (e) => { e.preventDefault(); pickPlace(place); };
    return li;
  }));
}

async function searchPlaces(text) {
  if (!text.trim()) { results = []; renderResults(); return; }
  try {
    results = await getJSON(`/api/places/search?q=${encodeURIComponent(text.trim())}&limit=8`);
  } catch (error) {
    results = [];
    $("location-line").textContent = error.message;
  }
  highlighted = results.length ? 0 : -1;
  renderResults();
  if (!results.length && config.geocoder && text.trim().length >= 2) geocodeFallback(text.trim());
}

// The gazetteer found nothing: ask the external geocoder, without ever making the dispatcher
// wait for it (the server cuts a slow one off; the map pin always works).
async function geocodeFallback(text) {
  let found = null;
  try { found = (await getJSON(`/api/geocode?q=${encodeURIComponent(text)}`)).result; } catch { return; }
  if (!found || $("place-search").value.trim() !== text || results.length) return;
  results = [{ id: null, geocoded: true, name: found.address, name_en: "", kind: gettext("geocoder"), district: found.provider, lon: found.lon, lat: found.lat }];
  highlighted = 0;
  renderResults();
}

async function pickPlace(place) {
  results = [];
  renderResults();
  $("place-search").value = place.name;
  await setLocation({ lon: place.lon, lat: place.lat, source: place.geocoded ? "geocoder" : "gazetteer", place: place.id, address: place.name });
  $("triage").focus();
}

let pinMarker = null;

async function setLocation({ lon, lat, source, place = null, address = "" }) {
  const intake = state.intake;
  try {
    const incident = await ensureIncident();
    const located = await post(`/api/incidents/${incident.id}/locate`, { lon, lat, source, place, address });
    if (!current(intake)) return; // closed meanwhile: no pin for an intake that is gone
    intake.incident = located;
    intake.location = { lon, lat };
    placePin(lon, lat);
    describeLocation(lon, lat, address);
    checkDuplicates();
    loadRecommendation();
  } catch (error) { if (current(intake)) showError(error); }
}

function placePin(lon, lat) {
  if (!pinMarker) {
    pinMarker = L.marker([lat, lon], { draggable: true, keyboard: false, icon: L.divIcon({ className: "pin-icon", html: PIN_SVG, iconSize: [26, 34], iconAnchor: [13, 33] }) }).addTo(city.map);
    pinMarker.on("dragend", () => {
      const p = pinMarker.getLatLng();
      setLocation({ lon: p.lng, lat: p.lat, source: "pin" });
    });
  } else {
    pinMarker.setLatLng([lat, lon]);
  }
  city.map.setView([lat, lon], Math.max(city.map.getZoom(), 15));
}

async function describeLocation(lon, lat, address) {
  const line = $("location-line");
  line.className = "location-line";
  line.textContent = `${gettext("Location")}: ${address || `${lat.toFixed(5)}, ${lon.toFixed(5)}`}`;
  try {
    const near = await getJSON(`/api/places/reverse?lon=${lon}&lat=${lat}`);
    const parts = [];
    if (near.place) parts.push(`${gettext("nearest place")}: ${near.place.name} (${Math.round(near.place.distance_m ?? near.distance_m ?? 0)} m)`);
    if (near.snap) parts.push(`${gettext("to the road")} ${Math.round(near.snap.distance_m)} m`);
    if (parts.length) line.textContent += ` · ${parts.join(" · ")}`;
  } catch { /* the pin alone is enough to dispatch */ }
}

async function checkDuplicates() {
  const intake = state.intake;
  if (!intake?.incident) return;
  const params = new URLSearchParams({ caller_number: intake.incident.caller_number || "" });
  if (intake.location) { params.set("lon", intake.location.lon); params.set("lat", intake.location.lat); }
  let rows = [];
  try { rows = await getJSON(`/api/incidents/duplicates?${params}`); } catch { return; }
  if (!current(intake)) return;
  rows = rows.filter((r) => r.id !== intake.incident.id);
  const box = $("duplicates");
  box.hidden = !rows.length;
  box.innerHTML = rows.length ? `<b>${gettext("Possible duplicate:")}</b>` + rows.map((r) =>
    `<div class="dup">${escapeHtml(r.number)} · ${escapeHtml(r.chief_complaint || "")} · ${escapeHtml(r.address || "")} · <i>${escapeHtml(r.reason)}</i>
     <button type="button" class="link-dup" data-id="${r.id}">${gettext("Link to this one")}</button></div>`).join("") : "";
  box.querySelectorAll(".link-dup").forEach((b) => (b.onclick = () => linkTo(Number(b.dataset.id))));
}

async function linkTo(targetId) {
  try {
    await post(`/api/incidents/${state.intake.incident.id}/link`, { to: targetId });
    closeIntake();
    showDetail(targetId);
  } catch (error) { showError(error); }
}

// Triage ------------------------------------------------------------------

let protocols = null;
let triageModule = null;
let triage = null; // the open intake's triage controller: exactly one, or none
let triageRun = 0; // bumped whenever the pane is ended, so a pane still loading knows it is unwanted

async function startTriagePane() {
  endTriagePane();
  const run = triageRun;
  const pane = $("triage");
  pane.tabIndex = -1;
  try {
    triageModule = triageModule || (await import("./triage.js"));
    protocols = protocols || (await getJSON("/api/triage/protocols"));
    if (run !== triageRun) return; // the intake closed or a newer one started while this loaded
    triage = triageModule.startTriage(pane, protocols, { lang: LANG, onOutcome: triageDone });
  } catch (error) {
    if (run !== triageRun) return;
    pane.innerHTML = `<p class="error">${escapeHtml(interpolate(gettext("Triage could not load: %(error)s"), { error: error.message }, true))}</p>`;
  }
}

// The triage controller goes with its intake, listeners and all (a controller left behind would
// answer every later key press again); CPR coaching under way moves to the dock instead.
function endTriagePane({ dispatched = false } = {}) {
  triageRun += 1;
  if (!triage) return;
  const cpr = triage.takeCpr({ always: dispatched });
  if (cpr) dockCpr(cpr, state.intake?.incident);
  triage.destroy();
  triage = null;
}

// Telephone CPR dock --------------------------------------------------------

// Coaching outlives the intake it started in: dispatch first, coach after, and a new call must
// not silence it. One session at a time (triage.js holds that rule); only End removes it.
let cprDock = null;

function dockCpr(cpr, incident) {
  const dock = document.createElement("section");
  dock.id = "cpr-dock";
  dock.className = "cpr-dock";
  dock.tabIndex = -1;
  dock.setAttribute("aria-label", gettext("Telephone CPR"));
  const where = [incident?.number, incident?.address].filter(Boolean).map(escapeHtml).join(" · ");
  dock.innerHTML = `<header class="cpr-dock-head">
      <h2>${escapeHtml(cpr.title || gettext("Telephone CPR"))}</h2>
      <span class="cpr-dock-incident">${where}</span>
      <button type="button" class="cpr-end">${gettext("End CPR coaching")}</button></header>
    <details class="cpr-dock-steps" open><summary>${gettext("Tell the caller")}</summary><ol></ol></details>`;
  dock.querySelector("ol").replaceChildren(...cpr.steps.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  dock.querySelector(".cpr-dock-head").after(cpr.element);
  dock.querySelector(".cpr-end").onclick = endCprDock;
  $("work").prepend(dock);
  cprDock = { element: dock, cpr };
}

function endCprDock() {
  if (!cprDock) return;
  const { element, cpr } = cprDock;
  cprDock = null;
  const hadFocus = element.contains(document.activeElement);
  cpr.end();
  element.remove();
  // Back to where the keyboard works on: the open intake, else the page (N, J, K).
  if (hadFocus && state.intake && !$("intake").hidden) {
    ($("dispatch-button").disabled ? $("triage") : $("dispatch-button")).focus();
  }
}

async function triageDone(outcome) {
  const intake = state.intake;
  if (!intake) return;
  intake.outcome = outcome;
  holdRecommendation();
  const protocol = protocols.find((p) => p.code === outcome.protocol) || {};
  $("triage-line").innerHTML = `<span class="prio-badge p${outcome.priority}">${PRIORITY[outcome.priority]}</span> ` +
    `${escapeHtml(en ? protocol.name_en || protocol.name : protocol.name)} · ${gettext("needs")} ${escapeHtml((outcome.capability || "").toUpperCase())}`;
  try {
    const incident = await ensureIncident();
    const triaged = await post(`/api/incidents/${incident.id}/triage`, {
      priority: outcome.priority,
      chief_complaint: protocol.name || outcome.protocol,
      capability: outcome.capability || "",
      protocol: outcome.protocol,
      answers: outcome.answers || [],
      hospital_capability: outcome.hospital_capability || "",
      instruction: outcome.instruction || "",
    });
    if (!current(intake)) return;
    intake.incident = triaged;
    await loadRecommendation();
    if (current(intake)) $("dispatch-button").focus();
  } catch (error) {
    if (!current(intake)) return;
    showError(error);
    // Sending a unit must not wait on a triage that could not be recorded.
    $("recommendation").classList.remove("loading");
    if (intake.recommendation) renderRecommendation();
  }
}

// Recommendation ------------------------------------------------------------

function fmtMinutes(seconds) {
  if (seconds == null || !isFinite(seconds)) return "—";
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return interpolate(gettext("%(m)s min %(s)s s"), { m, s }, true);
}

let recommendationAsked = 0;

// The units on screen were chosen before the triage just done (they may lack what it needs):
// answers still on their way are dropped, and Dispatch waits for the recommendation for it.
function holdRecommendation() {
  recommendationAsked += 1;
  $("dispatch-button").disabled = true;
  if (state.intake?.recommendation) $("recommendation").classList.add("loading");
}

async function loadRecommendation() {
  const intake = state.intake;
  if (!intake?.incident?.lon && !intake?.location) return;
  // Located and triaged close together, two answers can cross: only the last one asked counts
  // (an earlier one, from before the triage, may recommend a unit that lacks what is needed).
  const asked = ++recommendationAsked;
  const params = new URLSearchParams();
  const hospitalCapability = intake.outcome?.hospital_capability || intake.incident?.triage?.hospital_capability;
  if (hospitalCapability) params.set("hospital_capability", hospitalCapability);
  const box = $("recommendation");
  box.classList.add("loading");
  try {
    const recommendation = await getJSON(`/api/incidents/${intake.incident.id}/recommendation?${params}`);
    if (asked !== recommendationAsked || !current(intake)) return;
    intake.recommendation = recommendation;
    intake.unitIndex = 0;
    intake.hospitalIndex = 0;
    renderRecommendation();
  } catch (error) {
    if (asked === recommendationAsked && current(intake)) box.innerHTML = `<p class="error">${escapeHtml(error.message)}</p>`;
  } finally {
    if (asked === recommendationAsked) box.classList.remove("loading");
  }
}

function reasonsText(row) {
  const reasons = row.reasons || [];
  return reasons.map((r) => escapeHtml(typeof r === "string" ? r : en ? r.en : r.zh)).join(" · ");
}

function renderRecommendation() {
  const rec = state.intake.recommendation;
  const units = rec.units || [];
  const hospitals = rec.hospitals || [];
  const unitRows = units.slice(0, 8).map((u, i) => `
    <tr class="${i === state.intake.unitIndex ? "chosen" : ""}${u.stale ? " stale" : ""}${u.has_capability === false ? " lacks" : ""}" data-i="${i}">
      <td class="rank">${i + 1}</td><td><b>${escapeHtml(u.call_sign)}</b></td>
      <td>${L10N.kind[u.kind] || u.kind}</td><td class="eta">${fmtMinutes(u.eta_s)}</td>
      <td>${u.road_m != null && isFinite(u.road_m) ? (u.road_m / 1000).toFixed(1) + " km" : "—"}</td>
      <td class="why">${reasonsText(u)}</td></tr>`).join("");
  const hospitalRows = hospitals.slice(0, 5).map((h, i) => `
    <tr class="${i === state.intake.hospitalIndex ? "chosen" : ""}${h.diverting ? " diverting" : ""}" data-i="${i}">
      <td class="rank">${i + 1}</td><td><b>${escapeHtml(h.name)}</b></td><td class="eta">${fmtMinutes(h.eta_s)}</td>
      <td class="why">${reasonsText(h)}</td></tr>`).join("");
  const shortfall = rec.shortfall ? `<p class="shortfall">⚠ ${escapeHtml(typeof rec.shortfall === "string" ? rec.shortfall : en ? rec.shortfall.en : rec.shortfall.zh)}</p>` : "";
  $("recommendation").innerHTML = `${shortfall}
    <table class="rec units"><caption>${gettext("Recommended units")} <small class="muted">Alt+1…9</small></caption>
      <thead><tr><th>#</th><th>${gettext("Unit")}</th><th>${gettext("Kind")}</th><th>ETA</th><th>${gettext("Road")}</th><th>${gettext("Why")}</th></tr></thead>
      <tbody>${unitRows || `<tr><td colspan="6" class="muted">${gettext("No unit to send")}</td></tr>`}</tbody></table>
    <table class="rec hospitals"><caption>${gettext("Recommended hospitals")} <small class="muted">Shift+1…5</small></caption>
      <thead><tr><th>#</th><th>${gettext("Hospital")}</th><th>ETA</th><th>${gettext("Why")}</th></tr></thead>
      <tbody>${hospitalRows || `<tr><td colspan="4" class="muted">—</td></tr>`}</tbody></table>`;
  $("recommendation").querySelectorAll("table.units tbody tr[data-i]").forEach((tr) => (tr.onclick = () => chooseUnit(Number(tr.dataset.i))));
  $("recommendation").querySelectorAll("table.hospitals tbody tr[data-i]").forEach((tr) => (tr.onclick = () => chooseHospital(Number(tr.dataset.i))));
  $("override-box").hidden = state.intake.unitIndex === 0;
  $("dispatch-button").disabled = !units.length;
}

function chooseUnit(i) {
  const units = state.intake?.recommendation?.units || [];
  if (i >= units.length) return;
  state.intake.unitIndex = i;
  renderRecommendation();
  if (i > 0) $("override-reason").focus();
}

function chooseHospital(i) {
  const hospitals = state.intake?.recommendation?.hospitals || [];
  if (i >= hospitals.length) return;
  state.intake.hospitalIndex = i;
  renderRecommendation();
}

async function dispatchChosen(event) {
  event?.preventDefault();
  const intake = state.intake;
  const units = intake?.recommendation?.units || [];
  if (!units.length) return;
  const unit = units[intake.unitIndex];
  const hospital = (intake.recommendation.hospitals || [])[intake.hospitalIndex];
  $("dispatch-button").disabled = true;
  try {
    await post(`/api/incidents/${intake.incident.id}/dispatch`, {
      unit: unit.id,
      hospital: hospital ? hospital.id : null,
      recommended_rank: intake.unitIndex + 1,
      eta_s: isFinite(unit.eta_s) ? unit.eta_s : null,
      hospital_rank: hospital ? intake.hospitalIndex + 1 : null,
      override_reason: $("override-reason").value.trim(),
    });
    chime("dispatched");
    if (!current(intake)) return; // closed while the unit was being sent: leave the screen alone
    closeIntake({ dispatched: true });
    showDetail(intake.incident.id);
  } catch (error) {
    if (!current(intake)) return;
    showError(error);
    $("dispatch-button").disabled = false;
    if (error.code === "unit_busy") loadRecommendation(); // taken meanwhile: ask again
  }
}

// ---------------------------------------------------------------- detail of one incident

function showDetail(id) {
  state.selected = id;
  if (state.intake) closeIntake();
  $("work-empty").hidden = true;
  $("detail").hidden = false;
  renderIncidents();
  renderDetail();
  const incident = state.incidents.get(id);
  if (incident?.lon != null) city.map.setView([incident.lat, incident.lon], 15);
}

// One timeline line; the kinds that carry words say them.
function timelineText(e) {
  const text = eventLabel(e.kind);
  const d = e.data || {};
  switch (e.kind) {
    case KIND.UNIT_STATUS: return `${d.call_sign || ""} ${L10N.status[d.to] || d.to}`;
    case KIND.ASSIGNMENT_CREATED: return `${text} ${d.unit || ""}`;
    case KIND.ASSIGNMENT_CANCELLED: return `${text} ${d.unit || ""}: ${d.reason || ""}`;
    case KIND.NOTICE_SENT: case KIND.NOTICE_UPDATED: case KIND.NOTICE_ACKNOWLEDGED:
      return `${text}: ${d.hospital_name || ""} · ${d.call_sign || ""}`;
    case KIND.NOTICE_UNACKNOWLEDGED: return (en ? d.text_en : d.text) || text;
    case KIND.MESSAGE_SENT: return `${text} ${d.direction === "to_crew" ? gettext("control → crew") : gettext("crew → control")}: ${d.text || ""}`;
    default: return text;
  }
}

async function renderDetail() {
  const incident = state.incidents.get(state.selected);
  const box = $("detail");
  if (!incident) {
    box.innerHTML = `<p class="muted">${gettext("This incident is closed.")}</p>`;
    return;
  }
  const live = incident.assignments.filter((a) => !a.cancelled_at && !a.cleared_at);
  box.innerHTML = `
    <header class="work-head"><h2><span class="prio-badge p${incident.priority || 0}">${incident.priority ? PRIORITY[incident.priority] : gettext("Not triaged")}</span>
      ${escapeHtml(incident.chief_complaint || "")}</h2><span class="incident-number">${escapeHtml(incident.number)}</span>
      <span class="big-clock">☎ ${mmss(since(incident.call_received_at || incident.created_at))}</span></header>
    <dl class="facts"><dt>${gettext("Address")}</dt><dd>${escapeHtml(incident.address || "—")}</dd>
      <dt>${gettext("Caller")}</dt><dd>${escapeHtml(incident.caller_number || "—")}</dd>
      <dt>${gettext("Needs")}</dt><dd>${escapeHtml((incident.capability_needed || "—").toUpperCase())}</dd></dl>
    <h3>${gettext("Units")}</h3>
    <ul class="assignments">${incident.assignments.map((a) => `
      <li class="${a.cancelled_at ? "cancelled" : a.cleared_at ? "cleared" : ""}">
        <span class="unit-dot" style="background:${STATUS_COLOR[a.unit_status]}"></span><b>${escapeHtml(a.unit_call_sign)}</b>
        <span>${a.cancelled_at ? gettext("stood down") + ": " + escapeHtml(a.cancel_reason) : a.cleared_at ? gettext("cleared") : L10N.status[a.unit_status]}</span>
        <span class="muted">→ ${escapeHtml(a.hospital_name || gettext("no hospital yet"))}</span>
        ${!a.cancelled_at && !a.cleared_at ? `<button type="button" data-cancel="${a.id}">${gettext("Stand down")}</button>` : ""}
      </li>`).join("") || `<li class="muted">${gettext("No unit sent yet")}</li>`}</ul>
    <div class="row">
      <button type="button" id="add-unit">${gettext("Send another unit")}</button>
      <select id="close-outcome" ${live.length ? "disabled" : ""}>
        <option value="">${gettext("Outcome…")}</option>
        <option value="transported">${gettext("Transported")}</option>
        <option value="treated_on_scene">${gettext("Treated on scene")}</option>
        <option value="refused">${gettext("Refused transport")}</option>
        <option value="dead_on_arrival">${gettext("Dead on arrival")}</option>
        <option value="false_call">${gettext("False call")}</option>
        <option value="cancelled">${gettext("Cancelled by caller")}</option></select>
      <button type="button" id="close-incident" ${live.length ? "disabled" : ""}>${pgettext("close an incident", "Close")}</button>
    </div>
    <p id="detail-error" class="error" role="alert"></p>
    ${live.length ? `<h3>${gettext("Crew messages")}</h3><div id="messages" class="messages"></div>` : ""}
    <h3>${gettext("Timeline")}</h3><ol id="timeline" class="timeline"><li class="muted">…</li></ol>`;
  box.querySelectorAll("[data-cancel]").forEach((b) => (b.onclick = () => standDown(Number(b.dataset.cancel))));
  $("add-unit").onclick = () => addUnit(incident);
  $("close-incident").onclick = () => closeIncident(incident);
  loadTimeline(incident.id);
  loadMessages(live);
}

// A pre-arrival notice nobody at the hospital acknowledged: phone them (one banner each).
function showNoticeAlert(event) {
  const d = event.data;
  if ($(`notice-alert-${d.notice}`)) return;
  chime("alert");
  const box = document.createElement("div");
  box.id = `notice-alert-${d.notice}`;
  box.className = "notice-alert";
  box.role = "alert";
  box.innerHTML = `<b>⚠ ${escapeHtml((en ? d.text_en : d.text) || "")}</b> · ${escapeHtml(d.incident_number || "")} · ${escapeHtml(d.call_sign || "")}
    ${d.hospital_phone ? `<a href="tel:${escapeHtml(d.hospital_phone)}">☎ ${escapeHtml(d.hospital_phone)}</a>` : ""}
    <button type="button" class="phoned">${gettext("Phoned: recorded")}</button>
    <button type="button" class="dismiss" aria-label="${gettext("Dismiss")}">×</button>`;
  box.querySelector(".phoned").onclick = async () => {
    try { await post(`/api/er/notices/${d.notice}/acknowledge`, {}); box.remove(); }
    catch (error) { box.querySelector("b").textContent = error.message; }
  };
  box.querySelector(".dismiss").onclick = () => box.remove();
  $("alerts").append(box);
}

// Crew messages ------------------------------------------------------------------

async function loadMessages(live) {
  const box = $("messages");
  if (!box) return;
  const threads = await Promise.all(live.map(async (a) => {
    try { return { a, rows: await getJSON(`/api/units/${a.unit}/messages?limit=20`) }; }
    catch (error) { return { a, error }; }
  }));
  if (!$("messages")) return;
  box.replaceChildren(...threads.map(({ a, rows, error }) => {
    const thread = document.createElement("div");
    thread.className = "thread";
    const lines = error ? `<p class="error">${escapeHtml(error.message)}</p>` : (rows || []).map((m) => `
      <li class="${m.direction}${m.direction === "to_control" && !m.read_at ? " unread" : ""}">
        <time>${clockTime(m.sent_at)}</time> <b>${escapeHtml(m.direction === "to_crew" ? gettext("Control") : a.unit_call_sign)}</b>
        ${escapeHtml(m.text)}</li>`).join("") || `<li class="muted">${gettext("No messages yet")}</li>`;
    thread.innerHTML = `<h4>${escapeHtml(a.unit_call_sign)}</h4><ol>${lines}</ol>
      <form class="row send-message"><input maxlength="500" placeholder="${gettext("To the crew…")}" aria-label="${gettext("Message to the crew")}">
      <button type="submit">${gettext("Send")}</button></form>`;
    thread.querySelector("form").onsubmit = (event) => sendMessage(event, a.unit);
    for (const m of rows || []) if (m.direction === "to_control" && !m.read_at) post(`/api/messages/${m.id}/read`, {}).catch(() => {});
    return thread;
  }));
}

async function sendMessage(event, unitId) {
  event.preventDefault();
  const input = event.target.querySelector("input");
  const text = input.value.trim();
  if (!text) return;
  try {
    await post(`/api/units/${unitId}/messages`, { text, idempotency_key: crypto.randomUUID() });
    input.value = "";
  } catch (error) { $("detail-error").textContent = error.message; }
}

async function loadTimeline(id) {
  try {
    const events = await getJSON(`/api/incidents/${id}/timeline`);
    if (state.selected !== id) return;
    $("timeline").innerHTML = events.map((e) => {
      if (e.kind === KIND.MESSAGE_READ) return "";
      return `<li><time>${clockTime(e.at)}</time> ${escapeHtml(timelineText(e))}</li>`;
    }).join("");
  } catch (error) {
    $("timeline").innerHTML = `<li class="error">${escapeHtml(error.message)}</li>`;
  }
}

async function standDown(assignmentId) {
  const reason = prompt(gettext("Why is the unit stood down?"));
  if (!reason) return;
  try { await post(`/api/assignments/${assignmentId}/cancel`, { reason }); } catch (error) { $("detail-error").textContent = error.message; }
}

// The intake, carried on for an incident that already exists.
function continueIntake(incident, title) {
  openIntake();
  state.intake.incident = incident;
  $("intake-title").textContent = title;
  $("intake-number").textContent = incident.number;
  $("caller-number").value = incident.caller_number;
  takeLocation(incident);
}

// The incident's own position, unless the dispatcher has already chosen one in this intake.
function takeLocation(incident) {
  if (incident.lon == null || state.intake.location) return false;
  state.intake.location = { lon: incident.lon, lat: incident.lat };
  placePin(incident.lon, incident.lat);
  describeLocation(incident.lon, incident.lat, incident.address);
  return true;
}

function addUnit(incident) {
  continueIntake(incident, gettext("Send another unit"));
  loadRecommendation().then(() => $("dispatch-button").focus());
}

// A call taken in the calls panel: the server opened its incident with the caller's number and
// the ring and answer times, so the intake goes on with that record (no retyping, no second
// record) and the cursor waits in the place search while the caller speaks.
document.addEventListener("call:taken", async (event) => {
  const id = event.detail.incident;
  if (!id) return;
  try {
    const incident = await getJSON(`/api/incidents/${id}`);
    state.incidents.set(id, incident);
    continueIntake(incident, gettext("Call in progress"));
    $("place-search").focus();
    checkDuplicates();
  } catch (error) {
    openIntake();
    showError(error);
  }
});

async function closeIncident(incident) {
  const outcome = $("close-outcome").value;
  if (!outcome) { $("detail-error").textContent = gettext("Choose the outcome first."); return; }
  try {
    await post(`/api/incidents/${incident.id}/close`, { outcome });
    state.incidents.delete(incident.id);
    state.selected = null;
    $("detail").hidden = true;
    $("work-empty").hidden = false;
    renderIncidents();
  } catch (error) { $("detail-error").textContent = error.message; }
}

// ---------------------------------------------------------------- keyboard

function typing(target) {
  return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable;
}

// Enter on a control does what the control says ("Link to this one" must not send a unit); in
// the triage pane and the CPR dock it belongs to them.
function ownsEnter(target) {
  return target.closest?.("#triage, #cpr-dock, button:not(#dispatch-button), a[href], summary") != null;
}

function walkIncidents(step) {
  const rows = sortedIncidents();
  if (!rows.length) return;
  const at = rows.findIndex((i) => i.id === state.selected);
  const next = rows[(at + step + rows.length) % rows.length];
  showDetail(next.id);
  $(`incident-${next.id}`)?.scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (event) => {
  const intakeOpen = state.intake && !$("intake").hidden;
  if (event.key === "Escape") {
    if ($("shortcuts").open) return;
    if (results.length) { results = []; renderResults(); return; }
    if (intakeOpen) { closeIntake(); return; }
  }
  if (event.key === "F2") { event.preventDefault(); if (!intakeOpen) openIntake(); $("place-search").focus(); return; }
  if (intakeOpen && event.altKey && /^[1-9]$/.test(event.key)) { event.preventDefault(); chooseUnit(Number(event.key) - 1); return; }
  if (intakeOpen && event.shiftKey && /^Digit[1-5]$/.test(event.code) && !typing(event.target)) {
    event.preventDefault(); chooseHospital(Number(event.code.slice(5)) - 1); return;
  }
  if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "n" || event.key === "N") { event.preventDefault(); openIntake(); }
  else if (event.key === "j" || event.key === "J") walkIncidents(1);
  else if (event.key === "k" || event.key === "K") walkIncidents(-1);
  else if (event.key === "?") $("shortcuts").showModal();
  else if ((event.key === "m" || event.key === "M") && triageModule?.toggleCprBeat()) event.preventDefault();
  else if (event.key === "Enter" && intakeOpen && !$("dispatch-button").disabled && !ownsEnter(event.target)) {
    event.preventDefault(); dispatchChosen();
  }
});

$("new-incident").onclick = openIntake;
$("shortcuts-button").onclick = () => $("shortcuts").showModal();
$("intake").onsubmit = dispatchChosen;
$("caller-number").addEventListener("keydown", (event) => {
  if (event.key === "Enter") { event.preventDefault(); $("place-search").focus(); }
});
$("caller-number").addEventListener("change", callerNumberDone);
$("place-search").addEventListener("input", (event) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => searchPlaces(event.target.value), 120);
});
$("place-search").addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" && results.length) { event.preventDefault(); highlighted = (highlighted + 1) % results.length; renderResults(); }
  else if (event.key === "ArrowUp" && results.length) { event.preventDefault(); highlighted = (highlighted - 1 + results.length) % results.length; renderResults(); }
  else if (event.key === "Enter") {
    event.preventDefault();
    if (results.length) pickPlace(results[Math.max(0, highlighted)]);
  }
});
$("override-reason").addEventListener("keydown", (event) => {
  if (event.key === "Enter") { event.preventDefault(); dispatchChosen(); }
});

// ---------------------------------------------------------------- start

const city = new CityMap("console-map", {
  labels: L10N,
  staleSeconds: targets.stale_s,
  onMapClick: (latlng) => { if (state.intake) setLocation({ lon: latlng.lng, lat: latlng.lat, source: "pin" }); },
});

function onEvent(event) {
  handleCallEvent(event, city.map); // calls, the location link, the caller's position
  if (event.incident) {
    if (event.kind === KIND.INCIDENT_CREATED && !state.incidents.has(event.incident) && event.actor !== null) chime("incident");
    refreshIncident(event.incident);
  }
  if (event.kind.startsWith("unit.") || event.kind.startsWith("assignment.")) {
    const unit = state.units.get(event.unit);
    if (unit && event.kind === KIND.UNIT_STATUS) { unit.status = event.data.to; city.drawUnit(unit); renderUnits(); }
    else if (event.kind === KIND.UNIT_CREATED) loadUnits();
    else if (event.kind === KIND.ASSIGNMENT_CREATED && unit) { unit.status = "dispatched"; city.drawUnit(unit); renderUnits(); }
    else if (event.kind === KIND.ASSIGNMENT_CANCELLED) loadUnits();
  }
  if (event.kind.startsWith("hospital.") && state.intake?.recommendation) loadRecommendation();
  if (event.kind === KIND.NOTICE_UNACKNOWLEDGED) showNoticeAlert(event);
  if (event.kind === KIND.NOTICE_ACKNOWLEDGED) $(`notice-alert-${event.data.notice}`)?.remove();
  if (event.kind === KIND.MESSAGE_SENT) {
    if (event.data.direction === "to_control") chime("notice");
    const incident = state.incidents.get(state.selected);
    if (incident?.assignments.some((a) => a.unit === event.unit)) loadMessages(incident.assignments.filter((a) => !a.cancelled_at && !a.cleared_at));
  }
}

// Events missed while away are replayed by number; positions are state, not events, so
// after a reconnect the unit board is read afresh.
function reloadUnitsOnReconnect(show) {
  let wasLive = false;
  return (state, reason) => {
    show(state, reason);
    if (state === "live" && wasLive) loadUnits().catch(() => {});
    if (state === "live") wasLive = true;
  };
}

// The CPR beat key is the script's (triage.js), so its line in the help is written here.
function helpForCprKey() {
  const row = `<dt><kbd>M</kbd></dt><dd>${gettext("Start or pause the CPR beat")}</dd>`;
  $("shortcuts").querySelector("dl").insertAdjacentHTML("beforeend", row);
}

async function start() {
  helpForCprKey();
  try {
    await city.start();
    const [stations, hospitals] = await Promise.all([getJSON("/api/stations"), getJSON("/api/hospitals")]);
    state.hospitals = hospitals;
    city.drawStations(stations);
    city.drawHospitals(hospitals);
  } catch (error) {
    $("console-map").insertAdjacentHTML("afterbegin", `<p class="map-status error">${escapeHtml(error.message)}</p>`);
  }
  await Promise.all([loadIncidents(), loadUnits()]);
  new LiveSocket({
    after: Number(root.dataset.lastSeq),
    onState: reloadUnitsOnReconnect(showConnectionState($("conn"))),
    onEvent,
    onPositions: (rows) => {
      for (const row of rows) {
        const unit = state.units.get(row.id);
        if (unit) { Object.assign(unit, row); city.drawUnit(unit); }
      }
    },
    onResync: () => Promise.all([loadIncidents(), loadUnits()]),
  });
  setInterval(tickClocks, 1000);
  setInterval(renderUnits, 15000);
  tickClocks();
  root.dataset.ready = "1";
}

start();
