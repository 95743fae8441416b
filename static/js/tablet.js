// The ambulance crew's tablet: shift, the assignment with its alert, one-tap statuses, the
// route, the incident, the patient record and vital signs, the destination and the message
// line. Every write goes through the outbox (tablet-queue.js), so a dropped network loses
// nothing and applies nothing twice; the screen shows the server's state with the crew's
// waiting changes laid on top.
"use strict";
import { LiveSocket, showConnectionState } from "./live.js";
import {
  $, LANG, PRIORITY, SEX, ageText, answer, centreTime, csrfToken, escapeHtml, gettext, interpolate, pgettext,
} from "./shared.js";
import { chime } from "./sound.js";
import { Outbox } from "./tablet-queue.js";
import { useOutbox } from "./tablet-signout.js";
import { TabletMap } from "./tablet-map.js";
import { loadRelocation, relocationTarget, renderRelocation } from "./tablet-relocation.js";
import { renderVitals, vitalsFromForm } from "./tablet-vitals.js";
import "./tablet-er-messages.js"; // the crew <-> receiving ER line (its own panel, #er-line)
import "./tablet-major.js"; // a major incident's casualties: tag first, load into this ambulance (#major-panel)
import "./tablet-push.js"; // crew alerts by Web Push: permission, subscription, its state (#push-state)

const config = JSON.parse($("tablet-config").textContent);
const root = $("tablet");
// The server's bilingual data (triage path, recommendation reasons) carries both languages.
const en = LANG === "en";

const POLL_MS = 15000;
const GPS_MS = 5000;
const REMIND_MS = 20000;
// A request that hangs on a bad mobile link is given up, so one stuck read can never freeze the
// screen's refreshes. (Queued writes have their own timeout and are resent with their keys.)
const REQUEST_MS = 10000;
// The crew's job in order; the server's next_statuses (config.next offline) say which are open.
// Their labels are what a tap does, in the context "crew tap" where the word alone is ambiguous.
const JOB = [
  ["acknowledged", pgettext("crew tap", "Acknowledge")],
  ["en_route", pgettext("crew tap", "En route")],
  ["on_scene", gettext("On scene")],
  ["patient_contact", gettext("Patient contact")],
  ["transporting", gettext("Transporting")],
  ["at_hospital", gettext("At hospital")],
  ["returning", gettext("Handover done · returning")],
  ["available", gettext("Available")],
];
const STATUS_TEXT = {
  ...config.status,
  ...Object.fromEntries(JOB),
  dispatched: gettext("Dispatched · to acknowledge"),
  acknowledged: gettext("Acknowledged"),
  en_route: gettext("En route"),
  returning: gettext("Returning"),
  relocating: gettext("Relocating"),
  out_of_service: gettext("Out of service"),
};
const BEFORE_SCENE = ["dispatched", "acknowledged", "en_route"];
// Going available from these ends the job before transport: the crew confirms and says why.
const EARLY_END = ["on_scene", "patient_contact"];
const END_REASONS = {
  treated_on_scene: gettext("Treated on scene"),
  refused_transport: gettext("Refused transport"),
  died: gettext("Died"),
  cancelled: gettext("Cancelled by dispatch"),
  other: gettext("Other"),
};
const UNDO_MS = (config.undo_seconds ?? 20) * 1000;
// Closer than this to the scene by road, "to the scene 1 min · 0.0 km" says nothing: say tap On scene.
const AT_SCENE_M = 150;
const centreHhmm = centreTime(config.time_zone);
const hhmm = (iso) => (iso ? centreHhmm(iso) : "—");

const state = {
  shift: null,
  assignment: null,
  messages: [],
  recommendation: null,
  refused: [],
  alerted: new Set(),
  readSent: new Set(),
  seenMessages: null,
  network: true, // the last request reached the server
  tab: null,
  drugs: [],
  patientDirty: false,
  fix: null,
};

// ---------------------------------------------------------------- reading from the server

async function get(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: AbortSignal.timeout(REQUEST_MS) });
  } catch (error) {
    setNetwork(false);
    throw new Error(gettext("No network connection"));
  }
  // A copy the service worker kept (tablet-sw.js): shown, but the server was not reached.
  setNetwork(!response.headers.get("X-Tablet-Copy"));
  // Signed out elsewhere: reload to the sign-in page; but not while this page is signing out
  // (tablet-signout.js marks the form), or the reload would cut the sign-out's own navigation.
  const signingOut = document.querySelector("form[data-checked][action$='/logout/']");
  if (!signingOut && (response.status === 401 || (response.redirected && response.url.includes("/login/")))) location.reload();
  return answer(response);
}

async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify({ ...body, client_time: new Date().toISOString() }),
      signal: AbortSignal.timeout(REQUEST_MS),
    });
  } catch {
    setNetwork(false);
    throw new Error(gettext("No network: try again when there is signal."));
  }
  setNetwork(true);
  return answer(response);
}

let refreshing = null;
let refreshAgain = false;
async function refresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        const [current, messages] = await Promise.all([get("/api/crew/assignment"), get("/api/crew/messages?limit=60")]);
        const shiftChanged = (current.shift?.unit.id ?? null) !== (state.shift?.unit.id ?? null);
        // Ended here, on another tablet or by the control room: its patient data leaves the tablet.
        if (shiftChanged && state.shift) shiftEnded();
        const previous = state.assignment;
        if (previous && previous.id !== current.assignment?.id && !shiftChanged) noteEnded(previous);
        keepNewerUnit(current);
        state.shift = current.shift;
        state.assignment = current.assignment;
        state.messages = messages;
        // A move-up under way (tablet-relocation.js): only between jobs; a job cancels it.
        state.relocation = current.shift && !current.assignment ? await loadRelocation(get).catch(() => state.relocation) : null;
        $("load-error").hidden = true;
        if (shiftChanged) shiftMoved(!!root.dataset.loaded);
      } catch (error) {
        if (state.shift === null && !root.dataset.loaded) {
          $("load-error").textContent = interpolate(gettext("Could not load: %(error)s"), { error: error.message }, true);
          $("load-error").hidden = false;
        }
      }
    } while (refreshAgain);
    root.dataset.loaded = "1";
    render();
  })();
  try { await refreshing; } finally { refreshing = null; }
}

