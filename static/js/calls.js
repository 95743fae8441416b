// Calls on the console: a ringing call shows on every free dispatcher's screen with a sound,
// the number, earlier incidents from it and open incidents near the caller; the first to take
// it owns it. The one who took it can text the caller a location link and, when the phone
// answers, sees the point and its accuracy circle on the console map and can adopt it.
// A call answered on a handset no dispatcher is signed in on (the PBX named nobody) shows too,
// with its ring time, until a dispatcher takes it over here (then it is theirs, with its own
// incident, as if taken on the console) or for half an hour after it ended.
// console.js hands every event to handleCallEvent(event, map); everything else is here.
"use strict";
import { $, KIND, escapeHtml, getJSON, gettext, interpolate, postJSON as post, typing } from "./shared.js";
import { chime } from "./sound.js";

const root = $("calls");
const me = Number(root.dataset.user);
const supervisor = root.dataset.role === "supervisor";
// The panel's words, in the page's language.
const W = {
  incoming: gettext("Incoming call"),
  withheld: gettext("Number withheld"),
  take: gettext("Take call"),
  taking: gettext("Taking…"),
  escalated: gettext("Unanswered: escalated to supervisors"),
  history: gettext("Earlier incidents from this number"),
  noHistory: gettext("No earlier incidents from this number."),
  nearby: gettext("Open incidents near the caller"),
  waiting: gettext("calls waiting"),
  onCall: gettext("On the line"),
  ended: gettext("Call ended"),
  incident: gettext("Incident"),
  sendLink: gettext("Text location link"),
  linkQueued: gettext("Location link queued for SMS…"),
  linkSent: gettext("Location link delivered to the SMS provider. Waiting for the caller…"),
  linkFailed: gettext("The SMS could not be sent."),
  position: gettext("Caller position"),
  accuracy: gettext("accuracy"),
  adopt: gettext("Use as incident location"),
  adopted: gettext("Incident located at the caller position."),
  close: gettext("Close"),
  recording: gettext("Recording"),
  smsPlaceholder: gettext("SMS to the caller…"),
  smsSend: gettext("Send SMS"),
  smsQueued: gettext("SMS queued for sending."),
  unowned: gettext("Answered on a phone with no dispatcher signed in"),
  rang: gettext("rang %(clock)s ago"),
  answeredAgo: gettext("answered %(clock)s ago"),
  endedAgo: gettext("ended %(clock)s ago"),
  takeOver: gettext("Take over on this console"),
};
// A call answered on an unsigned handset can be taken over this long after it ended (the
// server's TAKEOVER_MINUTES, dispatch/calls/actions.py).
const TAKEOVER_MS = Number(root.dataset.takeoverMinutes || 30) * 60_000;
// Where a caller's position came from: the page the location link opens, else the phone's AML.
const SOURCE = { sms_link: gettext("phone (SMS link)"), aml: gettext("AML") };
const RANK = { ringing: 0, answered: 1, ended: 2, missed: 2 };
const RING_REPEAT_MS = 4000;

const calls = new Map(); // id -> call summary, plus .detail, .link, .location, .adopted
let map = null;
let positionLayer = null;
let renderer = null;

// ---------------------------------------------------------------- state

function upsert(summary) {
  const known = calls.get(summary.id);
  // Events and the first load can cross: never move a call back to an earlier state.
  if (known && RANK[summary.status] < RANK[known.status]) return known;
  const call = Object.assign(known || {}, summary);
  calls.set(call.id, call);
  return call;
}

const mine = (call) => call.answered_by === me;
const myLiveCall = () => [...calls.values()].find((c) => c.status === "answered" && mine(c));
const ringing = () => [...calls.values()].filter((c) => c.status === "ringing").sort((a, b) => Date.parse(a.ringing_at) - Date.parse(b.ringing_at));
// A dispatcher on a call is not free: ringing calls go to the others (supervisors always see them).
const isFree = () => supervisor || !myLiveCall();
// Answered on a handset nobody is signed in on, not yet taken over, and not ended too long ago.
const unowned = (call) => Boolean(call.answered_at) && !call.answered_by && !call.incident &&
  (call.status === "answered" || (call.status === "ended" && call.ended_at && Date.now() - Date.parse(call.ended_at) < TAKEOVER_MS));
const takeovers = () => [...calls.values()].filter(unowned).sort((a, b) => Date.parse(a.ringing_at) - Date.parse(b.ringing_at));

