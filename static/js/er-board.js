// The ER board (急诊预到院看板): patients bound for this hospital, soonest first, with the minutes
// left until arrival and the arrival time, the dispatcher's triage in words, vital signs and their
// trend, the crew's notes, the unit's phone and a message line with the crew; a new notice or
// crew message chimes, and a notice stays highlighted until someone acknowledges it. A notice
// withdrawn from here stays struck through until acknowledged; patients handed over stay for
// handed_over_minutes with their printable care record. ER status and beds on the side.
// Everything arrives through the event socket (live.js); the board re-reads its rows on each
// relevant event and every 15 s anyway, since ambulance positions are not events.
"use strict";
import { LiveSocket, showConnectionState } from "./live.js";
import {
  $, KIND, LANG, PRIORITY, SEX, ageText, centreTime, escapeHtml, getJSON, gettext, interpolate, ngettext, pgettext,
  oneReadAtATime, postJSON as post, redraw,
} from "./shared.js";
import { chime } from "./sound.js";

const root = $("er");
const config = JSON.parse($("er-config").textContent);

// The control room's hospital picker shows the board of the hospital picked.
$("er-pick")?.addEventListener("change", (event) => event.target.form.submit());

const VITAL = {
  heart_rate: gettext("HR"), systolic_bp: gettext("SBP"), diastolic_bp: gettext("DBP"), spo2: "SpO₂",
  respiratory_rate: gettext("RR"), temperature_c: gettext("Temp"), gcs: "GCS", glucose_mmol: gettext("Glucose"),
};
const TREND = { up: "↑", down: "↓", steady: "→" };
// What changes a card or the side panel: any kind of these families, and a unit's status (tapped or undone).
const RELEVANT_FAMILIES = /^(notice|vitals|patient|handover|assignment|hospital)\./;
const relevant = (kind) => RELEVANT_FAMILIES.test(kind) || kind === KIND.UNIT_STATUS || kind === KIND.UNIT_STATUS_CORRECTED;
// Names side by side ("CT、PCI") and notes one after another ("aspirin 300 mg；...").
const NAMES_SEPARATOR = pgettext("list separator", ", ");
const NOTES_SEPARATOR = pgettext("list separator", "; ");
const REFRESH_MS = 15000;
const REMIND_MS = 30000;

const en = LANG === "en";
const hhmm = centreTime(config.time_zone);
const clockTime = centreTime(config.time_zone, { seconds: true });
const at = (iso) => (iso ? hhmm(iso) : "");

const state = {
  board: null, seen: new Set(), seenMessages: new Set(),
  sound: localStorage.getItem("er-sound") !== "off",
};

const load = oneReadAtATime(async () => {
  try {
    const board = await getJSON(`/api/er/board?hospital=${config.hospital}`);
    announceNew(board);
    state.board = board;
    $("er-error").hidden = true;
    render();
  } catch (error) {
    $("er-error").textContent = interpolate(gettext("The board could not update: %(error)s (retrying)"), { error: error.message }, true);
    $("er-error").hidden = false;
  }
});

// A notice not seen before, and not yet acknowledged, chimes once; so does a crew message not
// seen before (not on the first load: those were there before the page opened, and notices
// stay highlighted anyway).
function announceNew(board) {
  const first = state.board === null;
  let fresh = false, message = false;
  for (const n of board.notices) {
    const key = `${n.id}:${n.sent_at}`;
    if (!state.seen.has(key)) { state.seen.add(key); if (!first && !n.acknowledged) fresh = true; }
  }
  for (const n of [...board.notices, ...board.handed_over]) {
    for (const m of n.messages) {
      if (state.seenMessages.has(m.id)) continue;
      state.seenMessages.add(m.id);
      if (!first && m.direction === "to_er") message = true;
    }
  }
  if (fresh) ring();
  if (message && state.sound) chime("message", 0.35);
}

function ring() {
  if (state.sound) chime("notice", 0.35);
}

// ---------------------------------------------------------------- the list