// A read that left before a tap's answer came back must not roll the screen back.
function keepNewerUnit(current) {
  const mine = state.shift?.unit;
  const theirs = current.shift?.unit;
  if (!mine || !theirs || mine.id !== theirs.id) return;
  if (Date.parse(mine.status_changed_at) <= Date.parse(theirs.status_changed_at)) return;
  current.shift.unit = mine;
  if (current.assignment) current.assignment.unit = mine;
}

// A job that left the screen: if the control room stood it down, the crew must hear why.
async function noteEnded(previous) {
  try {
    const ended = await get(`/api/crew/assignments/${previous.id}`);
    if (!ended.clocks.cancelled_at) return;
    state.ended = { number: ended.incident.number, reason: ended.cancel_reason };
    chime("alert");
    render();
  } catch { /* the poll will tell us next time */ }
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150); // several events of one change arrive together
}

// ---------------------------------------------------------------- the outbox

const outbox = new Outbox(config.user, {
  onChange: () => render(),
  onApplied: (op, result) => {
    if (result.result?.unit && state.shift) {
      state.shift.unit = result.result.unit;
      if (state.assignment && state.assignment.id === op.data.assignment) state.assignment.unit = result.result.unit;
    }
    refreshSoon();
  },
  onRefused: (op, result) => {
    state.refused.push({ label: op.label, error: result.error || result.code, at: op.client_time });
    chime("alert");
    refreshSoon();
  },
  onNetwork: (ok) => setNetwork(ok),
});
useOutbox(outbox); // signing out sends what waits first, or asks (tablet-signout.js)

function setNetwork(ok) {
  if (state.network === ok) return;
  state.network = ok;
  if (ok) outbox.flush();
  renderNet();
}

const online = () => state.network && navigator.onLine;
window.addEventListener("offline", () => renderNet());
window.addEventListener("online", () => { outbox.flush(); refresh(); });

function assignmentOps(kind) {
  const a = state.assignment;
  return outbox.pending(kind).filter((op) => !a || op.data.assignment === a.id || op.data.assignment == null);
}

// The unit's status as the crew will see it once the waiting taps are sent.
function effectiveStatus() {
  let status = state.assignment?.unit.status || state.shift?.unit.status;
  for (const op of outbox.pending()) {
    if (op.kind === "acknowledge") status = "acknowledged";
    else if (op.kind === "status") status = op.data.status;
    else if (op.kind === "status_undo") status = op.data.back_to;
  }
  return status;
}

const STATUS_KINDS = ["status", "acknowledge", "status_undo"];

function nextStatuses(status) {
  const unit = state.shift?.unit;
  const waiting = outbox.pending().some((op) => STATUS_KINDS.includes(op.kind));
  if (!waiting && unit && unit.status === status) return unit.next_statuses.map((s) => s.status);
  return config.next[status] || [];
}

// ---------------------------------------------------------------- rendering

function render() {
  const shift = state.shift;
  $("loading").hidden = !!root.dataset.loaded;
  $("shift").hidden = !root.dataset.loaded || !!shift;
  $("work").hidden = !shift;
  $("end-shift").hidden = !shift;
  renderBar();
  renderNet();
  renderRefused();
  if (!shift) { if (root.dataset.loaded) loadUnits(); return; }
  renderSoundHint();
  renderAlert();
  renderJob();
  renderRelocation(state.assignment ? null : state.relocation, { fix: state.fix, eta: map.eta(), arrive: arrived });
  renderDiversion();
  renderStatuses();
  renderUndo();
  renderTabs();
  renderDetails();
  renderPatient();
  renderVitals($("vitals-list"), $("trend"), state.assignment?.vitals || [], assignmentOps("vitals"), { hhmm });
  renderHospital();
  renderMessages();
  map.update(mapInput());
  renderEta();
  root.dataset.ready = "1";
}

function renderBar() {
  const unit = state.shift?.unit;
  $("call-sign").textContent = unit ? unit.call_sign : gettext("Not on shift");
  $("unit-kind").textContent = unit ? config.kind[unit.kind] || unit.kind : "";
  const status = effectiveStatus();
  const waiting = unit && status !== unit.status;
  $("unit-status").innerHTML = unit
    ? `<span class="status-dot s-${status}"></span>${escapeHtml(STATUS_TEXT[status] || status)}` +
      (waiting ? ` <span class="waiting">${gettext("waiting to send")}</span>` : "")
    : "";
  $("unit-status").className = `unit-status s-${status || "none"}`;
}

function renderNet() {
  const items = outbox.pending();
  const net = $("net");
  const up = online();
  net.className = `net ${up ? "net-on" : "net-off"}`;
  net.textContent = up ? gettext("Online") : gettext("Offline");
  if (items.length) net.textContent += ` · ${items.length} ${gettext("waiting")}`;
  root.classList.toggle("is-offline", !up);
  $("conn").hidden = !up; // an emulated or half-dead link may keep the socket "live": say one thing
  const box = $("offline");
  box.hidden = up && !items.length;
  box.className = `offline-box ${up ? "sending" : "off"}`;
  $("offline-title").textContent = up
    ? interpolate(gettext("Sending %(count)s…"), { count: items.length }, true)
    : items.length
      ? interpolate(gettext("Offline: %(count)s waiting, sent in order when the network is back."), { count: items.length }, true)
      : gettext("Offline: what you do is kept here and sent when the network is back.");
  $("queue-list").innerHTML = items.map((op) => `<li><time>${hhmm(op.client_time)}</time> ${escapeHtml(op.label)}</li>`).join("");
}

function renderRefused() {
  const box = $("refused");
  box.hidden = !state.refused.length;
  $("refused-list").innerHTML = state.refused.map((r) =>
    `<li><b>${escapeHtml(interpolate(gettext("Not accepted: %(what)s"), { what: r.label }, true))}</b> <time>${hhmm(r.at)}</time><br>${escapeHtml(r.error)}</li>`).join("");
}

function isNewJob() {
  const a = state.assignment;
  return !!a && a.live && effectiveStatus() === "dispatched";
}