async function loadDetail(call) {
  if (call.detail || call.loading) return;
  call.loading = true;
  try {
    call.detail = await getJSON(`/api/calls/${call.id}`);
    if (!call.location && call.detail.locations.length) showPosition(call, call.detail.locations[0]);
  } catch { /* the card still shows the number */ }
  call.loading = false;
  render();
}

// ---------------------------------------------------------------- map

function showPosition(call, location) {
  call.location = location;
  if (!map || !mine(call)) return;
  // SVG, not the console's canvas: the circle is then an element screens and tests can find.
  renderer = renderer || L.svg();
  positionLayer = positionLayer || L.layerGroup().addTo(map);
  positionLayer.clearLayers();
  const at = L.latLng(location.lat, location.lon);
  const radius = location.accuracy_m || 10;
  L.circle(at, { radius, renderer, className: "caller-accuracy", color: "#1d4ed8", weight: 2, fillOpacity: 0.12 }).addTo(positionLayer);
  L.circleMarker(at, { radius: 7, renderer, className: "caller-point", color: "#fff", weight: 2, fillColor: "#1d4ed8", fillOpacity: 1 })
    .bindTooltip(`${W.position} ±${Math.round(location.accuracy_m || 0)} m`).addTo(positionLayer);
  map.fitBounds(at.toBounds(radius * 2), { maxZoom: 17, padding: [40, 40] });
}

// ---------------------------------------------------------------- rendering