// Minutes left, in words ("约 21 分钟后到达" / "ETA 21 min") with the clock time it means, so
// nobody reads a countdown as a time of day.
function countdown(n) {
  if (n.arrived_at) {
    return `<span class="er-eta arrived">${gettext("Arrived")} ${at(n.arrived_at)}</span>
      <span class="er-eta-sub">${gettext("waiting for handover")} <b data-since="${n.arrived_at}"></b></span>`;
  }
  const e = n.eta;
  if (e.seconds == null) {
    const why = { no_position: gettext("no position"), no_network: gettext("no road network"), no_road: gettext("no road") }[e.reason] || "";
    return `<span class="er-eta unknown">${gettext("ETA unknown")}</span><span class="er-eta-sub">${why}</span>`;
  }
  const stale = e.stale ? `<span class="er-eta-sub warn">${gettext("stale position")}</span>` : "";
  const moving = e.transporting ? "" : `<span class="er-eta-sub">${gettext("not transporting yet")}</span>`;
  return `<span class="er-eta" data-until="${e.arrives_at}"></span>
    <span class="er-eta-sub er-eta-clock">${escapeHtml(interpolate(gettext("arrives at %(time)s"), { time: at(e.arrives_at) }, true))}</span>${stale}${moving}`;
}

// Blood pressure reads as one value (systolic/diastolic); the rest one cell each.
function vitalCells(latest) {
  const by = Object.fromEntries(latest.map((v) => [v.name, v]));
  const cells = [];
  for (const v of latest) {
    if (v.name === "diastolic_bp") continue;
    if (v.name === "systolic_bp" && by.diastolic_bp) {
      const d = by.diastolic_bp;
      cells.push({ label: gettext("BP"), value: `${v.value}/${d.value}`, unit: v.unit, trend: v.trend, previous: v.previous != null ? `${v.previous}/${d.previous ?? ""}` : "" });
    } else {
      cells.push({ label: VITAL[v.name] || v.name, value: String(v.value), unit: v.unit, trend: v.trend, previous: v.previous ?? "" });
    }
  }
  return cells;
}

function vitalsHtml(n) {
  if (!n.latest.length) return `<p class="muted">${gettext("No vital signs yet")}</p>`;
  const cells = vitalCells(n.latest).map((c) => {
    const arrow = c.trend ? `<span class="trend ${c.trend}" title="${gettext("before")} ${escapeHtml(String(c.previous))}">${TREND[c.trend]}</span>` : "";
    return `<div class="vital"><span class="vital-name">${c.label}</span>
      <span class="vital-value">${escapeHtml(c.value)}<small>${escapeHtml(c.unit)}</small>${arrow}</span></div>`;
  });
  const when = n.latest.reduce((a, v) => (v.taken_at > a ? v.taken_at : a), "");
  const sets = n.vitals.length;
  const count = interpolate(ngettext("%(sets)s set", "%(sets)s sets", sets), { sets }, true);
  return `<div class="vitals">${cells.join("")}</div><p class="muted small">${gettext("taken")} ${at(when)} · ${count}</p>`;
}

function notesHtml(p) {
  const drugs = (p.drugs || []).map((d) => `${escapeHtml(d.name)} ${escapeHtml(d.dose || "")} ${escapeHtml(d.route || "")}`).join(NOTES_SEPARATOR);
  const parts = [
    p.findings && `<p><b>${gettext("Findings")}</b> ${escapeHtml(p.findings)}</p>`,
    p.interventions && `<p><b>${gettext("Treatment")}</b> ${escapeHtml(p.interventions)}</p>`,
    drugs && `<p><b>${gettext("Drugs")}</b> ${drugs}</p>`,
  ].filter(Boolean);
  return parts.length ? `<div class="notes">${parts.join("")}</div>` : "";
}

const tel = (phone) => `tel:${escapeHtml(String(phone).replace(/[^0-9+*#,;]/g, ""))}`;

// The ambulance's own phone first (the ER calls the vehicle), then the crew's; the caller's only
// for the control room (a hospital's view never carries the caller).
function phoneHtml(n) {
  const u = n.unit;
  const call = u.phone
    ? `<a class="er-call" href="${tel(u.phone)}" data-unit-phone><span class="er-call-label">${escapeHtml(interpolate(gettext("Call %(unit)s"), { unit: u.call_sign }, true))}</span><b>${escapeHtml(u.phone)}</b></a>`
    : `<p class="er-no-phone muted">${escapeHtml(interpolate(gettext("No phone on file for %(unit)s"), { unit: u.call_sign }, true))}</p>`;
  const crew = u.crew.filter((c) => c.phone).map((c) =>
    `<a class="er-crew-phone" href="${tel(c.phone)}">${escapeHtml(c.name)} ${escapeHtml(c.phone)}</a>`).join("");
  const caller = n.caller && n.caller.number
    ? `<a class="er-caller" href="${tel(n.caller.number)}">${gettext("Caller")} ${escapeHtml(n.caller.name || "")} ${escapeHtml(n.caller.number)}</a>` : "";
  return `<div class="er-phones">${call}${crew}${caller}</div>`;
}

