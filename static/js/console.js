// The dispatcher console: open incidents with their clocks, the intake (caller, location,
// triage, recommendation, dispatch), each incident's detail and timeline, the unit board and a
// live map. Keyboard first; every change arrives through the event socket, so two consoles
// always agree and a dropped connection loses nothing. Its dialogs (console-dialogs.js), the
// details form (console-details.js), the search (console-search.js), a unit's controls
// (console-units.js) and the alarms with the turnout clocks (console-alarms.js) are modules of their own.
"use strict";
import { CityMap, STATUS_COLOR } from "./citymap.js";
import { LiveSocket, showConnectionState } from "./live.js";
import {
  $, KIND, LANG, PRIORITY, centreTime, escapeHtml, eventLabel, getJSON, gettext, interpolate, pgettext,
  oneReadAtATime, postJSON as post, typing,
} from "./shared.js";
import { chime } from "./sound.js";
import { handleCallEvent } from "./calls.js";
import { callBackEvent, loadCallBacks } from "./callbacks.js";
import { REOPEN_REASONS, STAND_DOWN_REASONS, chooseIn, errorText, reasonLine } from "./console-dialogs.js";
import { DetailsEditor, detailsSummary } from "./console-details.js";
import { openSearch, setUpSearch } from "./console-search.js";
import { boardKeys, loadStations, nextBoardShow, renderBoard, setUpUnits } from "./console-units.js";
import { announceSelection, setUpSecondScreen } from "./second-screen.js";
import { alarmEvent, alarmText, loadAlarms, setUpAlarms, turnoutClock } from "./console-alarms.js";
import { loadMoveUps, moveUpEvent, setUpMoveUps } from "./console-moveup.js";
import { declareMajor, loadMajors, majorBadge, majorOf, setUpMajors } from "./console-major.js";

const root = $("console");
const config = JSON.parse($("console-config").textContent);
// The server's bilingual data (protocol names, recommendation reasons, notice texts) carries
// both languages: the page's language picks one.
const en = LANG === "en";
const L10N = config.labels;
const targets = config.targets;

const PIN_SVG = '<svg viewBox="0 0 26 34" width="26" height="34" aria-hidden="true"><path d="M13 33C13 33 2 19.5 2 12a11 11 0 0 1 22 0c0 7.5-11 21-11 21z" fill="#c8102e" stroke="#fff" stroke-width="2"/><circle cx="13" cy="12" r="4" fill="#fff"/></svg>';
const clockTime = centreTime(config.time_zone, { seconds: true });
const dayTime = centreTime(config.time_zone, { day: true });

// How an incident ended, in words (the close menu's outcomes, a linked repeat call, a discarded
// intake); anything else is shown as it was recorded.
const OUTCOMES = {
  transported: gettext("Transported"),
  treated_on_scene: gettext("Treated on scene"),
  refused: gettext("Refused transport"),
  dead_on_arrival: gettext("Dead on arrival"),
  false_call: gettext("False call"),
  cancelled: gettext("Cancelled by caller"),
  duplicate: gettext("Repeat call, linked"),
  abandoned: gettext("Caller hung up or gave up"),
};
const outcomeText = (code) => OUTCOMES[code] || code;
// Outcomes the dispatcher closes with by hand, in the menu's order.
const CLOSE_OUTCOMES = ["transported", "treated_on_scene", "refused", "dead_on_arrival", "false_call", "cancelled", "abandoned"];

// Why a call may repeat an incident (/api/incidents/duplicates), in words.
function duplicateReasons(row) {
  return (row.reasons || [row.reason]).map((reason) => {
    if (reason === "same_caller") return gettext("same caller, in the last 30 minutes");
    if (reason === "nearby") {
      return row.distance_m != null
        ? interpolate(gettext("%(m)s m away, still open"), { m: Math.round(row.distance_m) }, true)
        : gettext("nearby, still open");
    }
    return reason;
  }).join(" · ");
}