function renderAlert() {
  const a = state.assignment;
  const fresh = isNewJob();
  $("alert").hidden = !fresh;
  root.classList.toggle("alerting", fresh);
  if (!fresh) return;
  const i = a.incident;
  $("alert-what").innerHTML = `<span class="prio-pill p${i.priority || 0}">${escapeHtml(PRIORITY[i.priority] || gettext("Not triaged"))}</span> ${escapeHtml(i.chief_complaint || gettext("(no complaint yet)"))}`;
  $("alert-where").textContent = i.address || gettext("Location not set: call control");
  if (!state.alerted.has(a.id)) {
    state.alerted.add(a.id);
    announce();
    state.tab = "map";
  }
}

function announce() {
  chime("alert", 0.35);
  if (navigator.vibrate) navigator.vibrate([500, 200, 500, 200, 800]);
}

setInterval(() => { if (isNewJob()) announce(); }, REMIND_MS);

function renderSoundHint() {
  const hint = $("sound-hint");
  hint.hidden = !!navigator.userActivation?.hasBeenActive || !state.shift;
}
document.addEventListener("pointerdown", () => { if (!$("sound-hint").hidden) { $("sound-hint").hidden = true; chime("notice", 0.05); } }, { once: true });

function renderJob() {
  const a = state.assignment;
  $("job").hidden = !a;
  $("idle").hidden = !!a || !!state.relocation;
  if (a) state.ended = null;
  $("stood-down").hidden = !state.ended;
  if (state.ended) {
    $("stood-down").textContent = interpolate(
      gettext("Stood down %(number)s: %(reason)s"), { number: state.ended.number, reason: state.ended.reason || "—" }, true,
    );
  }
  if (!a) return;
  const i = a.incident;
  $("job-prio").className = `prio-pill p${i.priority || 0}`;
  $("job-prio").textContent = PRIORITY[i.priority] || gettext("Not triaged");
  $("job-complaint").textContent = i.chief_complaint || gettext("(no complaint yet)");
  $("job-number").textContent = i.number;
  $("job-address").textContent = i.address || gettext("Location not set");
  const call = $("call-back");
  call.hidden = !i.caller_number;
  call.href = `tel:${i.caller_number}`;
  call.textContent = `☎ ${gettext("Call back")} ${i.caller_number}`;
  const target = navTarget();
  const nav = $("navigate");
  nav.hidden = !target;
  if (target) {
    nav.href = `geo:${target.lat},${target.lon}?q=${target.lat},${target.lon}(${encodeURIComponent(target.name)})`;
    nav.textContent = `➤ ${gettext("Navigate to")} ${target.name}`;
  }
  renderNotice(a);
}

// The pre-arrival notice (上车即入院): sent or not, and who at the ER acknowledged it. The server
// also sends it by itself once the patient is on board; the button sends it now.
function renderNotice(a) {
  const line = $("notice-line");
  line.hidden = !a.destination;
  if (!a.destination) return;
  const n = a.notice;
  const acked = n && n.acknowledged_at;
  line.className = `notice-line${acked ? " acked" : n ? " sent" : ""}`;
  $("notice-text").textContent = a.clocks.handover_at
    ? interpolate(gettext("Handed over to the ER %(time)s"), { time: hhmm(a.clocks.handover_at) }, true)
    : !n
    ? gettext("Pre-arrival notice not sent yet")
    : acked
      ? interpolate(gettext("ER acknowledged: %(by)s %(at)s"), { by: n.acknowledged_by || "", at: hhmm(n.acknowledged_at) }, true)
      : `${gettext("Pre-arrival notice sent")} ${hhmm(n.sent_at)} · ${gettext("waiting for the ER")}`;
  $("send-notice").hidden = !!acked || !!a.clocks.handover_at;
  $("send-notice").textContent = n ? gettext("Update the notice") : gettext("Send pre-arrival notice");
  const ackedId = acked ? n.id : null; // a sound when the acknowledgement arrives, not on load
  if (state.noticeAck !== undefined && ackedId && state.noticeAck !== ackedId) chime("notice");
  state.noticeAck = ackedId;
}

async function sendNotice() {
  const a = state.assignment;
  if (!a) return;
  $("send-notice").disabled = true;
  try {
    await post(`/api/crew/assignments/${a.id}/notice`, {});
    await refresh();
  } catch (error) {
    $("status-error").textContent = error.message;
  } finally {
    $("send-notice").disabled = false;
  }
}
$("send-notice").onclick = sendNotice;

// Where the crew drives now: the scene until they are on it, then the hospital.
function navTarget() {
  const a = state.assignment;
  if (!a) return null;
  const i = a.incident;
  const toScene = BEFORE_SCENE.includes(effectiveStatus());
  if (toScene && i.lon != null) return { lon: i.lon, lat: i.lat, name: i.address || gettext("Scene") };
  const h = a.destination;
  if (h) return { lon: h.lon, lat: h.lat, name: h.name };
  return null;
}

function renderStatuses() {
  const a = state.assignment;
  const status = effectiveStatus();
  const next = nextStatuses(status);
  const shown = a ? JOB : [["available", STATUS_TEXT.available], ["out_of_service", gettext("Out of service")]];
  // Idle, nothing is expected of the crew but to stay available.
  const expected = a ? shown.find(([s]) => next.includes(s))?.[0] : next.includes("available") ? "available" : null;
  const waiting = new Map(outbox.pending().filter((op) => op.kind === "status" || op.kind === "acknowledge")
    .map((op) => [op.kind === "acknowledge" ? "acknowledged" : op.data.status, op]));
  const clocks = a?.clocks || {};
  const clockOf = { acknowledged: "acknowledged_at", en_route: "en_route_at", on_scene: "on_scene_at", patient_contact: "patient_contact_at", transporting: "transport_started_at", at_hospital: "at_hospital_at", returning: "handover_at" };
  // The ER recorded the handover (handover.completed): that step is done, by them; what is
  // left to tap is leaving, so the button says so and carries the ER's time.
  const handedOver = status === "at_hospital" && !!clocks.handover_at;
  const box = $("status-buttons");
  box.replaceChildren(...shown.map(([value, shownLabel]) => {
    const label = handedOver && value === "returning" ? gettext("Returning") : shownLabel;
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.status = value;
    button.className = `status-button s-${value}` + (value === expected ? " next" : "") + (waiting.has(value) ? " waiting" : "");
    button.disabled = !next.includes(value);
    const at = clocks[clockOf[value]];
    const mark = waiting.has(value)
      ? `<small class="wait-mark">${gettext("waiting to send")} ${hhmm(waiting.get(value).client_time)}</small>`
      : handedOver && value === "returning" ? `<small>✓ ${escapeHtml(interpolate(gettext("handed over %(time)s (ER)"), { time: hhmm(at) }, true))}</small>`
        : at ? `<small>✓ ${hhmm(at)}</small>` : "";
    button.innerHTML = `<span>${escapeHtml(label)}</span>${mark}`;
    button.onclick = () => tapStatus(value, label);
    return button;
  }));
}