// The dispatcher's triage as questions and answers in words, in the page's language.
function triageHtml(t) {
  if (!t || !t.path.length) return "";
  const name = (en && t.protocol_name_en) || t.protocol_name || "";
  const steps = t.path.map((s) => `<li>${escapeHtml((en && s.question_en) || s.question)} <b>${escapeHtml((en && s.answer_en) || s.answer)}</b></li>`);
  return `<details class="er-triage" open><summary>${gettext("Triage")} · ${escapeHtml(name)}</summary><ol>${steps.join("")}</ol></details>`;
}

function dispatcherNotesHtml(n) {
  return n.dispatcher_notes ? `<p class="er-dispatcher-notes"><b>${gettext("Dispatcher notes")}</b> ${escapeHtml(n.dispatcher_notes)}</p>` : "";
}

// The crew <-> ER line of one patient: what the crew wrote, the ER's answers, and a reply box
// (staff only: the control room reads it).
function messagesHtml(n, { reply = true } = {}) {
  const lines = n.messages.map((m) => `<li class="er-msg ${m.direction === "to_er" ? "from-crew" : "from-er"}" data-message="${m.id}">
      <time>${at(m.sent_at)}</time> <span class="er-msg-who">${escapeHtml(m.sender)}</span> <span class="er-msg-text">${escapeHtml(m.text)}</span></li>`);
  const box = reply && config.may_reply
    ? `<form class="er-reply" data-reply="${n.id}" autocomplete="off">
        <input name="text" maxlength="500" placeholder="${escapeHtml(interpolate(gettext("Reply to %(unit)s…"), { unit: n.unit.call_sign }, true))}" aria-label="${escapeHtml(gettext("Reply to the crew"))}">
        <button type="submit">${gettext("Send")}</button></form>` : "";
  if (!lines.length && !box) return "";
  return `<div class="er-line"><ol class="er-msgs">${lines.join("")}</ol>${box}<p class="error small" data-reply-error="${n.id}"></p></div>`;
}

function ackHtml(n) {
  if (!n.acknowledged) {
    return `<button class="primary er-ack" data-ack="${n.id}" type="button">${gettext("Acknowledge")}</button>`;
  }
  const a = n.acknowledged;
  const who = a.by_phone ? interpolate(gettext("%(name)s (by phone)"), { name: a.by }, true) : a.by;
  const updated = n.updated_since_ack ? ` <span class="tag updated">${gettext("updated since")}</span>` : "";
  return `<span class="er-acked">✓ ${gettext("Acknowledged")} ${escapeHtml(who)} ${at(a.at)}</span>${updated}`;
}

function actionsHtml(n) {
  if (!n.arrived_at) return `<button class="er-step" data-arrived="${n.id}" type="button">${gettext("Arrived")}</button>`;
  return `<button class="er-step" data-handover="${n.id}" type="button">${gettext("Handover complete")}</button>`;
}

function patientLine(n) {
  const p = n.patient;
  const who = [p.name, SEX[p.sex], p.age != null ? ageText(p.age) : ""].filter(Boolean).join(" · ");
  return who || gettext("patient details to follow");
}