const state = {
  incidents: new Map(),
  units: new Map(),
  hospitals: [],
  selected: null, // incident id shown in detail
  intake: null, // the incident being taken
  // The last notice line shown per assignment, so the pane drawn again by the next event shows it
  // at once instead of a blank until the fetch returns.
  noticeLines: new Map(),
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

// Time since the call came in; a closed incident's stops at its closing.
function callClock(incident) {
  const start = incident.call_received_at || incident.created_at;
  if (incident.status !== "open" && incident.closed_at) return mmss(Math.max(0, Math.floor((Date.parse(incident.closed_at) - Date.parse(start)) / 1000)));
  return mmss(since(start));
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
    <div class="chips">${majorBadge(incident.id)}${unitChips(incident)}</div>`;
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
  const shown = state.incidents.get(state.selected);
  if (shown && $("detail-clock")) $("detail-clock").textContent = `☎ ${callClock(shown)}`;
  $("clock").textContent = clockTime(new Date());
}

// ---------------------------------------------------------------- units

// The board itself (grouped by station, busy first, time in status) is console-units.js's.
function renderUnits() {
  renderBoard();
}

// The board and the list are read whole one read at a time, asked again after a read in flight:
// two overlapping reads could land out of order and leave the older picture on the screen.
const loadUnits = oneReadAtATime(async () => {
  for (const unit of await getJSON("/api/units")) {
    // A move-up's note ("to/at 东待命点") stays while the unit's status is the one it was set for.
    const before = state.units.get(unit.id);
    if (before?.move_up) unit.move_up = before.move_up;
    state.units.set(unit.id, unit);
    city.drawUnit(unit);
  }
  renderUnits();
});

// ---------------------------------------------------------------- incidents from the server

async function readIncident(id) {
  try {
    showIncident(await getJSON(`/api/incidents/${id}`));
  } catch {
    state.incidents.delete(id);
    renderIncidents();
    if (state.selected === id) renderDetail();
  }
}

// An incident as the server says it is now: in the list, the intake if it is the one being taken,
// and the detail if shown.
function showIncident(incident) {
  const id = incident.id;
  state.incidents.set(id, incident);
  if (state.intake?.incident?.id === id) {
    state.intake.incident = incident;
    // A position adopted from the caller's phone (calls panel) fills the intake too.
    if (takeLocation(incident)) { checkDuplicates(); loadRecommendation(); }
  }
  renderIncidents();
  if (state.selected === id) renderDetail();
}

// Whether an answer about this incident is still to come that may predate what the page learns
// now: its own read in flight or due, or the whole list's.
function readUnderWay(id) {
  return ownReadUnderWay(id) || loadIncidents.busy();
}

function ownReadUnderWay(id) {
  return pending.has(id) || Boolean(incidentReaders.get(id)?.busy());
}

// A crew's tap moves one job on and stamps its clocks, each the first time (stamp_clocks in
// dispatch/units/actions.py; its event names the clocks): the list applies it from the event, as
// the unit board does; no row follows a tap. The incident in the detail or the intake is read
// (its times and timeline), as is one with a read under way, whose answer may predate the tap.
function applyTap(event) {
  const id = event.incident;
  if (state.selected === id || state.intake?.incident?.id === id) return false;
  if (readUnderWay(id)) return false;
  const incident = state.incidents.get(id);
  const job = incident?.assignments?.find((a) => a.id === event.data.assignment);
  if (!job) return false;
  job.unit_status = event.data.to;
  for (const clock of event.data.clocks || []) {
    if (clock in job && !job[clock]) job[clock] = event.at;
  }
  // The first unit on scene stops the incident's response clock (overdue() reads it).
  if (event.data.clocks?.includes("on_scene_at") && !incident.on_scene_at) incident.on_scene_at = event.at;
  renderIncidents();
  return true;
}

// Each incident is read one read at a time (a small reader per incident this page has seen), as
// the lists are: a read still in flight when the next event's read is asked for could land after it.
const incidentReaders = new Map();
const pending = new Map();
function refreshIncident(id) {
  // Several events about one incident often arrive together: fetch it once.
  clearTimeout(pending.get(id));
  pending.set(id, setTimeout(() => {
    pending.delete(id);
    if (!incidentReaders.has(id)) incidentReaders.set(id, oneReadAtATime(() => readIncident(id)));
    incidentReaders.get(id)();
  }, 80));
}

const loadIncidents = oneReadAtATime(async () => {
  const rows = await getJSON("/api/incidents");
  state.incidents.clear();
  for (const incident of rows) state.incidents.set(incident.id, incident);
  renderIncidents();
});

// ---------------------------------------------------------------- incident rows from the socket

// After events about an incident the server reads it once for every console and sends its row
// (what /api/incidents/<id> answers; dispatch/core/fanout.py): a hundred consoles each reading it
// for every event made a hundred reads an event. The console waits for the row that shows the
// event, and reads the incident itself only when none has come within ROW_WAIT_MS (the server's
// read failed). A reconnected socket's catch-up brings the rows of what it caught up on too.
const ROW_WAIT_MS = 3000;
const rowSeqs = new Map(); // incident id -> the last event its last row showed
const rowWaits = new Map(); // incident id -> { seq, timer }: a row awaited

function awaitRow(event) {
  const id = event.incident;
  if ((rowSeqs.get(id) ?? 0) >= event.seq) return; // a row already showed it
  const wait = rowWaits.get(id);
  if (wait) { wait.seq = Math.max(wait.seq, event.seq); return; }
  rowWaits.set(id, {
    seq: event.seq,
    timer: setTimeout(() => { rowWaits.delete(id); refreshIncident(id); }, ROW_WAIT_MS),
  });
}

function takeRows(rows, seq) {
  for (const incident of rows) {
    const id = incident.id;
    if (seq < (rowSeqs.get(id) ?? 0)) continue; // an older row than one shown
    rowSeqs.set(id, seq);
    const wait = rowWaits.get(id);
    if (wait && wait.seq <= seq) { clearTimeout(wait.timer); rowWaits.delete(id); }
    showIncident(incident);
    // A read under way may answer with an older picture after this row: read once more after
    // it, so what lands last is newer than the row.
    if (loadIncidents.busy()) loadIncidents();
    else if (ownReadUnderWay(id)) refreshIncident(id);
  }
}

// ---------------------------------------------------------------- intake

// `fresh`: a call being taken (N, or a call taken in the calls panel), whose record Esc asks
// about; not an intake carried on for an incident already in the list (Send another unit).
function resetIntake({ fresh = true } = {}) {
  state.intake = {
    incident: null, location: null, outcome: null, recommendation: null, unitIndex: 0, hospitalIndex: 0,
    fresh, duplicates: [], notDuplicates: new Set(),
  };
  $("intake").reset();
  intakeDetails.clear();
  $("intake-details").open = false;
  $("intake-details-summary").textContent = "";
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

function openIntake({ fresh = true } = {}) {
  endTriagePane(); // the previous intake's, when one was open: its CPR coaching goes to the dock
  // The next call needs the room: the docked steps fold away (one click opens them again), the
  // beat and its stop control stay in sight.
  cprDock?.element.querySelector(".cpr-dock-steps")?.removeAttribute("open");
  state.selected = null;
  $("detail").hidden = true;
  $("work-empty").hidden = true;
  $("intake").hidden = false;
  resetIntake({ fresh });
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
  intakeDetails.flush(); // what was typed in a field still focused is kept
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
  $("intake-error").textContent = errorText(error);
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

// The intake's details (folded under step 1; E opens them): saved to the call's record, which
// the first thing typed opens.
const intakeDetails = new DetailsEditor($("intake-details-form"), {
  id: "intake",
  incident: () => state.intake?.incident || null,
  ensure: () => ensureIncident(),
  saved: (incident) => {
    state.incidents.set(incident.id, incident);
    if (state.intake?.incident?.id === incident.id) {
      state.intake.incident = incident;
      $("intake-details-summary").textContent = detailsSummary(incident);
    }
    renderIncidents();
  },
});

// E (or F4 from anywhere, even a field): into the details; F4 again: back where the keyboard was.
let beforeDetails = null;
function editDetails({ toggle = false } = {}) {
  const intakeOpen = state.intake && !$("intake").hidden;
  const box = intakeOpen ? $("intake-details") : $("detail-details");
  if (toggle && box?.contains(document.activeElement)) {
    document.activeElement.blur(); // saves the field
    const back = beforeDetails?.isConnected && !box.contains(beforeDetails) ? beforeDetails : intakeOpen ? $("triage") : null;
    back?.focus();
    return;
  }
  beforeDetails = document.activeElement;
  if (intakeOpen) {
    $("intake-details").open = true;
    intakeDetails.focus();
  } else if (state.selected && detailDetails) {
    detailDetails.focus();
    $("detail-details").scrollIntoView({ block: "nearest" });
  }
}

// Esc on a call being taken: a record that exists is not dropped silently. The dispatcher
// discards it (closed as abandoned: the caller hung up or gave up; never dispatched), keeps it
// open in the list, or goes back to the call. Nothing typed, nothing recorded: it just closes.
async function leaveIntake() {
  const intake = state.intake;
  const hasRecord = intake.incident || intake.creating;
  if (!intake.fresh || (!hasRecord && !intakeDetails.typed())) { closeIntake(); return; }
  const box = $("discard-dialog");
  const number = intake.incident?.number || "";
  $("discard-what").textContent = number
    ? interpolate(gettext("The call's record %(number)s is open, not yet dispatched."), { number }, true)
    : gettext("Details were typed for this call.");
  $("discard-error").textContent = "";
  const answer = await new Promise((resolve) => {
    const choose = (value) => { resolve(value); box.close(); };
    $("discard-abandon").onclick = () => choose("abandon");
    $("discard-keep").onclick = () => choose("keep");
    $("discard-back").onclick = () => choose("back");
    box.onkeydown = (event) => {
      const key = event.key.toLowerCase();
      if (key !== "d" && key !== "k") return;
      event.preventDefault();
      event.stopPropagation(); // K must not also walk the incident list once the dialog is gone
      choose(key === "d" ? "abandon" : "keep");
    };
    box.onclose = () => resolve("back");
    discardFrom = document.activeElement;
    intakeDetails.hold(true);
    box.showModal();
    $("discard-back").focus();
  });
  intakeDetails.hold(false);
  if (!current(intake)) return;
  if (answer === "back") {
    intakeDetails.flush(); // what was held while the question was open
    ($("intake").contains(discardFrom) ? discardFrom : $("caller-number")).focus();
    return;
  }
  if (answer === "keep") { closeIntake(); return; }
  if (!intake.incident && !intake.creating) { intakeDetails.clear(); closeIntake(); return; } // nothing recorded
  try {
    const incident = await ensureIncident();
    await intakeDetails.flush();
    const closed = await post(`/api/incidents/${incident.id}/close`, { outcome: "abandoned" });
    state.incidents.set(closed.id, closed);
    if (current(intake)) closeIntake();
    renderIncidents();
  } catch (error) {
    if (current(intake)) showError(error);
  }
}
let discardFrom = null;

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
    $("location-line").textContent = errorText(error);
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
  // Asked again once the scene is set: an answer to an earlier question (the number alone)
  // arriving late must not replace the later one.
  const asked = (intake.duplicatesAsked = (intake.duplicatesAsked || 0) + 1);
  let rows = [];
  try { rows = await getJSON(`/api/incidents/duplicates?${params}`); } catch { return; }
  if (!current(intake) || asked !== intake.duplicatesAsked) return;
  intake.duplicates = rows.filter((r) => r.id !== intake.incident.id);
  renderDuplicates();
}

// The incidents this call may repeat that the dispatcher has not yet ruled out: while there is
// one, Enter does not send a unit (link the call, or say "Not a duplicate" first).
const unresolvedDuplicates = (intake) => (intake?.duplicates || []).filter((r) => !intake.notDuplicates.has(r.id));

function renderDuplicates() {
  const intake = state.intake;
  const rows = intake.duplicates;
  const open = unresolvedDuplicates(intake);
  const box = $("duplicates");
  box.hidden = !rows.length;
  box.classList.toggle("resolved", rows.length > 0 && !open.length);
  if (!rows.length) { box.innerHTML = ""; return; }
  box.innerHTML = `<div class="dup-head"><b>${open.length ? gettext("Possible duplicate:") : gettext("Not a duplicate: checked.")}</b>
      ${open.length ? `<button type="button" class="not-dup">${gettext("Not a duplicate")}</button>` : ""}</div>` +
    rows.map((r) => `<div class="dup">${escapeHtml(r.number)} · ${escapeHtml(r.chief_complaint || "")} · ${escapeHtml(r.address || "")}
      · <i class="dup-why">${escapeHtml(duplicateReasons(r))}</i>
      <button type="button" class="link-dup" data-id="${r.id}">${gettext("Link to this one")}</button></div>`).join("");
  box.querySelectorAll(".link-dup").forEach((b) => (b.onclick = () => linkTo(Number(b.dataset.id))));
  const notDup = box.querySelector(".not-dup");
  if (notDup) {
    notDup.onclick = () => {
      for (const r of rows) intake.notDuplicates.add(r.id);
      $("intake-error").textContent = "";
      renderDuplicates();
      ($("dispatch-button").disabled ? $("triage") : $("dispatch-button")).focus();
    };
  }
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
    if (asked === recommendationAsked && current(intake)) box.innerHTML = `<p class="error">${escapeHtml(errorText(error))}</p>`;
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
  if (unresolvedDuplicates(intake).length) {
    // Sending a second unit to one patient is the mistake this box is there to stop.
    $("intake-error").textContent = gettext("This call may repeat an open incident: link it, or choose “Not a duplicate” first.");
    $("duplicates").querySelector(".not-dup")?.focus();
    return;
  }
  const unit = units[intake.unitIndex];
  const hospital = (intake.recommendation.hospitals || [])[intake.hospitalIndex];
  if (unit.confirm_by_radio && !(await confirmedByRadio(unit))) return;
  if (!current(intake)) return;
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

// A unit whose position is stale (or unknown) is sent only once the dispatcher has heard it on
// the radio: Enter alone must not send a guess. Esc goes back to the recommendation.
async function confirmedByRadio(unit) {
  const confirmed = await chooseIn({
    title: interpolate(gettext("Confirm %(unit)s by radio"), { unit: unit.call_sign }, true),
    intro: escapeHtml(gettext("Its position is stale or unknown. Call it on the radio: is it free, and where is it?")),
    choices: [{ value: "confirmed", label: gettext("Heard on the radio: free and near enough, send it") }],
    confirm: gettext("Send"),
    apply: async () => true,
  });
  return confirmed === true;
}

// ---------------------------------------------------------------- detail of one incident

// The detail pane: its head and units are drawn again on every change; the details form stays
// (what the dispatcher is typing there survives every event) and is built once per incident.
let detailDetails = null;

function showDetail(id) {
  state.selected = id;
  if (state.intake) closeIntake();
  $("work-empty").hidden = true;
  $("detail").hidden = false;
  buildDetail(id);
  renderIncidents();
  renderDetail();
  const incident = state.incidents.get(id);
  if (incident?.lon != null) city.map.setView([incident.lat, incident.lon], 15);
  announceSelection(id); // a map on the second screen follows
}

function buildDetail(id) {
  const box = $("detail");
  if (box.dataset.incident === String(id)) return;
  detailDetails?.flush();
  box.dataset.incident = String(id);
  box.innerHTML = `<div id="detail-main"></div>
    <section class="step details-step"><h3>${gettext("Details")} <small class="muted"><kbd>E</kbd></small></h3><div id="detail-details"></div></section>
    <div id="detail-more"></div>`;
  detailDetails = new DetailsEditor($("detail-details"), {
    id: "detail",
    incident: () => state.incidents.get(id) || null,
    saved: (incident) => {
      const known = state.incidents.get(incident.id);
      state.incidents.set(incident.id, { ...known, ...incident });
      renderIncidents();
    },
  });
}

// One timeline line; the kinds that carry words say them.
function timelineText(e) {
  const text = eventLabel(e.kind);
  const d = e.data || {};
  const hospital = (id) => state.hospitals.find((h) => h.id === id)?.name || "";
  switch (e.kind) {
    case KIND.UNIT_STATUS: return `${d.call_sign || ""} ${L10N.status[d.to] || d.to}`;
    case KIND.ASSIGNMENT_CREATED: return `${text} ${d.unit || ""}`;
    case KIND.ASSIGNMENT_CANCELLED: return `${text} ${d.unit || ""}: ${d.reason || ""}`;
    case KIND.ASSIGNMENT_DESTINATION: return `${text} ${d.unit || ""} → ${hospital(d.to)}`;
    case KIND.ASSIGNMENT_REDIRECTED: return `${text}: ${hospital(d.from)} → ${hospital(d.to)}`;
    case KIND.INCIDENT_CLOSED: return `${text}: ${outcomeText(d.outcome || "")}`;
    case KIND.INCIDENT_LINKED: return `${text} → ${d.number || ""}`;
    case KIND.INCIDENT_REPEAT_CALL: return `${text}: ${d.number || ""} ☎ ${d.caller_number || gettext("Number withheld")}`;
    case KIND.INCIDENT_REOPENED: return `${text}: ${d.reason || ""}`;
    case KIND.INCIDENT_UPDATED: return `${text}: ${(d.fields || []).map(fieldName).join(", ")}`;
    case KIND.NOTICE_SENT: case KIND.NOTICE_UPDATED: case KIND.NOTICE_ACKNOWLEDGED:
      return `${text}: ${d.hospital_name || ""} · ${d.call_sign || ""}`;
    case KIND.NOTICE_UNACKNOWLEDGED: case KIND.ASSIGNMENT_ESCALATED: return (en ? d.text_en : d.text) || text;
    case KIND.ASSIGNMENT_STATION_ACKNOWLEDGED: return `${text} ${d.unit || ""} · ${d.by || ""}`;
    case KIND.ALARM_RAISED: case KIND.ALARM_CLEARED: return `${text}: ${alarmText(d)}`;
    case KIND.ALARM_ACKNOWLEDGED: return `${text}: ${alarmText(d)} · ${d.acknowledged_by || ""}`;
    case KIND.MESSAGE_SENT: return `${text} ${d.direction === "to_crew" ? gettext("control → crew") : gettext("crew → control")}: ${d.text || ""}`;
    // A crew's correction, a job ended before transport, a destination diverting: their words.
    default: return (en ? d.text_en : d.text) ? `${text}: ${en ? d.text_en : d.text}` : text;
  }
}

const FIELD_NAMES = {
  caller_number: gettext("Caller number"), caller_name: gettext("Caller's name"), patient_name: gettext("Patient's name"),
  patient_sex: gettext("Sex"), patient_age: gettext("Age"), patient_count: gettext("Patients"),
  address_building: gettext("Building"), address_unit: gettext("Entrance"), address_floor: gettext("Floor"),
  address_room: gettext("Room"), access_notes: gettext("Access"), hazards: gettext("Hazards"), notes: gettext("Dispatcher notes"),
};
const fieldName = (name) => FIELD_NAMES[name] || name;

// A recording's address as a link, only when it is a web address (it comes from the telephony provider).
function recordingLink(url) {
  return /^https?:\/\//.test(url || "") ? ` <a href="${escapeHtml(url)}" target="_blank" rel="noopener">${gettext("Recording")}</a>` : "";
}

function assignmentRow(a, incident) {
  const live = !a.cancelled_at && !a.cleared_at;
  const state_ = a.cancelled_at ? `${gettext("stood down")}: ${escapeHtml(a.cancel_reason)}` : a.cleared_at ? gettext("cleared") : escapeHtml(L10N.status[a.unit_status] || a.unit_status);
  const open = incident.status === "open";
  return `<li class="${a.cancelled_at ? "cancelled" : a.cleared_at ? "cleared" : "live"}" data-assignment="${a.id}">
    <div class="assignment-line"><span class="unit-dot" style="background:${STATUS_COLOR[a.unit_status]}"></span><b>${escapeHtml(a.unit_call_sign)}</b>
      <span>${state_}</span>${turnoutClock(a)}
      <span class="muted">→ ${escapeHtml(a.hospital_name || gettext("no hospital yet"))}</span></div>
    ${live && open ? `<div class="assignment-actions">
      <button type="button" data-redirect="${a.id}"><kbd>R</kbd> ${a.hospital ? gettext("Redirect") : gettext("Choose hospital")}</button>
      <button type="button" data-reassign="${a.id}"><kbd>A</kbd> ${gettext("Send another unit instead")}</button>
      <button type="button" data-notice="${a.id}" ${a.hospital && !a.handover_at ? "" : "disabled"}><kbd>P</kbd> ${gettext("Pre-arrival notice")}</button>
      <button type="button" data-cancel="${a.id}"><kbd>S</kbd> ${gettext("Stand down")}</button>
      <span class="notice-line muted" id="notice-${a.id}">${escapeHtml(state.noticeLines.get(a.id) || "")}</span></div>` : ""}
  </li>`;
}

// A major incident's badge and its casualty board; on an open incident that is not one, the
// control that declares it (Q).
function majorLine(incident) {
  if (majorOf(incident.id)) return `<p class="major-line">${majorBadge(incident.id, { link: true })}</p>`;
  if (incident.status !== "open") return "";
  return `<p class="major-line"><button type="button" id="declare-major" class="declare-major"><kbd>Q</kbd> ${gettext("Declare major incident")}</button></p>`;
}

async function renderDetail() {
  const incident = state.incidents.get(state.selected);
  const main = $("detail-main");
  if (!main) return;
  if (!incident) {
    main.innerHTML = `<p class="muted">${gettext("This incident is closed.")}</p>`;
    detailDetails?.fill(null, { editable: false });
    return;
  }
  const open = incident.status === "open";
  const live = incident.assignments.filter((a) => !a.cancelled_at && !a.cleared_at);
  const focused = document.activeElement && main.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  main.innerHTML = `
    <header class="work-head"><h2><span class="prio-badge p${incident.priority || 0}">${incident.priority ? PRIORITY[incident.priority] : gettext("Not triaged")}</span>
      ${escapeHtml(incident.chief_complaint || "")}</h2><span class="incident-number">${escapeHtml(incident.number)}</span>
      <span class="big-clock" id="detail-clock" title="${gettext("Time since the call came in")}">☎ ${callClock(incident)}</span></header>
    ${majorLine(incident)}
    ${open ? "" : `<div class="closed-banner" role="status"><b>${gettext("Closed")}</b> · ${escapeHtml(outcomeText(incident.outcome))}
      ${incident.closed_at ? ` · ${escapeHtml(dayTime(incident.closed_at))}` : ""}
      ${incident.linked_to ? ` · <a href="#" data-open="${incident.linked_to}">${gettext("open the incident it repeats")}</a>` : ""}
      <button type="button" id="reopen-incident" class="primary"><kbd>O</kbd> ${gettext("Reopen")}</button></div>`}
    <dl class="facts"><dt>${gettext("Address")}</dt><dd>${escapeHtml(incident.address || "—")}</dd>
      <dt>${gettext("Caller")}</dt><dd>${escapeHtml(incident.caller_number || "—")} ${escapeHtml(incident.caller_name || "")}</dd>
      <dt>${gettext("Needs")}</dt><dd>${escapeHtml((incident.capability_needed || "—").toUpperCase())}</dd>
      ${incident.hazards ? `<dt>${gettext("Hazards")}</dt><dd class="hazard">⚠ ${escapeHtml(incident.hazards)}</dd>` : ""}</dl>
    <h3>${gettext("Units")}</h3>
    <ul class="assignments">${incident.assignments.map((a) => assignmentRow(a, incident)).join("") || `<li class="muted">${gettext("No unit sent yet")}</li>`}</ul>
    ${open ? `<div class="row">
      <button type="button" id="add-unit">${gettext("Send another unit")}</button>
      <select id="close-outcome" aria-label="${gettext("Outcome")}" ${live.length ? "disabled" : ""}>
        <option value="">${gettext("Outcome…")}</option>
        ${CLOSE_OUTCOMES.map((o) => `<option value="${o}">${escapeHtml(OUTCOMES[o])}</option>`).join("")}</select>
      <button type="button" id="close-incident" ${live.length ? "disabled" : ""}>${pgettext("close an incident", "Close")}</button>
    </div>` : ""}
    <p id="detail-error" class="error" role="alert"></p>`;
  main.querySelectorAll("[data-cancel]").forEach((b) => (b.onclick = () => standDown(incident, Number(b.dataset.cancel))));
  main.querySelectorAll("[data-redirect]").forEach((b) => (b.onclick = () => redirect(incident, Number(b.dataset.redirect))));
  main.querySelectorAll("[data-reassign]").forEach((b) => (b.onclick = () => sendInstead(incident, Number(b.dataset.reassign))));
  main.querySelectorAll("[data-notice]").forEach((b) => (b.onclick = () => sendNotice(Number(b.dataset.notice))));
  main.querySelectorAll("[data-open]").forEach((a) => (a.onclick = (event) => { event.preventDefault(); openAnyIncident(Number(a.dataset.open)); }));
  const declare = $("declare-major");
  if (declare) declare.onclick = () => declareMajor(incident);
  if (open) {
    $("add-unit").onclick = () => addUnit(incident);
    $("close-incident").onclick = () => closeIncident(incident);
  } else {
    $("reopen-incident").onclick = () => reopen(incident);
  }
  if (focused) main.querySelector(focused)?.focus({ preventScroll: true });
  detailDetails.fill(incident, { editable: open });
  $("detail-more").innerHTML = `${live.length ? `<h3>${gettext("Crew messages")}</h3><div id="messages" class="messages"></div>` : ""}
    <h3>${gettext("Timeline")}</h3><ol id="timeline" class="timeline"><li class="muted">…</li></ol>`;
  loadTimeline(incident.id);
  loadMessages(live);
  if (open) loadNotices(live);
}

// A selector that finds the same control after the pane is drawn again (the keyboard stays put).
function focusKey(element) {
  for (const name of ["cancel", "redirect", "reassign", "notice"]) {
    if (element.dataset[name]) return `[data-${name}="${element.dataset[name]}"]`;
  }
  return element.id ? `#${element.id}` : null;
}

// Pre-arrival notices: what each live unit's hospital has been told, and whether it acknowledged.
async function loadNotices(live) {
  for (const a of live) {
    if (!a.hospital) continue;
    let text = gettext("Notice not sent yet");
    let sent = false;
    try {
      const notice = await getJSON(`/api/assignments/${a.id}/notice`);
      sent = true;
      text = interpolate(gettext("Notice sent %(time)s to %(hospital)s"), { time: clockTime(notice.updated_at), hospital: notice.hospital_name }, true);
      if (notice.acknowledged) {
        text += " · " + interpolate(gettext("acknowledged %(time)s by %(who)s"), { time: clockTime(notice.acknowledged.at), who: notice.acknowledged.by }, true);
        if (notice.updated_since_ack) text += " · " + gettext("updated since");
      } else {
        text += " · " + gettext("not acknowledged yet");
      }
    } catch (error) {
      if (error.status !== 404) text = errorText(error);
    }
    state.noticeLines.set(a.id, text);
    const line = $(`notice-${a.id}`);
    if (!line) continue;
    line.textContent = text;
    const button = document.querySelector(`[data-notice="${a.id}"]`);
    if (button && !button.disabled) button.innerHTML = `<kbd>P</kbd> ${sent ? gettext("Update the notice") : gettext("Send the notice")}`;
  }
}

async function sendNotice(assignmentId) {
  $("detail-error").textContent = "";
  try {
    await post(`/api/assignments/${assignmentId}/notice`, {});
    const incident = state.incidents.get(state.selected);
    if (incident) loadNotices(incident.assignments.filter((a) => a.id === assignmentId));
  } catch (error) { $("detail-error").textContent = errorText(error); }
}

// Units and hospitals ranked for this incident (the same ranking as at intake).
async function rankedFor(incident) {
  const params = new URLSearchParams({ limit: "12" });
  if (incident.triage?.hospital_capability) params.set("hospital_capability", incident.triage.hospital_capability);
  try { return await getJSON(`/api/incidents/${incident.id}/recommendation?${params}`); }
  catch { return { units: [], hospitals: [] }; }
}

// The ranking's own words (they give the road time and distance first).
function etaNote(row) {
  return reasonsPlain(row) || (row.eta_s != null ? `ETA ${fmtMinutes(row.eta_s)}` : "");
}

function reasonsPlain(row) {
  return (row.reasons || []).map((r) => (typeof r === "string" ? r : en ? r.en : r.zh)).join(" · ");
}

async function standDown(incident, assignmentId) {
  const a = incident.assignments.find((x) => x.id === assignmentId);
  await chooseIn({
    title: interpolate(gettext("Stand %(unit)s down"), { unit: a?.unit_call_sign || "" }, true),
    intro: escapeHtml(`${incident.number} · ${incident.address || ""}`),
    choices: STAND_DOWN_REASONS.map((label) => ({ value: label, label })),
    text: { label: gettext("Other reason, or more about it"), maxlength: 150 },
    need: "either",
    confirm: gettext("Stand down"),
    apply: ({ choice, text }) => post(`/api/assignments/${assignmentId}/cancel`, { reason: reasonLine(choice, text) }),
  });
}

async function redirect(incident, assignmentId) {
  const a = incident.assignments.find((x) => x.id === assignmentId);
  const ranked = (await rankedFor(incident)).hospitals || [];
  const all = ranked.length ? ranked : state.hospitals.map((h) => ({ ...h, reasons: [] }));
  const choices = all.map((h, i) => ({
    value: h.id, rank: ranked.length ? i + 1 : null, disabled: h.id === a?.hospital,
    label: h.name + (h.id === a?.hospital ? ` (${gettext("now")})` : "") + (h.diverting ? ` · ${L10N.diverting}` : ""),
    note: etaNote(h),
  }));
  await chooseIn({
    title: interpolate(gettext("Redirect %(unit)s to another hospital"), { unit: a?.unit_call_sign || "" }, true),
    intro: a?.hospital_name ? escapeHtml(interpolate(gettext("Now bound for %(hospital)s."), { hospital: a.hospital_name }, true)) : "",
    choices,
    confirm: gettext("Redirect"),
    apply: ({ choice }) => post(`/api/assignments/${assignmentId}/destination`, { hospital: choice.value, hospital_rank: choice.rank }),
  });
}

async function sendInstead(incident, assignmentId) {
  const a = incident.assignments.find((x) => x.id === assignmentId);
  const ranked = ((await rankedFor(incident)).units || []).filter((u) => u.id !== a?.unit);
  await chooseIn({
    title: interpolate(gettext("Send another unit instead of %(unit)s"), { unit: a?.unit_call_sign || "" }, true),
    intro: escapeHtml(gettext("The unit now sent is stood down with the reason, and the one chosen is sent in one step.")),
    choices: ranked.map((u, i) => ({ value: u.id, rank: i + 1, eta: u.eta_s, label: `${u.call_sign} · ${L10N.kind[u.kind] || u.kind}`, note: etaNote(u) })),
    text: { label: gettext("Why (the crew and the record see it)"), maxlength: 200 },
    need: "both",
    confirm: gettext("Send instead"),
    apply: ({ choice, text }) => post(`/api/assignments/${assignmentId}/reassign`, {
      unit: choice.value, reason: text, recommended_rank: choice.rank, eta_s: Number.isFinite(choice.eta) ? choice.eta : null,
    }),
  });
}

async function reopen(incident) {
  const reopened = await chooseIn({
    title: interpolate(gettext("Reopen %(number)s"), { number: incident.number }, true),
    intro: escapeHtml(gettext("The incident is open again with its whole history; its units are not sent again.")),
    choices: REOPEN_REASONS.map((label) => ({ value: label, label })),
    text: { label: gettext("Other reason, or more about it"), maxlength: 150 },
    need: "either",
    confirm: gettext("Reopen"),
    apply: ({ choice, text }) => post(`/api/incidents/${incident.id}/reopen`, { reason: reasonLine(choice, text) }),
  });
  if (!reopened) return;
  state.incidents.set(reopened.id, reopened);
  renderIncidents();
  if (state.selected === reopened.id) renderDetail();
}

// An incident from the search (or a link): shown in the detail, open or closed.
async function openAnyIncident(id) {
  try {
    const incident = await getJSON(`/api/incidents/${id}`);
    state.incidents.set(id, incident);
    showDetail(id);
    (incident.status === "open" ? $("detail") : $("reopen-incident"))?.focus?.();
  } catch (error) {
    $("alerts").insertAdjacentHTML("beforeend", `<div class="notice-alert" role="alert">${escapeHtml(errorText(error))}</div>`);
  }
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
    const lines = error ? `<p class="error">${escapeHtml(errorText(error))}</p>` : (rows || []).map((m) => `
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
  } catch (error) { $("detail-error").textContent = errorText(error); }
}

async function loadTimeline(id) {
  try {
    const events = await getJSON(`/api/incidents/${id}/timeline`);
    if (state.selected !== id) return;
    $("timeline").innerHTML = events.map((e) => {
      if (e.kind === KIND.MESSAGE_READ) return "";
      const recording = [KIND.CALL_RECORDING, KIND.CALL_ANSWERED].includes(e.kind) ? recordingLink(e.data?.recording_url) : "";
      return `<li data-kind="${escapeHtml(e.kind)}"><time>${clockTime(e.at)}</time> ${escapeHtml(timelineText(e))}${recording}</li>`;
    }).join("");
  } catch (error) {
    $("timeline").innerHTML = `<li class="error">${escapeHtml(errorText(error))}</li>`;
  }
}

// The intake, carried on for an incident that already exists.
function continueIntake(incident, title, { fresh = false } = {}) {
  openIntake({ fresh });
  state.intake.incident = incident;
  intakeDetails.fill(incident);
  $("intake-details-summary").textContent = detailsSummary(incident);
  $("intake-title").textContent = title;
  $("intake-number").textContent = incident.number;
  $("intake-clock").textContent = mmss(since(incident.call_received_at)); // not blank until the next tick
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
    continueIntake(incident, gettext("Call in progress"), { fresh: true });
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
    await detailDetails?.flush();
    const closed = await post(`/api/incidents/${incident.id}/close`, { outcome });
    state.incidents.set(closed.id, closed);
    state.selected = null;
    $("detail").hidden = true;
    $("work-empty").hidden = false;
    renderIncidents();
  } catch (error) { $("detail-error").textContent = errorText(error); }
}

// ---------------------------------------------------------------- keyboard


// Enter on a control does what the control says ("Link to this one" must not send a unit); in
// the triage pane and the CPR dock it belongs to them.
function ownsEnter(target) {
  return target.closest?.("#triage, #cpr-dock, button:not(#dispatch-button), a[href], summary") != null;
}

// On the incident shown: S stand a unit down, R redirect it, A send another unit instead, P its
// pre-arrival notice, O reopen a closed incident. With several units on it, a choice comes first.
const DETAIL_KEYS = {
  s: () => onUnitOf(standDown),
  r: () => onUnitOf(redirect),
  a: () => onUnitOf(sendInstead),
  p: () => onUnitOf((incident, id) => sendNotice(id), (a) => a.hospital && !a.handover_at),
  o: () => { const incident = state.incidents.get(state.selected); if (incident && incident.status !== "open") reopen(incident); },
  q: () => declareMajor(state.incidents.get(state.selected)), // 群 (qún): a major incident
};

async function onUnitOf(act, usable = () => true) {
  const incident = state.incidents.get(state.selected);
  if (!incident || incident.status !== "open") return;
  const live = incident.assignments.filter((a) => !a.cancelled_at && !a.cleared_at && usable(a));
  if (!live.length) { $("detail-error").textContent = gettext("No unit on this incident for that."); return; }
  let assignment = live[0];
  if (live.length > 1) {
    const picked = await chooseIn({
      title: gettext("Which unit?"),
      choices: live.map((a) => ({ value: a.id, label: `${a.unit_call_sign} · ${L10N.status[a.unit_status] || a.unit_status}`, note: a.hospital_name || "" })),
      confirm: gettext("Next"),
      apply: async ({ choice }) => choice,
    });
    if (!picked) return;
    assignment = live.find((a) => a.id === picked.value);
  }
  await act(incident, assignment.id);
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
  // A dialog has the keyboard to itself (its own keys, Esc closes it); a control that used a key
  // (the unit board's Enter, a details field's Enter) has used it.
  if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
  const intakeOpen = state.intake && !$("intake").hidden;
  if (event.key === "Escape") {
    if (results.length) { results = []; renderResults(); return; }
    if (intakeOpen) { event.preventDefault(); leaveIntake(); return; }
    // Out of a field of the detail (it is saved), so N, J, K and the rest work again.
    if ($("detail").contains(event.target) && typing(event.target)) { event.preventDefault(); event.target.blur(); return; }
  }
  if (event.key === "F2") { event.preventDefault(); if (!intakeOpen) openIntake(); $("place-search").focus(); return; }
  if (event.key === "F4") { event.preventDefault(); editDetails({ toggle: true }); return; }
  if (intakeOpen && event.altKey && /^[1-9]$/.test(event.key)) { event.preventDefault(); chooseUnit(Number(event.key) - 1); return; }
  if (intakeOpen && event.shiftKey && /^Digit[1-5]$/.test(event.code) && !typing(event.target)) {
    event.preventDefault(); chooseHospital(Number(event.code.slice(5)) - 1); return;
  }
  if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "n" || event.key === "N") { event.preventDefault(); openIntake(); }
  else if (event.key === "j" || event.key === "J") walkIncidents(1);
  else if (event.key === "k" || event.key === "K") walkIncidents(-1);
  else if (event.key === "?") $("shortcuts").showModal();
  else if (event.key === "f" || event.key === "F") { event.preventDefault(); openSearch(); }
  else if (event.key === "e" || event.key === "E") { event.preventDefault(); editDetails(); }
  else if (event.key === "u" || event.key === "U") { event.preventDefault(); $("unit-filter").focus(); $("unit-filter").select(); }
  else if (event.key === "b" || event.key === "B") { event.preventDefault(); nextBoardShow(); }
  else if (!intakeOpen && state.selected && DETAIL_KEYS[event.key.toLowerCase()]) { event.preventDefault(); DETAIL_KEYS[event.key.toLowerCase()](); }
  else if ((event.key === "m" || event.key === "M") && triageModule?.toggleCprBeat()) event.preventDefault();
  else if (event.key === "Enter" && intakeOpen && !$("dispatch-button").disabled && !ownsEnter(event.target)) {
    event.preventDefault(); dispatchChosen();
  }
});

$("new-incident").onclick = () => openIntake();
$("find-incident").onclick = openSearch;
$("unit-filter").addEventListener("input", renderUnits);
$("unit-filter").addEventListener("keydown", boardKeys);
$("unit-board").addEventListener("keydown", boardKeys);
$("intake-details").addEventListener("toggle", () => { if ($("intake-details").open) intakeDetails.fill(state.intake?.incident); });
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
  callBackEvent(event); // missed calls to call back
  if (event.incident) {
    if (event.kind === KIND.INCIDENT_CREATED && !state.incidents.has(event.incident) && event.actor !== null) chime("incident");
    // A tap brings no row (names_row_change in dispatch/core/fanout.py): the list applies it,
    // and the console showing the incident in its detail or intake reads it.
    if (event.kind !== KIND.UNIT_STATUS) awaitRow(event);
    else if (!applyTap(event)) refreshIncident(event.incident);
  }
  if (event.kind.startsWith("unit.") || event.kind.startsWith("assignment.")) {
    const unit = state.units.get(event.unit);
    if (unit && event.kind === KIND.UNIT_STATUS) {
      unit.status = event.data.to;
      unit.status_changed_at = event.at;
      // Out of service says why and until when (dispatch/units/actions.py); any other status clears it.
      unit.out_of_service_reason = event.data.to === "out_of_service" ? event.data.reason || unit.out_of_service_reason || "" : "";
      unit.expected_back_at = event.data.to === "out_of_service" ? event.data.expected_back_at ?? unit.expected_back_at ?? null : null;
      city.drawUnit(unit);
      renderUnits();
    }
    else if (event.kind === KIND.UNIT_CREATED) loadUnits();
    else if (event.kind === KIND.ASSIGNMENT_CREATED && unit) { unit.status = "dispatched"; unit.status_changed_at = event.at; city.drawUnit(unit); renderUnits(); }
    else if (event.kind === KIND.ASSIGNMENT_CANCELLED) loadUnits();
    else if (event.kind === KIND.UNIT_STATUS_CORRECTED) loadUnits(); // a crew undid a tap: its status and since when
  }
  if (event.kind === KIND.SHIFT_STARTED || event.kind === KIND.SHIFT_ENDED) loadUnits().catch(() => {});
  // Added or changed in the admin (dispatch.registry): the board's names, kinds and capabilities.
  if (event.kind === KIND.UNIT_UPDATED) loadUnits().catch(() => {});
  if (event.kind === KIND.STATION_CREATED || event.kind === KIND.STATION_UPDATED) loadStations();
  if (event.kind.startsWith("hospital.") && state.intake?.recommendation) loadRecommendation();
  if (event.kind.startsWith("alarm.")) alarmEvent(event); // the unacknowledged notice is one of them
  if (event.kind.startsWith("move_up.")) moveUpEvent(event); // move-up suggestions (console-moveup.js)
  if ([KIND.MAJOR_DECLARED, KIND.MAJOR_SCENE, KIND.MAJOR_SITREP, KIND.MAJOR_STOOD_DOWN].includes(event.kind)) majorsSoon();
  if (event.kind === KIND.ASSIGNMENT_DESTINATION_DIVERTING) destinationAlert(event);
  if (event.kind === KIND.MESSAGE_SENT) {
    if (event.data.direction === "to_control") chime("notice");
    const incident = state.incidents.get(state.selected);
    if (incident?.assignments.some((a) => a.unit === event.unit)) loadMessages(incident.assignments.filter((a) => !a.cancelled_at && !a.cleared_at));
  }
}

// Several major-incident events often come together (a declaration, then its scene): read once.
let majorsTimer = null;
function majorsSoon() {
  clearTimeout(majorsTimer);
  majorsTimer = setTimeout(() => loadMajors().catch(() => {}), 150);
}

// A unit's destination went on diversion for its patient (dispatch/crew/diversion.py): an alert
// that stays until dismissed; a click opens the incident.
function destinationAlert(event) {
  const text = (en ? event.data.text_en : event.data.text) || eventLabel(event.kind);
  const box = document.createElement("div");
  box.className = "notice-alert destination-alert";
  box.setAttribute("role", "alert");
  box.dataset.incident = event.incident;
  box.innerHTML = `<button type="button" class="open link-button">${escapeHtml(text)}</button><button type="button" class="dismiss" aria-label="${gettext("Dismiss")}">✕</button>`;
  box.querySelector(".open").onclick = () => { box.remove(); if (event.incident) openAnyIncident(event.incident); };
  box.querySelector(".dismiss").onclick = () => box.remove();
  $("alerts").append(box);
  chime("alert");
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
  setUpSearch({ open: openAnyIncident, time: dayTime, outcome: outcomeText });
  setUpUnits({
    labels: L10N, radio: config.radio_statuses, time: dayTime, timeZone: config.time_zone, units: state.units,
    staleSeconds: targets.stale_s, locate: (u) => { if (u.lon != null) city.map.setView([u.lat, u.lon], 15); },
  });
  setUpSecondScreen($("open-map"), $("open-map").dataset.url);
  setUpAlarms({
    open: (id) => (state.incidents.has(id) ? showDetail(id) : openAnyIncident(id)), errorText, turnoutSeconds: targets.turnout_s,
    // A unit not acknowledging: its alarm offers the detail's own "send another unit instead".
    sendInstead: async (incidentId, assignmentId) => sendInstead(state.incidents.get(incidentId) || await getJSON(`/api/incidents/${incidentId}`), assignmentId),
  });
  // The hospitals are the dialogs' and the timeline's too: read them even when the map cannot start.
  const places = Promise.all([getJSON("/api/stations"), getJSON("/api/hospitals")]);
  try {
    await city.start();
    const [stations, hospitals] = await places;
    city.drawStations(stations);
    city.drawHospitals(hospitals);
  } catch (error) {
    $("console-map").insertAdjacentHTML("afterbegin", `<p class="map-status error">${escapeHtml(errorText(error))}</p>`);
  }
  try { state.hospitals = (await places)[1]; } catch { /* the names then come from each incident */ }
  setUpMajors(city.map, { levels: config.major_levels, floors: config.major_level_floors }, () => {
    renderIncidents();
    if (state.selected) renderDetail();
  });
  await Promise.all([loadIncidents(), loadUnits(), loadAlarms(), loadCallBacks(), loadMajors().catch(() => {})]);
  setUpMoveUps({ units: state.units, redraw: (unit) => { city.drawUnit(unit); renderUnits(); }, errorText }).catch(() => {});
  new LiveSocket({
    after: Number(root.dataset.lastSeq),
    onState: reloadUnitsOnReconnect(showConnectionState($("conn"))),
    onEvent,
    onIncidents: takeRows,
    onPositions: (rows) => {
      for (const row of rows) {
        const unit = state.units.get(row.id);
        if (unit) { Object.assign(unit, row); city.drawUnit(unit); }
      }
    },
    onResync: () => Promise.all([loadIncidents(), loadUnits(), loadAlarms(), loadCallBacks(), loadMajors().catch(() => {}), loadMoveUps().catch(() => {})]),
  });
  setInterval(tickClocks, 1000);
  setInterval(renderUnits, 15000);
  tickClocks();
  root.dataset.ready = "1";
}

start();
