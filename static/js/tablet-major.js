// A major incident on the crew tablet (its own panel, #major-panel, in the job card): when the
// crew's job belongs to one, the four START tags as big buttons register a casualty with one tap
// (tag first, details later), the counts by tag and the casualties at the scene show, and the
// crew marks which ones it loads into its ambulance. For each casualty in this ambulance a quick
// pre-arrival notice to its destination (sex and age, injuries with one-tap chips, vital signs
// checked as the single-patient vitals form checks them, tablet-vitals.js); sent again, it updates.
// It reads GET /api/major/mine when the tablet's socket says something changed for this unit
// (the "tablet:event" event from tablet.js: this unit's job, and every event of the major incident
// it is on), once at start and when the tablet wakes: no timer. A registration or a notice keeps
// its client id until the server has it, so a retry after a dropped connection adds nothing; a
// registration that got no answer is sent again after a few seconds.
"use strict";
import { $, SEX, answer, centreTime, csrfToken, escapeHtml, gettext, interpolate, oneReadAtATime } from "./shared.js";
import { newKey } from "./tablet-queue.js";
import { vitalsFromForm } from "./tablet-vitals.js";

const TAGS = ["red", "yellow", "green", "black"];
const TAG_SHORT = { red: gettext("Red tag"), yellow: gettext("Yellow tag"), green: gettext("Green tag"), black: gettext("Black tag") };
// The one-tap injuries (dispatch.models.InjuryChip); the free text says the rest.
export const CHIPS = {
  head: gettext("Head injury"), chest: gettext("Chest injury"), abdomen: gettext("Abdominal injury"),
  fracture: gettext("Fracture"), burn: gettext("Burn"), bleeding: gettext("Bleeding"),
};
const NOTICE_VITALS = ["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs"];
// The events that may change this panel: the unit's job and the major incident's own.
const RELEVANT = /^(assignment|unit|shift|major|casualty)\./;
const box = $("major-panel");
const config = JSON.parse($("tablet-config")?.textContent || "{}");
const hhmm = centreTime(config.time_zone);
const state = {
  mine: null, waiting: [], loading: new Set(), error: "",
  open: null, // the casualty whose notice form is open
  notices: new Map(), // casualty id -> the notice waiting to be sent (its client id kept)
  drafts: new Map(), // casualty id -> what a refused notice said, to correct it
};
let top, aboardBox, aboardShown = "";

async function call(method, url, body) {
  return answer(await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  }));
}

// The map draws the same answer (major-map.js followCrewMajor): one read for both.
function announce() {
  document.dispatchEvent(new CustomEvent("tablet:major", { detail: state.mine }));
}

const read = oneReadAtATime(async () => {
  try {
    state.mine = await call("GET", "/api/major/mine");
    announce();
  } catch { /* offline: the tablet says so; the panel keeps what it last had */ }
  render();
});

// Tap a tag: queued with its own id at once (shown as waiting), sent, and sent again until the
// server has it.
async function register(tag) {
  if (!state.mine?.major) return;
  state.waiting.push({ tag, client_id: `tablet-${newKey()}` });
  render();
  await sendWaiting();
}

// What the crew queued (registrations, notices) is sent one send at a time, in order; asked for
// during a send, one more send follows it. (Each tap sending every waiting one itself made the
// requests grow with the square of quick taps: on a slow line they timed out, and what was left
// waited for the next tap.) `sendAll` sends what waits and says false when a send got no answer
// (no network, a timeout, a 5xx): the rest is sent again RETRY_MS later, with no tap needed.
const RETRY_MS = 5000;
// No answer (no network, a timeout, a 5xx): kept and sent again. A 4xx is the server's refusal.
const noAnswer = (error) => !(error.status && error.status < 500);

function queueSender(sendAll) {
  let retryTimer = null;
  const send = oneReadAtATime(async () => {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (!(await sendAll())) retryTimer = setTimeout(send, RETRY_MS);
    await read();
  });
  return send;
}