function clock(iso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function pastList(title, rows, empty) {
  if (!rows) return "";
  if (!rows.length) return empty ? `<p class="muted small">${escapeHtml(empty)}</p>` : "";
  const items = rows.map((i) => `<li><span class="num">${escapeHtml(i.number)}</span> ${escapeHtml(i.chief_complaint || "—")}` +
    ` <span class="muted">${escapeHtml(i.address || "")}${i.distance_m != null ? ` · ${Math.round(i.distance_m)} m` : ""}</span></li>`).join("");
  return `<h4>${escapeHtml(title)}</h4><ul class="past">${items}</ul>`;
}

function ringingCard(call) {
  loadDetail(call);
  const d = call.detail;
  return `<article class="call-card ringing${call.escalated_at ? " escalated" : ""}" id="call-${call.id}" data-call="${call.id}">
    <header><span class="call-icon" aria-hidden="true">☎</span><span class="label">${escapeHtml(W.incoming)}</span>
      <span class="call-clock" data-since="${call.ringing_at}">${clock(call.ringing_at)}</span></header>
    <p class="caller">${escapeHtml(call.caller_number || W.withheld)}</p>
    ${call.escalated_at ? `<p class="escalation">${escapeHtml(W.escalated)}</p>` : ""}
    ${call.location ? `<p class="small">${escapeHtml(W.position)} ±${Math.round(call.location.accuracy_m || 0)} m · ${escapeHtml(sourceName(call.location))}</p>` : ""}
    ${d ? pastList(W.history, d.history, W.noHistory) + pastList(W.nearby, d.nearby, "") : ""}
    <button class="primary take" type="button" data-take="${call.id}"><kbd>T</kbd> ${escapeHtml(W.take)}</button>
    <p class="error" role="alert"></p></article>`;
}

function unownedCard(call, keyed) {
  const ended = call.status === "ended";
  return `<article class="call-card unowned${ended ? " ended" : ""}" id="call-${call.id}" data-call="${call.id}">
    <header><span class="call-icon" aria-hidden="true">☎</span><span class="label">${escapeHtml(W.unowned)}</span></header>
    <p class="caller">${escapeHtml(call.caller_number || W.withheld)}</p>
    <p class="small ring-times">${[[W.rang, call.ringing_at, "rang"], [W.answeredAgo, call.answered_at, "answered"], ...(ended ? [[W.endedAgo, call.ended_at, "ended"]] : [])]
      .map(([words, since, what]) => `<span class="${what}">${interpolate(escapeHtml(words), { clock: `<b class="call-clock" data-since="${since}">${clock(since)}</b>` }, true)}</span>`).join(" · ")}</p>
    <button class="primary take" type="button" data-take="${call.id}">${keyed ? "<kbd>T</kbd> " : ""}${escapeHtml(W.takeOver)}</button>
    <p class="error" role="alert"></p></article>`;
}

function linkLine(call) {
  if (!call.link || (call.location && call.link.state === "sent")) return ""; // the answer came
  const text = { queued: W.linkQueued, sent: W.linkSent, failed: W.linkFailed }[call.link.state];
  return `<p class="link-state ${call.link.state}">${escapeHtml(text)}</p>`;
}

function sourceName(location) {
  return SOURCE[location.source === "sms_link" ? "sms_link" : "aml"] || location.source;
}

function positionLine(call) {
  const p = call.location;
  if (!p) return "";
  const source = sourceName(p);
  const adopt = call.adopted
    ? `<p class="ok">${escapeHtml(W.adopted)}</p>`
    : `<button class="primary adopt" type="button" data-adopt="${call.id}">${escapeHtml(W.adopt)}</button>`;
  return `<div class="position"><b>${escapeHtml(W.position)}</b> <span class="coords">${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}</span>
    <span class="accuracy">${escapeHtml(W.accuracy)} ±${Math.round(p.accuracy_m || 0)} m</span> <span class="muted">${escapeHtml(source)}</span>${adopt}</div>`;
}

function activeCard(call) {
  const ended = call.status === "ended";
  return `<article class="call-card active${ended ? " ended" : ""}" id="call-${call.id}" data-call="${call.id}">
    <header><span class="call-icon" aria-hidden="true">☎</span><span class="label">${escapeHtml(ended ? W.ended : W.onCall)}</span>
      <span class="call-clock" data-since="${call.answered_at}">${ended ? "" : clock(call.answered_at)}</span>
      <button class="link-button close" type="button" data-close="${call.id}" title="${escapeHtml(W.close)}">×</button></header>
    <p class="caller">${escapeHtml(call.caller_number || W.withheld)}</p>
    ${call.incident ? `<p>${escapeHtml(W.incident)} <a href="#" data-open="${call.incident}">${escapeHtml(call.incident_number)}</a></p>` : ""}
    ${call.caller_number ? `<button class="secondary send-link" type="button" data-link="${call.id}" ${call.link && call.link.state !== "failed" ? "disabled" : ""}>✉ ${escapeHtml(W.sendLink)}</button>` : ""}
    ${linkLine(call)}${positionLine(call)}
    ${call.caller_number && !ended ? `<form class="sms" data-sms="${call.id}"><input name="body" maxlength="480" placeholder="${escapeHtml(W.smsPlaceholder)}" aria-label="${escapeHtml(W.smsPlaceholder)}"><button class="secondary" type="submit">${escapeHtml(W.smsSend)}</button></form>` : ""}
    ${call.smsSent ? `<p class="link-state sms-state">${escapeHtml(W.smsQueued)}</p>` : ""}
    ${call.recording_url ? `<p><a href="${escapeHtml(call.recording_url)}" target="_blank" rel="noopener">${escapeHtml(W.recording)}</a></p>` : ""}
    <p class="error" role="alert"></p></article>`;
}

function render() {
  const cards = [];
  for (const call of calls.values()) if (mine(call) && (call.status === "answered" || (call.status === "ended" && !call.dismissed))) cards.push(activeCard(call));
  const waiting = ringing();
  if (isFree()) cards.push(...waiting.map(ringingCard));
  else if (waiting.length) cards.push(`<p class="waiting"><b>${waiting.length}</b> ${escapeHtml(W.waiting)}</p>`);
  // T takes a ringing call first; with none ringing, it takes over the oldest of these.
  if (isFree()) cards.push(...takeovers().map((call, i) => unownedCard(call, !waiting.length && i === 0)));
  // Events re-render the cards: keep what the dispatcher is typing, and the focus.
  const typed = new Map([...root.querySelectorAll("form.sms")].map((f) => [f.dataset.sms, f.elements.body.value]));
  const focused = document.activeElement?.closest?.("form.sms")?.dataset.sms;
  root.innerHTML = cards.join("");
  for (const form of root.querySelectorAll("form.sms")) {
    form.elements.body.value = typed.get(form.dataset.sms) || "";
    if (form.dataset.sms === focused) form.elements.body.focus();
  }
  root.hidden = !cards.length;
}

function tick() {
  for (const el of root.querySelectorAll(".call-clock[data-since]")) if (el.textContent) el.textContent = clock(el.dataset.since);
  // A call that can no longer be taken over leaves the panel.
  const shown = [...root.querySelectorAll(".call-card.unowned")].map((card) => Number(card.dataset.call));
  if (shown.some((id) => !unowned(calls.get(id) || {}))) render();
}

let lastRing = 0;
function ringIfWaiting() {
  // Supervisors see every ringing call but are only called on by the escalated ones.
  const due = supervisor ? ringing().filter((c) => c.escalated_at) : ringing();
  if (!isFree() || !due.length || Date.now() - lastRing < RING_REPEAT_MS - 100) return;
  lastRing = Date.now();
  chime(supervisor ? "alert" : "call");
}

// ---------------------------------------------------------------- actions

function showCardError(id, error) {
  const el = root.querySelector(`#call-${id} .error`);
  if (el) el.textContent = error.code === "invalid" ? gettext("The server refused what was typed as not valid: check it and try again.") : error.message || String(error);
}

async function take(id) {
  const button = root.querySelector(`[data-take="${id}"]`);
  if (button) { button.disabled = true; button.textContent = W.taking; }
  try {
    const call = upsert(await post(`/api/calls/${id}/take`));
    render();
    document.dispatchEvent(new CustomEvent("call:taken", { detail: { call: call.id, incident: call.incident } }));
  } catch (error) {
    render();
    showCardError(id, error);
  }
}

async function sendLink(id) {
  const call = calls.get(id);
  try {
    await post(`/api/calls/${id}/location-link`);
    call.link = call.link || { state: "queued" };
    render();
  } catch (error) { showCardError(id, error); }
}

async function adopt(id) {
  const call = calls.get(id);
  try {
    await post(`/api/caller-locations/${call.location.id}/adopt`, { incident: call.incident });
    call.adopted = true;
    render();
  } catch (error) { showCardError(id, error); }
}

async function sendSms(id, form) {
  const call = calls.get(id);
  const body = form.elements.body.value.trim();
  if (!body) return;
  try {
    await post("/api/sms", { to: call.caller_number, body, incident: call.incident });
    call.smsSent = true;
    form.elements.body.value = "";
    render();
  } catch (error) { showCardError(id, error); }
}

root.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-sms]");
  if (!form) return;
  event.preventDefault();
  sendSms(Number(form.dataset.sms), form);
});