function tapStatus(status, label) {
  $("status-error").textContent = "";
  const a = state.assignment;
  const from = effectiveStatus();
  if (!nextStatuses(from).includes(status)) return; // a second tap of a glove
  // Available during patient contact ends the job: never on one stray tap (a dialog, a reason).
  if (status === "available" && a && a.live && EARLY_END.includes(from)) { askEndReason(); return; }
  if (status === "acknowledged" && a) outbox.add("acknowledge", { assignment: a.id }, label);
  else outbox.add("status", { status, assignment: a && a.live ? a.id : null }, interpolate(gettext("Status: %(status)s"), { status: label }, true));
  if (status === "acknowledged") chime("dispatched");
  offerUndo(from, status, label);
}

// ---------------------------------------------------------------- ending a job early

const endDialog = $("end-dialog");
const endForm = $("end-form");

function askEndReason() {
  endForm.reset();
  $("end-error").textContent = "";
  endDialog.showModal();
}

$("end-cancel").onclick = () => endDialog.close();
endForm.addEventListener("change", () => { $("end-error").textContent = ""; });
endForm.onsubmit = (event) => {
  event.preventDefault();
  const a = state.assignment;
  const from = effectiveStatus();
  const reason = endForm.querySelector("input[name=end_reason]:checked")?.value;
  const note = $("end-note").value.trim();
  if (!reason) { $("end-error").textContent = gettext("Choose a reason."); return; }
  if (reason === "other" && !note) { $("end-error").textContent = gettext("Say in a few words what happened."); $("end-note").focus(); return; }
  endDialog.close();
  if (!a || !a.live || !EARLY_END.includes(from)) return; // the job moved on meanwhile
  const label = interpolate(gettext("Job ended: %(reason)s"), { reason: END_REASONS[reason] }, true);
  outbox.add("status", { status: "available", assignment: a.id, end_reason: reason, end_note: note }, label);
  offerUndo(from, "available", label);
};

// ---------------------------------------------------------------- undoing a mistaken tap

// After each tap, for UNDO_STATUS_SECONDS: one button puts the unit back where it was. The
// server allows it only within that window, only to the status before, and records it as a
// correction the control room sees.
function offerUndo(from, to, label) {
  const unit = state.shift?.unit;
  if (!unit || !from || from === to) return;
  state.undo = { unit: unit.id, status: to, back_to: from, label, until: Date.now() + UNDO_MS };
  renderUndo();
}

function renderUndo() {
  const undo = state.undo;
  const left = undo ? Math.ceil((undo.until - Date.now()) / 1000) : 0;
  if (undo && (left <= 0 || effectiveStatus() !== undo.status)) state.undo = null;
  $("undo-bar").hidden = !state.undo;
  if (!state.undo) return;
  $("undo-text").textContent = interpolate(gettext("Tapped: %(what)s"), { what: undo.label }, true);
  $("undo-count").textContent = interpolate(gettext("%(n)s s"), { n: left }, true);
}
setInterval(() => { if (state.undo) renderUndo(); }, 250);

$("undo").onclick = () => {
  const undo = state.undo;
  if (!undo) return;
  state.undo = null;
  const back = STATUS_TEXT[undo.back_to] || undo.back_to;
  outbox.add("status_undo", { unit: undo.unit, status: undo.status, back_to: undo.back_to },
    interpolate(gettext("Undo: back to %(status)s"), { status: back }, true));
  render();
};

// ---------------------------------------------------------------- the destination cannot take the patient

// The receiving hospital went on diversion for this patient (or has no resuscitation bed): the
// banner names the next best hospital; one tap sends the crew's destination change.
function renderDiversion() {
  const a = state.assignment;
  const alert = a?.live ? a.destination_alert : null;
  const waiting = assignmentOps("destination").length > 0;
  const show = !!alert && !waiting && state.keptDestination !== alert.event;
  $("diversion").hidden = !show;
  if (!show) return;
  $("diversion-text").textContent = en ? alert.text_en : alert.text;
  const other = alert.alternative;
  const go = $("diversion-go");
  go.hidden = !other;
  if (other) {
    const mins = other.eta_s != null ? ` · ${Math.round(other.eta_s / 60)} ${gettext("min")}` : "";
    go.textContent = `➤ ${interpolate(gettext("Take to %(hospital)s instead"), { hospital: other.name }, true)}${mins}`;
  }
  if (state.divertAlerted !== alert.event) { state.divertAlerted = alert.event; chime("alert"); if (navigator.vibrate) navigator.vibrate([300, 150, 300]); }
}

$("diversion-go").onclick = () => {
  const a = state.assignment;
  const other = a?.destination_alert?.alternative;
  if (!other) return;
  outbox.add("destination", { assignment: a.id, hospital: other.id, hospital_rank: other.rank },
    interpolate(gettext("Destination: %(hospital)s"), { hospital: other.name }, true));
  state.recommendation = null;
};
$("diversion-keep").onclick = () => {
  state.keptDestination = state.assignment?.destination_alert?.event;
  render();
};

// ---------------------------------------------------------------- tabs and panels