function card(n) {
  const pr = n.incident.priority;
  const cls = ["er-card", n.acknowledged ? "acked" : "unacked", n.alerted_at && !n.acknowledged ? "alerted" : "", pr ? `p${pr}` : ""].join(" ");
  return `<li class="${cls}" id="notice-${n.id}" data-notice="${n.id}">
    <div class="er-when">${countdown(n)}</div>
    <div class="er-main">
      <div class="er-title">
        <span class="priority p${pr || 0}">${PRIORITY[pr] || gettext("not graded")}</span>
        <span class="complaint">${escapeHtml(n.incident.chief_complaint || gettext("complaint to follow"))}</span>
        <span class="who">${escapeHtml(patientLine(n))}</span>
      </div>
      ${vitalsHtml(n)}
      ${notesHtml(n.patient)}
      ${triageHtml(n.triage)}
      ${dispatcherNotesHtml(n)}
      <p class="er-unit"><b>${escapeHtml(n.unit.call_sign)}</b> · ${escapeHtml(config.status[n.unit.status] || n.unit.status_label)}
        <span class="muted">· ${escapeHtml(n.incident.number)} · ${gettext("notice")} ${at(n.sent_at)}${n.revision > 1 ? ` · ${gettext("updated")} ${at(n.updated_at)}` : ""}</span></p>
      ${messagesHtml(n)}
    </div>
    <div class="er-actions">${ackHtml(n)}${actionsHtml(n)}${phoneHtml(n)}<p class="error small" data-error="${n.id}"></p></div>
  </li>`;
}

// Withdrawn from here: the minimum, struck through, until someone acknowledges it.
function withdrawnCard(w) {
  const to = w.redirected_to ? ((en && w.redirected_to.name_en) || w.redirected_to.name) : "";
  const why = w.reason === "redirected"
    ? interpolate(gettext("Withdrawn · now going to %(hospital)s"), { hospital: to }, true)
    : w.reason === "stood_down" ? gettext("Withdrawn · ambulance stood down")
    : gettext("Withdrawn · patient not transported");
  const pr = w.priority;
  return `<li class="er-card withdrawn" id="withdrawn-${w.id}" data-withdrawn="${w.id}">
    <div class="er-when"><span class="er-withdrawn-tag">${gettext("Not coming")}</span>
      <span class="er-eta-sub">${w.withdrawn_at ? `${gettext("withdrawn")} ${at(w.withdrawn_at)}` : ""}</span></div>
    <div class="er-main">
      <p class="er-withdrawn-why">${escapeHtml(why)}</p>
      <div class="er-title struck">
        <span class="priority p${pr || 0}">${PRIORITY[pr] || gettext("not graded")}</span>
        <span class="complaint">${escapeHtml(w.chief_complaint || gettext("complaint to follow"))}</span>
        <span class="who"><b>${escapeHtml(w.call_sign)}</b> · ${escapeHtml(w.incident_number)}</span>
      </div>
    </div>
    <div class="er-actions"><button class="primary er-ack-withdrawal" data-withdrawal="${w.id}" type="button">${gettext("Acknowledge withdrawal")}</button>
      <p class="error small" data-error="w${w.id}"></p></div>
  </li>`;
}

// Handed over: a line each, with the care record to print or keep as a PDF.
function handedOverRow(n) {
  const when = n.departed_at ? at(n.departed_at) : "";
  return `<li class="er-done" id="handed-${n.id}" data-handed="${n.id}">
    <span class="er-done-time">${escapeHtml(when)}</span>
    <span class="priority p${n.incident.priority || 0}">${PRIORITY[n.incident.priority] || gettext("not graded")}</span>
    <span class="complaint">${escapeHtml(n.incident.chief_complaint || "")}</span>
    <span class="who">${escapeHtml(patientLine(n))}</span>
    <span class="muted">${escapeHtml(n.unit.call_sign)} · ${escapeHtml(n.incident.number)}</span>
    <span class="er-done-links"><a href="/er/records/${n.id}/" target="_blank" rel="noopener" data-record>${gettext("Care record")}</a>
      <a href="/er/records/${n.id}.pdf" target="_blank" rel="noopener" data-record-pdf>PDF</a></span>
    ${n.messages.length ? messagesHtml(n, { reply: false }) : ""}
  </li>`;
}

function render() {
  const { notices, hospital, withdrawn, handed_over: handed } = state.board;
  $("er-count").textContent = notices.length;
  const unacked = notices.filter((n) => !n.acknowledged).length;
  $("er-unacked").hidden = unacked === 0;
  $("er-unacked").textContent = interpolate(
    ngettext("%(count)s new notice to acknowledge", "%(count)s new notices to acknowledge", unacked), { count: unacked }, true,
  );
  keepDrafts(() => {
    redraw($("er-list"), withdrawn.map(withdrawnCard).join("") + (notices.length
      ? notices.map(card).join("")
      : `<li class="er-empty"><p class="big">${gettext("No patients on the way")}</p>
         <p class="muted">${gettext("When a crew sends a pre-arrival notice it appears here, with a sound.")}</p></li>`));
    $("er-done-section").hidden = handed.length === 0;
    redraw($("er-done-list"), handed.map(handedOverRow).join(""));
  });
  renderStatus(hospital);
  tick();
}