const sendWaiting = queueSender(async () => {
  const majorId = state.mine?.major?.id;
  if (!majorId) return true;
  for (const item of [...state.waiting]) {
    try {
      await call("POST", `/api/major/${majorId}/casualties`, item);
      state.waiting = state.waiting.filter((w) => w !== item);
      state.error = "";
    } catch (error) {
      if (noAnswer(error)) {
        state.error = gettext("No network: the casualty is kept and sent when there is signal.");
        return false;
      }
      state.waiting = state.waiting.filter((w) => w !== item); // refused for good: say why, drop it
      state.error = error.message;
    }
  }
  return true;
});

async function load() {
  const major = state.mine?.major;
  if (!major || !state.loading.size) return;
  try {
    await call("POST", `/api/major/${major.id}/transport`, {
      assignment: state.mine.assignment, casualties: [...state.loading],
    });
    state.loading.clear();
    state.error = "";
  } catch (error) {
    state.error = error.message;
  }
  await read();
}

// ---------------------------------------------------------------- pre-arrival notices

// The form's answer as the API takes it, or the problem in words (nothing sent then).
function noticeFromForm(form) {
  const body = { sex: form.elements.sex.value, injuries: form.elements.injuries.value.trim() };
  body.chips = [...form.querySelectorAll("[data-chip][aria-pressed='true']")].map((b) => b.dataset.chip);
  const age = form.elements.age_estimate.value.trim();
  if (age !== "") {
    const n = Number(age);
    if (!Number.isInteger(n) || n < 0 || n > 120) return { problem: gettext("Age must be from 0 to 120.") };
    body.age_estimate = n;
  }
  if (NOTICE_VITALS.some((name) => form.elements[name].value.trim() !== "")) {
    const { readings, problem } = vitalsFromForm(form, config.vital_ranges);
    if (problem) return { problem };
    Object.assign(body, readings);
  }
  if (!body.injuries && !body.chips.length && !body.sex && body.age_estimate == null && !NOTICE_VITALS.some((n) => n in body)) {
    return { problem: gettext("Give the injuries, a vital sign, sex or age.") };
  }
  return { body };
}

async function sendNotice(form, id) {
  const { body, problem } = noticeFromForm(form);
  if (problem) { form.querySelector(".error").textContent = problem; return; }
  state.notices.set(id, { ...body, client_id: `notice-${newKey()}` });
  state.drafts.delete(id);
  state.open = null;
  render();
  await flushNotices();
}

const flushNotices = queueSender(async () => {
  for (const [id, body] of [...state.notices]) {
    try {
      await call("POST", `/api/major/casualties/${id}/notice`, body);
      state.notices.delete(id);
      state.error = "";
    } catch (error) {
      if (noAnswer(error)) {
        state.error = gettext("No network: the notice is kept and sent when there is signal.");
        return false;
      }
      state.notices.delete(id); // refused: the form again, with what was typed and why
      state.drafts.set(id, { ...body, problem: error.message });
      state.open = id;
    }
  }
  return true;
});

function noticeState(c) {
  if (state.notices.has(c.id)) return `<span class="mp-waiting">${escapeHtml(gettext("Notice waiting to be sent"))}</span>`;
  const n = c.notice;
  if (!n) return `<span class="muted">${escapeHtml(gettext("No notice sent yet"))}</span>`;
  const text = n.version > 1
    ? interpolate(gettext("Notice updated %(time)s (sent %(n)s times)"), { time: hhmm(n.sent_at), n: n.version }, true)
    : interpolate(gettext("Notice sent %(time)s"), { time: hhmm(n.sent_at) }, true);
  return `<span class="mp-sent">✓ ${escapeHtml(text)}</span>`;
}