function renderTabs() {
  const a = state.assignment;
  const tabs = [...document.querySelectorAll("#tabs [data-tab]")];
  const moving = !a && !!state.relocation; // relocating: its map and messages
  for (const tab of tabs) tab.hidden = !a && tab.dataset.tab !== "messages" && !(moving && tab.dataset.tab === "map");
  if (moving) { if (state.idleTab || !["map", "messages"].includes(state.tab)) { state.tab = "map"; state.idleTab = false; } }
  else if (!a) { state.tab = "messages"; state.idleTab = true; }
  else if (!state.tab || state.idleTab) { state.tab = "map"; state.idleTab = false; }
  for (const tab of tabs) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === state.tab));
    tab.classList.toggle("active", tab.dataset.tab === state.tab);
  }
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== state.tab;
  const unread = state.messages.filter((m) => m.direction === "to_crew" && !m.read_at && !state.readSent.has(m.id)).length;
  $("unread").hidden = !unread;
  $("unread").textContent = unread;
}

document.querySelectorAll("#tabs [data-tab]").forEach((tab) => {
  tab.onclick = () => {
    state.tab = tab.dataset.tab;
    state.idleTab = false;
    render();
    if (state.tab === "map") map.resize();
    if (state.tab === "hospital") loadRecommendation();
  };
});

function renderDetails() {
  const a = state.assignment;
  if (!a) return;
  const i = a.incident;
  const sex = SEX[i.patient_sex] || "";
  const patient = [i.patient_name, sex, i.patient_age != null ? ageText(i.patient_age) : ""].filter(Boolean).join(" · ");
  const path = (i.triage.path || []).map((p) =>
    `<li>${escapeHtml(en ? p.question_en || p.question : p.question)} → <b>${escapeHtml(en ? p.answer_en || p.answer : p.answer)}</b></li>`).join("");
  const rows = [
    [gettext("Incident"), escapeHtml(i.number)],
    [gettext("Priority"), `<span class="prio-pill p${i.priority || 0}">${escapeHtml(PRIORITY[i.priority] || gettext("Not triaged"))}</span>`],
    [gettext("Complaint"), escapeHtml(i.chief_complaint || "—")],
    [gettext("Address"), escapeHtml(i.address || "—")],
    [gettext("Caller"), i.caller_number ? `<a class="tel" href="tel:${escapeHtml(i.caller_number)}">☎ ${escapeHtml(i.caller_number)}</a> ${escapeHtml(i.caller_name || "")}` : "—"],
    [gettext("Patient"), escapeHtml(patient || "—") + (i.patient_count > 1 ? ` · ${gettext("patients")} ${i.patient_count}` : "")],
    [gettext("Triage"), i.triage.protocol ? `${escapeHtml(en ? i.triage.protocol_name_en || i.triage.protocol_name : i.triage.protocol_name)}<ol class="triage-path">${path}</ol>` : "—"],
    [gettext("Instruction"), escapeHtml((en ? i.triage.instruction_title_en : i.triage.instruction_title) || (i.triage.instruction ? gettext("(instruction no longer in the catalogue)") : "—"))],
    [gettext("Dispatcher notes"), dispatcherNotes(i)],
  ];
  $("details").innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("");
}

// What the dispatcher wrote for the crew: hazards first, then where inside the address and the
// way in, then the free notes (their line breaks kept).
function dispatcherNotes(i) {
  const text = (value) => escapeHtml(value).replace(/\n/g, "<br>");
  const where = [[gettext("Building"), i.address_building], [gettext("Entrance"), i.address_unit],
    [gettext("Floor"), i.address_floor], [gettext("Room"), i.address_room]]
    .filter(([, value]) => value).map(([label, value]) => `${label} <b>${escapeHtml(value)}</b>`).join(" · ");
  const parts = [
    i.hazards && `<p class="warning hazards">⚠ <b>${gettext("Hazards")}:</b> ${text(i.hazards)}</p>`,
    where && `<p class="address-detail">${where}</p>`,
    i.access_notes && `<p class="access-notes"><b>${gettext("Access")}:</b> ${text(i.access_notes)}</p>`,
    i.notes && `<p class="notes">${text(i.notes)}</p>`,
  ].filter(Boolean);
  return parts.join("") || "—";
}

// The patient record ----------------------------------------------------------------------

const patientForm = $("patient-form");

function renderPatient() {
  const a = state.assignment;
  if (!a) return;
  const waiting = assignmentOps("patient");
  const record = a.patient;
  if (!state.patientDirty && !waiting.length && state.patientFor !== `${a.id}:${record?.updated_at}`) {
    state.patientFor = `${a.id}:${record?.updated_at}`;
    const f = patientForm.elements;
    f.name.value = record?.name ?? a.incident.patient_name ?? "";
    f.age.value = record?.age ?? a.incident.patient_age ?? "";
    f.chief_complaint.value = record?.chief_complaint || a.incident.chief_complaint || "";
    f.findings.value = record?.findings || "";
    f.interventions.value = record?.interventions || "";
    const sex = record ? record.sex : a.incident.patient_sex || "";
    for (const radio of patientForm.querySelectorAll("input[name=sex]")) radio.checked = radio.value === sex;
    state.drugs = (record?.drugs || []).map((d) => ({ ...d }));
  }
  $("drug-list").innerHTML = state.drugs.map((d, n) =>
    `<li><b>${escapeHtml(d.name)}</b> ${escapeHtml(d.dose)} ${escapeHtml(d.route)} <time>${hhmm(d.given_at)}</time>
      <button type="button" class="t-button quiet small" data-drop="${n}" aria-label="${gettext("Remove")}">✕</button></li>`).join("")
    || `<li class="muted">${gettext("No drugs recorded")}</li>`;
  $("drug-list").querySelectorAll("[data-drop]").forEach((b) => (b.onclick = () => {
    state.drugs.splice(Number(b.dataset.drop), 1);
    state.patientDirty = true;
    renderPatient();
  }));
  const line = $("patient-state");
  if (waiting.length) line.innerHTML = `<span class="waiting">${gettext("waiting to send")} · ${hhmm(waiting.at(-1).client_time)}</span>`;
  else if (state.patientDirty) line.textContent = gettext("Changes not saved yet");
  else if (record) line.textContent = `✓ ${gettext("Saved")} ${hhmm(record.updated_at)}`;
  else line.textContent = "";
}