// A reply being typed survives the board re-drawing itself (every event, every 15 s).
function keepDrafts(draw) {
  const drafts = {};
  for (const form of document.querySelectorAll("form[data-reply]")) drafts[form.dataset.reply] = form.elements.text.value;
  const focused = document.activeElement?.closest?.("form[data-reply]")?.dataset.reply;
  draw();
  for (const [id, text] of Object.entries(drafts)) {
    const form = document.querySelector(`form[data-reply="${id}"]`);
    if (form) form.elements.text.value = text;
  }
  if (focused) document.querySelector(`form[data-reply="${focused}"] input`)?.focus();
}

// ---------------------------------------------------------------- clocks

// "约 21 分钟后到达": whole minutes, never below one; under half a minute, "arriving now".
function minutesLeft(seconds) {
  const minutes = Math.max(1, Math.round(seconds / 60));
  const [before, after] = gettext("ETA %(min)s min").split("%(min)s");
  return `${escapeHtml(before)}<b class="er-eta-min">${minutes}</b>${escapeHtml(after ?? "")}`;
}

function tick() {
  $("clock").textContent = clockTime(new Date());
  for (const el of document.querySelectorAll("[data-until]")) {
    const left = (Date.parse(el.dataset.until) - Date.now()) / 1000;
    el.innerHTML = left > 30 ? minutesLeft(left) : escapeHtml(gettext("arriving now"));
    el.classList.toggle("soon", left <= 180);
  }
  for (const el of document.querySelectorAll("[data-since]")) {
    const s = (Date.now() - Date.parse(el.dataset.since)) / 1000;
    const minutes = Math.floor(s / 60);
    el.textContent = interpolate(gettext("%(min)s min"), { min: minutes }, true);
    el.classList.toggle("late", s > 15 * 60); // past the first handover target (65% within 15 min, settings.REPORT_TARGETS)
  }
}

// ---------------------------------------------------------------- status and beds

function renderStatus(h) {
  const open = h.diverting.length === 0;
  const names = h.diverting.map((c) => config.diversion[c] || c).join(NAMES_SEPARATOR);
  $("er-status-line").innerHTML = open
    ? `<span class="state open">${gettext("Open")}</span>`
    : `<span class="state diverting">${gettext("Diverting")}: ${escapeHtml(names)}</span>${h.diversion_reason ? ` <span class="muted">(${escapeHtml(h.diversion_reason)})</span>` : ""}`;
  const form = $("er-status-form");
  if (!form.contains(document.activeElement)) {
    $("er-divert-boxes").innerHTML = Object.entries(config.diversion).map(([value, label]) =>
      `<label class="check"><input type="checkbox" name="diverting" value="${value}"${h.diverting.includes(value) ? " checked" : ""}> ${escapeHtml(label)}</label>`).join("");
    $("er-divert-reason").value = h.diversion_reason || "";
  }
  const beds = $("er-beds-form");
  if (!beds.contains(document.activeElement)) {
    beds.innerHTML = h.beds.map((b) => `<label class="bed"><span>${escapeHtml(config.beds[b.category] || b.label)}</span>
      <input type="number" min="0" max="10000" step="1" name="${b.category}" value="${b.available ?? ""}" placeholder="—" inputmode="numeric">
      <button type="submit" value="${b.category}">${gettext("Save")}</button>
      <small class="muted">${b.updated_at ? at(b.updated_at) : gettext("not reported")}</small></label>`).join("");
  }
  $("er-changes").innerHTML = h.changes.length ? h.changes.map(changeLine).join("") : `<li class="muted">${gettext("No changes yet")}</li>`;
}

function changeLine(c) {
  const d = c.data || {};
  const what = c.kind === KIND.HOSPITAL_BEDS
    ? `${config.beds[d.category] || d.category}: ${d.from ?? "—"} → ${d.to}`
    : (d.to && d.to.length ? `${gettext("divert")} ${d.to.map((x) => config.diversion[x] || x).join(NAMES_SEPARATOR)}` : gettext("open"));
  return `<li><time>${at(c.at)}</time> ${escapeHtml(what)} <span class="muted">${escapeHtml(c.by || "")}</span></li>`;
}