function noticeForm(c) {
  const draft = state.drafts.get(c.id);
  const was = draft || { ...(c.notice?.vitals || {}), injuries: c.notice?.injuries || "", chips: c.notice?.chips || [], sex: c.sex, age_estimate: c.age_estimate };
  const value = (name) => (was[name] ?? "") === "" ? "" : escapeHtml(String(was[name]));
  const number = (name, label, unit) => `<label>${escapeHtml(label)} <small>${escapeHtml(unit)}</small><input name="${name}" type="number" inputmode="numeric" value="${value(name)}"></label>`;
  const sex = [["M", SEX.M], ["F", SEX.F], ["", gettext("unknown")]].map(([v, label]) =>
    `<label class="mp-radio"><input type="radio" name="sex" value="${v}"${(was.sex || "") === v ? " checked" : ""}>${escapeHtml(label)}</label>`).join("");
  const chips = Object.entries(CHIPS).map(([code, label]) =>
    `<button type="button" class="mp-injury" data-chip="${code}" aria-pressed="${was.chips.includes(code)}">${escapeHtml(label)}</button>`).join("");
  return `<form class="mp-notice-form" data-notice-form="${c.id}" autocomplete="off">
    <div class="mp-who"><span class="mp-field-name">${escapeHtml(gettext("Sex"))}</span>${sex}
      <label class="mp-age">${escapeHtml(gettext("Age (approx.)"))}<input name="age_estimate" type="number" inputmode="numeric" min="0" max="120" value="${value("age_estimate")}"></label></div>
    <div class="mp-injuries" role="group" aria-label="${escapeHtml(gettext("Main injuries"))}">${chips}</div>
    <label class="mp-text">${escapeHtml(gettext("Main injuries"))}<textarea name="injuries" maxlength="500" rows="2">${value("injuries")}</textarea></label>
    <div class="vitals-form mp-vitals">
      ${number("heart_rate", gettext("Heart rate"), "/min")}
      <label class="bp">${escapeHtml(gettext("Blood pressure"))} <small>mmHg</small><span class="bp-pair"><input name="systolic_bp" type="number" inputmode="numeric" aria-label="${escapeHtml(gettext("Systolic"))}" value="${value("systolic_bp")}"><span>/</span><input name="diastolic_bp" type="number" inputmode="numeric" aria-label="${escapeHtml(gettext("Diastolic"))}" value="${value("diastolic_bp")}"></span></label>
      ${number("spo2", "SpO₂", "%")}
      ${number("respiratory_rate", gettext("Respiratory rate"), "/min")}
      ${number("gcs", "GCS", "3–15")}
    </div>
    <div class="mp-form-actions">
      <button type="submit" class="t-button primary">${escapeHtml(interpolate(gettext("Send to %(hospital)s"), { hospital: c.hospital_name }, true))}</button>
      <button type="button" class="t-button quiet" data-close-notice>${escapeHtml(gettext("Cancel"))}</button>
    </div>
    <p class="error" role="alert">${escapeHtml(draft?.problem || "")}</p>
  </form>`;
}

function renderAboard() {
  const rows = state.mine?.aboard || [];
  // Re-drawn only when what it shows changed, so a form being filled in keeps its typing and focus.
  const shown = JSON.stringify([rows.map((c) => [c.id, c.tag, c.hospital_name, c.notice?.version, c.notice?.sent_at]),
    state.open, [...state.notices.keys()], [...state.drafts.keys()]]);
  if (shown === aboardShown) return;
  aboardShown = shown;
  aboardBox.hidden = !rows.length;
  aboardBox.innerHTML = rows.length ? `<h3 class="mp-subtitle">${escapeHtml(gettext("In this ambulance: pre-arrival notices"))}</h3>
    <ul class="mp-aboard">${rows.map((c) => `<li data-aboard="${c.id}">
      <div class="mp-aboard-row">
        <span class="mp-chip tag-${c.tag}">${escapeHtml(c.tag_number)}</span>
        <span class="mp-dest">→ ${escapeHtml(c.hospital_name || gettext("no hospital yet"))}</span>
        <span class="mp-notice-state">${noticeState(c)}</span>
        ${c.hospital && state.open !== c.id ? `<button type="button" class="t-button small" data-open-notice="${c.id}">${escapeHtml(c.notice ? gettext("Update notice") : gettext("Pre-arrival notice"))}</button>` : ""}
      </div>
      ${state.open === c.id ? noticeForm(c) : ""}</li>`).join("")}</ul>` : "";
}