patientForm.addEventListener("input", () => { state.patientDirty = true; renderPatient(); });
$("drug-add").onclick = () => {
  const name = $("drug-name").value.trim();
  if (!name) { $("drug-name").focus(); return; }
  state.drugs.push({ name, dose: $("drug-dose").value.trim(), route: $("drug-route").value.trim(), given_at: new Date().toISOString() });
  for (const id of ["drug-name", "drug-dose", "drug-route"]) $(id).value = "";
  state.patientDirty = true;
  renderPatient();
};
patientForm.onsubmit = (event) => {
  event.preventDefault();
  const a = state.assignment;
  if (!a) return;
  const f = patientForm.elements;
  const age = f.age.value.trim();
  const data = {
    assignment: a.id,
    name: f.name.value.trim(),
    sex: patientForm.querySelector("input[name=sex]:checked")?.value ?? "",
    age: age === "" ? null : Number(age),
    chief_complaint: f.chief_complaint.value.trim(),
    findings: f.findings.value.trim(),
    interventions: f.interventions.value.trim(),
    drugs: state.drugs,
  };
  outbox.add("patient", data, gettext("Patient record"));
  state.patientDirty = false;
};

// Vital signs --------------------------------------------------------------------------------

$("vitals-form").onsubmit = (event) => {
  event.preventDefault();
  const a = state.assignment;
  if (!a) return;
  const { readings, problem } = vitalsFromForm(event.target, config.vital_ranges);
  $("vitals-error").textContent = problem || "";
  if (problem) return;
  const summary = [readings.heart_rate && `${gettext("HR")} ${readings.heart_rate}`, readings.systolic_bp && `${gettext("BP")} ${readings.systolic_bp}/${readings.diastolic_bp}`,
    readings.spo2 && `SpO₂ ${readings.spo2}`].filter(Boolean).join(" ");
  outbox.add("vitals", { assignment: a.id, taken_at: new Date().toISOString(), ...readings }, `${gettext("Vitals")} ${summary}`);
  event.target.reset();
};

// The destination ------------------------------------------------------------------------------

async function loadRecommendation() {
  const a = state.assignment;
  if (!a) return;
  $("hospital-list").innerHTML = `<li class="muted">${gettext("Loading the recommendation…")}</li>`;
  try {
    state.recommendation = await get(`/api/crew/assignments/${a.id}/recommendation`);
  } catch (error) {
    state.recommendation = { error: error.message };
  }
  renderHospital();
}

function renderHospital() {
  const a = state.assignment;
  if (!a) return;
  const waiting = assignmentOps("destination").at(-1);
  const dest = a.destination;
  $("destination").innerHTML = dest
    ? `${gettext("Taking the patient to")} <b>${escapeHtml(dest.name)}</b>` +
      (dest.phone ? ` · <a class="tel" href="tel:${escapeHtml(dest.phone)}">☎ ${escapeHtml(dest.phone)}</a>` : "") +
      (waiting ? ` <span class="waiting">${gettext("change waiting to send")}</span>` : "")
    : `${gettext("No hospital chosen yet")}` + (waiting ? ` <span class="waiting">${gettext("waiting to send")}</span>` : "");
  const rec = state.recommendation;
  if (!rec || rec.assignment !== a.id) {
    if (!rec?.error) { $("hospital-list").innerHTML = `<li class="muted">${gettext("The recommendation loads when this page opens.")}</li>`; }
    else $("hospital-list").innerHTML = `<li class="error">${escapeHtml(rec.error)}</li>`;
    return;
  }
  const chosen = waiting ? waiting.data.hospital : dest?.id;
  const rows = rec.hospitals.map((h) => {
    const reasons = (h.reasons || []).map((r) => escapeHtml(en ? r.en : r.zh)).join(" · ");
    const mins = h.eta_s != null ? `${Math.round(h.eta_s / 60)} ${gettext("min")}` : "—";
    const cls = ["hospital"];
    if (h.id === chosen) cls.push("chosen");
    if (h.diverting) cls.push("diverting");
    if (!h.has_capability) cls.push("lacks");
    const button = h.id === chosen
      ? `<span class="chosen-mark">✓ ${gettext("Current destination")}</span>`
      : `<button type="button" class="t-button" data-hospital="${h.id}" data-rank="${h.rank}">${dest ? gettext("Take here instead") : gettext("Take here")}</button>`;
    return `<li class="${cls.join(" ")}"><span class="rank">${h.rank}</span><div class="h-main"><b>${escapeHtml(h.name)}</b>
      <span class="eta">${mins}</span>${h.diverting ? `<span class="flag">${gettext("diverting")}</span>` : ""}<br><small>${reasons}</small></div>${button}</li>`;
  });
  const short = rec.hospital_shortfall ? `<li class="shortfall">${escapeHtml(en ? rec.hospital_shortfall.en : rec.hospital_shortfall.zh)}</li>` : "";
  $("hospital-list").innerHTML = short + (rows.join("") || `<li class="muted">${gettext("No hospital to recommend")}</li>`);
  $("hospital-list").querySelectorAll("[data-hospital]").forEach((b) => (b.onclick = () => {
    const h = rec.hospitals.find((x) => x.id === Number(b.dataset.hospital));
    outbox.add("destination", { assignment: a.id, hospital: h.id, hospital_rank: h.rank }, interpolate(gettext("Destination: %(hospital)s"), { hospital: h.name }, true));
  }));
}

// Messages -----------------------------------------------------------------------------------