$("er-status-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const diverting = [...document.querySelectorAll("#er-divert-boxes input:checked")].map((i) => i.value);
  $("er-status-error").textContent = "";
  try {
    await post("/api/er/status", { hospital: config.hospital, diverting, reason: $("er-divert-reason").value });
    document.activeElement.blur();
    await load();
  } catch (error) { $("er-status-error").textContent = error.message; }
});

$("er-beds-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const category = event.submitter?.value;
  const input = $("er-beds-form").querySelector(`input[name="${category}"]`);
  $("er-beds-error").textContent = "";
  try {
    if (input.value === "") throw new Error(gettext("Enter the number of beds"));
    await post("/api/er/beds", { hospital: config.hospital, category, available: Number(input.value) });
    document.activeElement.blur();
    await load();
  } catch (error) { $("er-beds-error").textContent = error.message; }
});

// ---------------------------------------------------------------- acknowledge, arrival, handover

$("er-list").addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.withdrawal) {
    const id = button.dataset.withdrawal;
    button.disabled = true;
    try {
      await post(`/api/er/notices/${id}/withdrawal/acknowledge`, { hospital: config.hospital });
      await load();
    } catch (error) {
      const box = document.querySelector(`[data-error="w${id}"]`);
      if (box) box.textContent = error.message;
      button.disabled = false;
    }
    return;
  }
  const [kind, id] = button.dataset.ack ? ["acknowledge", button.dataset.ack]
    : button.dataset.arrived ? ["arrived", button.dataset.arrived]
    : button.dataset.handover ? ["handover", button.dataset.handover] : [null, null];
  if (!kind) return;
  button.disabled = true;
  try {
    await post(`/api/er/notices/${id}/${kind}`);
    await load();
  } catch (error) {
    const box = document.querySelector(`[data-error="${id}"]`);
    if (box) box.textContent = error.message;
    button.disabled = false;
  }
});

// ---------------------------------------------------------------- the message line

$("er-list").addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-reply]");
  if (!form) return;
  event.preventDefault();
  const id = form.dataset.reply;
  const text = form.elements.text.value.trim();
  const box = document.querySelector(`[data-reply-error="${id}"]`);
  if (!text) return;
  form.querySelector("button").disabled = true;
  try {
    await post(`/api/er/notices/${id}/messages`, { text });
    form.elements.text.value = "";
    if (box) box.textContent = "";
    await load();
  } catch (error) {
    if (box) box.textContent = error.message; // the text stays in the box to send again
  } finally {
    form.querySelector("button").disabled = false;
  }
});

// ---------------------------------------------------------------- sound

function showSound() {
  const b = $("sound-button");
  b.setAttribute("aria-pressed", String(state.sound));
  b.classList.toggle("off", !state.sound);
  b.querySelector("span").textContent = state.sound ? gettext("Sound on") : gettext("Sound off");
}

$("sound-button").addEventListener("click", () => {
  state.sound = !state.sound;
  localStorage.setItem("er-sound", state.sound ? "on" : "off");
  showSound();
  if (state.sound) chime("notice", 0.2); // a tap also unlocks audio in browsers that need one
});

// ---------------------------------------------------------------- start

async function start() {
  showSound();
  await load();
  new LiveSocket({
    after: state.board ? state.board.last_seq : 0,
    onState: showConnectionState($("conn")),
    onEvent: (event) => {
      if (relevant(event.kind)) load();
      // A major incident's patient allocated here, re-tagged or on the way: its own panel (er-major.js).
      if (event.kind.startsWith("casualty.")) document.dispatchEvent(new CustomEvent("er:casualty"));
    },
    onResync: () => { load(); document.dispatchEvent(new CustomEvent("er:casualty")); },
  });
  setInterval(tick, 1000);
  setInterval(load, REFRESH_MS); // positions are state, not events: re-read the ETAs
  setInterval(() => { if (state.board?.notices.some((n) => !n.acknowledged)) ring(); }, REMIND_MS);
  root.dataset.ready = "1";
}

start();