root.addEventListener("click", (event) => {
  const t = event.target.closest("button, a");
  if (!t) return;
  if (t.dataset.take) take(Number(t.dataset.take));
  else if (t.dataset.link) sendLink(Number(t.dataset.link));
  else if (t.dataset.adopt) adopt(Number(t.dataset.adopt));
  else if (t.dataset.close) { calls.get(Number(t.dataset.close)).dismissed = true; render(); }
  else if (t.dataset.open) { event.preventDefault(); document.getElementById(`incident-${t.dataset.open}`)?.click(); }
});

document.addEventListener("keydown", (event) => {
  if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey || (event.key !== "t" && event.key !== "T")) return;
  if (event.defaultPrevented || document.querySelector("dialog[open]")) return; // a dialog has the keyboard
  const first = isFree() && (ringing()[0] || takeovers()[0]);
  if (first) { event.preventDefault(); take(first.id); }
});

// ---------------------------------------------------------------- events

function callOfOutbox(outboxId) {
  return [...calls.values()].find((c) => c.link && c.link.outbox === outboxId);
}

export function handleCallEvent(event, leafletMap) {
  try {
    applyEvent(event, leafletMap);
  } catch (error) {
    console.error("calls panel", error); // never break the console's own event handling
  }
}

function applyEvent(event, leafletMap) {
  if (leafletMap && !map) map = leafletMap;
  const d = event.data;
  switch (event.kind) {
    case KIND.CALL_RINGING:
    case KIND.CALL_ANSWERED:
    case KIND.CALL_ENDED:
    case KIND.CALL_RECORDING:
      upsert(d);
      break;
    case KIND.CALL_ESCALATED:
      upsert(d);
      if (supervisor) { lastRing = 0; chime("alert"); }
      break;
    case KIND.CALL_LOCATION_LINK: {
      const call = calls.get(d.call);
      if (call) call.link = { state: "queued", outbox: d.outbox };
      break;
    }
    case KIND.OUTBOX_SENT:
    case KIND.OUTBOX_FAILED: {
      const call = callOfOutbox(d.outbox);
      if (!call) return;
      call.link.state = event.kind === KIND.OUTBOX_SENT ? "sent" : "failed";
      break;
    }
    case KIND.CALLER_LOCATION: {
      const call = calls.get(d.call);
      if (!call) return;
      showPosition(call, d);
      break;
    }
    default:
      return;
  }
  render();
  if (event.kind === KIND.CALL_RINGING) ringIfWaiting();
}

async function start() {
  try {
    for (const call of await getJSON("/api/calls/live")) upsert(call);
  } catch { /* events will fill the panel */ }
  render();
  ringIfWaiting();
  setInterval(() => { tick(); ringIfWaiting(); }, 1000);
  root.dataset.ready = "1";
}

start();