function renderMessages() {
  const waiting = outbox.pending("message");
  const list = $("message-list");
  const seen = state.seenMessages;
  const ids = new Set(state.messages.map((m) => m.id));
  if (seen && state.messages.some((m) => m.direction === "to_crew" && !seen.has(m.id))) {
    chime("notice");
    if (navigator.vibrate) navigator.vibrate(200);
  }
  state.seenMessages = ids;
  // A crew's line is signed with its call sign (how the control room knows it), the person beneath.
  const signature = (m) => m.direction === "to_crew"
    ? `<b class="from">${gettext("Control")}</b><small class="who">${escapeHtml(m.sender_name || "")}</small>`
    : `<b class="from">${escapeHtml(m.call_sign)}</b><small class="who">${escapeHtml(m.sender_name || m.sender)}</small>`;
  const rows = state.messages.map((m) =>
    `<li class="${m.direction}${m.direction === "to_crew" && !m.read_at ? " unread" : ""}"><span class="sig">${signature(m)}<time>${hhmm(m.sent_at)}</time></span>
      <span class="text">${escapeHtml(m.text)}</span></li>`);
  const mine = state.shift?.unit.call_sign || gettext("Me");
  rows.push(...waiting.map((op) => `<li class="to_control waiting"><span class="sig"><b class="from">${escapeHtml(mine)}</b><small class="who">${escapeHtml(config.user)}</small><time>${hhmm(op.client_time)}</time></span>
    <span class="text">${escapeHtml(op.data.text)}</span> <span class="waiting">${gettext("waiting to send")}</span></li>`));
  list.innerHTML = rows.join("") || `<li class="muted">${gettext("No messages. Write to the control room below.")}</li>`;
  if (state.tab === "messages" && !$("work").hidden) {
    list.scrollTop = list.scrollHeight;
    for (const m of state.messages) {
      if (m.direction === "to_crew" && !m.read_at && !state.readSent.has(m.id)) {
        state.readSent.add(m.id);
        outbox.add("message_read", { message: m.id }, gettext("Message read"));
      }
    }
  }
}

$("message-form").onsubmit = (event) => {
  event.preventDefault();
  const text = $("message-text").value.trim();
  if (!text) return;
  outbox.add("message", { text }, interpolate(gettext("Message: %(text)s"), { text: text.slice(0, 24) }, true));
  $("message-text").value = "";
};

// ---------------------------------------------------------------- the map and the route

const map = new TabletMap($("tablet-map"), $("map-status"), { online, labels: config });

function mapInput() {
  const a = state.assignment;
  if ((!a || !a.live) && state.relocation) {
    return { scene: null, hospital: null, site: relocationTarget(state.relocation), fix: state.fix, phase: "relocating" };
  }
  if (!a || !a.live) return { scene: null, hospital: null, fix: state.fix, phase: "idle" };
  const i = a.incident;
  const status = effectiveStatus();
  return {
    scene: i.lon != null ? { lon: i.lon, lat: i.lat, name: i.address, priority: i.priority } : null,
    hospital: a.destination,
    fix: state.fix,
    phase: BEFORE_SCENE.includes(status) ? "to_scene" : status === "at_hospital" ? "arrived" : status === "transporting" ? "to_hospital" : "on_scene",
  };
}

function renderEta() {
  const eta = etaLine();
  // An empty line keeps its height (tablet.css): the buttons below must not move when it fills.
  for (const id of ["job-eta", "alert-eta"]) $(id).textContent = eta || "";
}
// What the ETA line says for where the crew is in the job: the way to the scene until it is
// there, how long on scene (and the way on) there, the way to the hospital while transporting.
function etaLine() {
  const a = state.assignment;
  if (!a || !a.live) return "";
  const status = effectiveStatus();
  if (BEFORE_SCENE.includes(status)) {
    const leg = map.leg("a", "to_scene");
    if (leg && leg.metres < AT_SCENE_M) return gettext("At the scene? Tap On scene.");
    return map.eta();
  }
  if (EARLY_END.includes(status)) {
    const since = a.clocks.on_scene_at ? interpolate(gettext("On scene since %(time)s"), { time: hhmm(a.clocks.on_scene_at) }, true) : "";
    return [since, a.destination ? map.eta() : ""].filter(Boolean).join(" · ");
  }
  if (status === "transporting") return map.eta();
  return "";
}
map.onRoute = () => { renderEta(); if (state.relocation && !state.assignment) $("relocation-eta").textContent = map.eta(); };

// The crew tapped Arrived (or the GPS is there): the unit is available at the site. "Not
// relocating" means it already is (the server saw the GPS there first, another tablet of the
// crew tapped, a second tap of a glove) or the move ended: nothing for the crew to fix.
async function arrived() {
  try {
    await post("/api/crew/relocation/arrived", {});
  } catch (error) {
    if (error.code !== "not_relocating") throw error;
  }
  state.relocation = null;
  renderRelocation(null, {});
  refreshSoon();
}
window.addEventListener("resize", () => map.resize()); // a tablet turned on its side

// ---------------------------------------------------------------- GPS

let watchId = null;
let lastSent = 0;
let sentFix = null;
let sending = false;

function startGps() {
  if (watchId !== null || !navigator.geolocation) {
    if (!navigator.geolocation) $("gps").textContent = gettext("No GPS");
    return;
  }
  $("gps").textContent = gettext("Finding position…");
  watchId = navigator.geolocation.watchPosition((position) => {
    const c = position.coords;
    state.fix = {
      lon: c.longitude, lat: c.latitude, accuracy: c.accuracy, speed: c.speed, heading: Number.isFinite(c.heading) ? c.heading : null,
      at: new Date(position.timestamp || Date.now()).toISOString(),
    };
    $("gps").textContent = `GPS ±${Math.round(c.accuracy)} m`;
    sendPosition();
    map.update(mapInput());
  }, (error) => {
    $("gps").textContent = error.code === 1 ? gettext("GPS not allowed") : gettext("GPS unavailable");
  }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
}

function stopGps() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  $("gps").textContent = "";
}

// Positions are state, not events: at most one every 5 s, and only the latest after a gap.
async function sendPosition() {
  const fix = state.fix;
  if (!fix || fix === sentFix || sending || !state.shift || Date.now() - lastSent < GPS_MS) return;
  sending = true;
  lastSent = Date.now();
  try {
    const response = await fetch("/api/crew/position", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(fix),
    });
    setNetwork(true);
    if (response.ok || response.status === 422) sentFix = fix; // 422: an impossible fix, do not resend it
  } catch {
    setNetwork(false);
  } finally {
    sending = false;
  }
}
setInterval(sendPosition, 1000);

// ---------------------------------------------------------------- shift