function render() {
  const major = state.mine?.major;
  box.hidden = !major;
  if (!major) return;
  const counts = TAGS.map((t) => `<span class="mp-count tag-${t}">${escapeHtml(TAG_SHORT[t])} ${major.counts[t]?.total ?? 0}</span>`).join("");
  const atScene = major.casualties.filter((c) => c.where === "at_scene" && c.tag !== "black")
    .sort((a, b) => TAGS.indexOf(a.tag) - TAGS.indexOf(b.tag) || a.id - b.id);
  const rows = atScene.map((c) => `<li><label>
      <input type="checkbox" data-casualty="${c.id}"${state.loading.has(c.id) ? " checked" : ""}>
      <span class="mp-chip tag-${c.tag}">${escapeHtml(c.tag_number)}</span>
      <span>${escapeHtml(c.hospital_name || gettext("no hospital yet"))}</span></label></li>`).join("");
  top.innerHTML = `
    <p class="mp-title"><b>${escapeHtml(gettext("Major incident"))}</b> ${escapeHtml(major.incident_number)}
      ${major.command_unit ? `<small class="muted">${escapeHtml(interpolate(gettext("in command: %(unit)s"), { unit: major.command_unit }, true))}</small>` : ""}</p>
    <div class="mp-counts">${counts}</div>
    <div class="mp-tags">${TAGS.map((t) => `<button type="button" class="mp-tag tag-${t}" data-tag="${t}">${escapeHtml(TAG_SHORT[t])}</button>`).join("")}</div>
    ${state.waiting.length ? `<p class="mp-waiting">${escapeHtml(interpolate(gettext("%(n)s waiting to be sent"), { n: state.waiting.length }, true))}</p>` : ""}
    ${atScene.length ? `<ul class="mp-list">${rows}</ul>
      <button type="button" class="t-button primary" id="mp-load"${state.loading.size ? "" : " disabled"}>${escapeHtml(interpolate(gettext("Loaded into this ambulance (%(n)s)"), { n: state.loading.size }, true))}</button>` : ""}
    <p class="error" role="alert">${escapeHtml(state.error)}</p>`;
  renderAboard();
}

if (box) {
  top = document.createElement("div");
  aboardBox = document.createElement("div");
  aboardBox.className = "mp-aboard-box";
  box.append(top, aboardBox);
  box.addEventListener("click", (event) => {
    const tag = event.target.closest("[data-tag]");
    if (tag) register(tag.dataset.tag);
    if (event.target.id === "mp-load") load();
    const chip = event.target.closest("[data-chip]");
    if (chip) chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
    const open = event.target.closest("[data-open-notice]");
    if (open) { state.open = Number(open.dataset.openNotice); renderAboard(); aboardBox.querySelector("textarea")?.focus(); }
    if (event.target.closest("[data-close-notice]")) { state.drafts.delete(state.open); state.open = null; renderAboard(); }
  });
  box.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-notice-form]");
    if (!form) return;
    event.preventDefault();
    sendNotice(form, Number(form.dataset.noticeForm));
  });
  box.addEventListener("change", (event) => {
    const id = Number(event.target.dataset.casualty);
    if (!id) return;
    if (event.target.checked) state.loading.add(id); else state.loading.delete(id);
    render();
  });
  document.addEventListener("tablet:major-wanted", () => { if (state.mine) announce(); else read(); });
  document.addEventListener("tablet:event", (event) => {
    if (event.detail === null || RELEVANT.test(event.detail.kind)) read();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) read(); });
  window.addEventListener("online", () => {
    if (state.waiting.length) sendWaiting();
    if (state.notices.size) flushNotices(); else read();
  });
  read();
}