async function loadUnits() {
  if (state.unitsLoading) return;
  state.unitsLoading = true;
  const list = $("unit-pick");
  try {
    state.units = await get("/api/crew/units");
    renderUnitPick();
    loadMyRoster();
  } catch (error) {
    list.innerHTML = `<li class="error">${escapeHtml(error.message)}</li>`;
  } finally {
    state.unitsLoading = false;
  }
}

// How the crew member's last shift ended (by itself at its rostered end, or by hand) and where
// they are rostered next: the roster decides where a shift may start (dispatch/roster).
const centreDayTime = centreTime(config.time_zone, { day: true });
async function loadMyRoster() {
  const note = $("shift-note");
  try {
    const mine = await get("/api/roster/mine");
    const last = mine.last_shift;
    const lines = [];
    if (last) {
      const words = { unit: last.call_sign, time: centreDayTime(last.ended_at) };
      lines.push(last.automatic
        ? interpolate(gettext("Your shift on %(unit)s ended at %(time)s, its rostered end."), words, true)
        : interpolate(gettext("Your shift on %(unit)s ended at %(time)s."), words, true));
    }
    for (const e of mine.entries) {
      const words = { unit: e.call_sign, start: centreDayTime(e.planned_start), end: hhmm(e.planned_end) };
      lines.push(interpolate(gettext("Rostered: %(unit)s, %(start)s–%(end)s"), words, true));
    }
    if (!mine.entries.length) lines.push(gettext("You are not on the roster this week: ask your supervisor."));
    note.innerHTML = lines.map((line) => `<span>${escapeHtml(line)}</span>`).join("<br>");
    note.hidden = false;
  } catch {
    note.hidden = true;
  }
}

// The shift list, filtered by what is typed: call sign, station, plate, or the station's pinyin
// or its initials (the server's `search` text), each word of the query matching somewhere.
function renderUnitPick() {
  const list = $("unit-pick");
  const units = state.units || [];
  const words = $("unit-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = units.filter((u) => words.every((w) => u.search.includes(w)));
  list.innerHTML = shown.map((u) =>
    `<li><button type="button" class="t-button unit-choice" data-unit="${u.id}"><b>${escapeHtml(u.call_sign)}</b>
      <span>${escapeHtml(config.kind[u.kind] || u.kind)} · ${escapeHtml(u.home_station || "")}${u.plate ? ` · <span class="plate">${escapeHtml(u.plate)}</span>` : ""}</span>
      <small>${escapeHtml(STATUS_TEXT[u.status] || u.status)}${u.crew.length ? " · " + escapeHtml(u.crew.join(", ")) : ""}</small></button></li>`).join("")
    || `<li class="muted">${units.length ? gettext("No unit matches the search.") : gettext("No units. Ask an administrator.")}</li>`;
  $("unit-count").textContent = words.length ? interpolate(gettext("%(shown)s of %(all)s"), { shown: shown.length, all: units.length }, true) : "";
  list.querySelectorAll("[data-unit]").forEach((b) => (b.onclick = () => startShift(Number(b.dataset.unit))));
}
$("unit-search").addEventListener("input", renderUnitPick);

async function startShift(unitId) {
  $("shift-error").textContent = "";
  const role = document.querySelector("input[name=role]:checked")?.value || "doctor";
  try {
    const body = await post("/api/crew/shift", { unit: unitId, role });
    state.shift = body.shift;
    shiftMoved();
    await refresh();
  } catch (error) {
    $("shift-error").textContent = error.message;
  }
}

$("end-shift").onclick = async () => {
  if (outbox.pending().length) {
    alert(gettext("Some changes are still waiting to send: end the shift once they are sent."));
    return;
  }
  if (!confirm(gettext("End your shift on this unit?"))) return;
  try {
    await post("/api/crew/shift/end", {});
    state.shift = null;
    state.assignment = null;
    await shiftEnded();
    shiftMoved();
    render();
  } catch (error) {
    $("status-error").textContent = error.message;
  }
};

// The socket learns the crew's unit when it connects: reconnect when the shift moves.
function shiftMoved(reconnect = true) {
  if (state.shift) startGps(); else stopGps();
  if (reconnect) socket.ws?.close();
}

$("ack").onclick = () => tapStatus("acknowledged", JOB[0][1]);
$("refused-ok").onclick = () => { state.refused = []; renderRefused(); };

// ---------------------------------------------------------------- offline copies

// The service worker keeps the page and the last reads for a tablet that restarts offline, no
// longer than the crew's shift (its sign-in lifetime) and for this sign-in only (tablet-sw.js).
if ("serviceWorker" in navigator) {
  const worker = `/tablet/sw.js?user=${encodeURIComponent(config.user)}&hours=${encodeURIComponent(config.shift_hours)}`;
  navigator.serviceWorker.register(worker, { scope: "/tablet/" })
    .catch(() => { /* no copies: the page still works online */ });
}

// A message to the worker, answered once it has done it (or after 3 s: nothing to wait for).
async function tellWorker(type) {
  try {
    const registration = await navigator.serviceWorker?.getRegistration("/tablet/");
    const worker = registration?.active || navigator.serviceWorker?.controller;
    if (!worker) return;
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = resolve;
      worker.postMessage({ type }, [channel.port2]);
      setTimeout(resolve, 3000);
    });
  } catch { /* no worker, no copies */ }
}

// The shift is over: the job and patient answers the worker kept go; the page itself stays.
function shiftEnded() {
  return tellWorker("shift-ended");
}

// ---------------------------------------------------------------- start

const showState = showConnectionState($("conn"));
const socket = new LiveSocket({
  after: config.last_seq,
  onEvent: (event) => {
    // handover. and notice.: the ER recorded the handover or acknowledged (followed on the steps).
    if (/^(assignment|unit|message|patient|vitals|incident|shift|handover|notice|move_up)\./.test(event.kind)) refreshSoon();
    document.dispatchEvent(new CustomEvent("tablet:event", { detail: event })); // tablet-major.js reads on its own
  },
  onResync: () => { refresh(); document.dispatchEvent(new CustomEvent("tablet:event", { detail: null })); },
  onState: (s) => { showState(s); if (s === "live") { refreshSoon(); outbox.flush(); } },
});
setInterval(refresh, POLL_MS);
refresh().then(() => outbox.flush());
