// A major incident on the ER board (its own panel, #er-major): the patients of every active
// major incident allocated to this hospital, by START tag, where they are, the ambulance's ETA,
// each one's pre-arrival notice from the crew carrying it (injuries, the latest vital signs with
// the abnormal ones marked, how old the notice is, whether it was updated), and one tap to
// acknowledge each. Hospital staff only (the API refuses anyone else, and the panel stays hidden).
// It reads GET /api/hospital/major once at start, when the board's socket hears of one of this
// hospital's casualties (the "er:casualty" event from er-board.js, also sent on a resync) and
// when the page wakes: no timer reads it. A newly allocated patient or a new or changed notice
// chimes (unless the board's sound is off).
"use strict";
import {
  $, SEX, ageText, centreTime, escapeHtml, gettext, getJSON, interpolate, oneReadAtATime, postJSON, redraw,
} from "./shared.js";
import { chime } from "./sound.js";

const TAGS = ["red", "yellow", "green", "black"];
const TAG_SHORT = { red: gettext("Red tag"), yellow: gettext("Yellow tag"), green: gettext("Green tag"), black: gettext("Black tag") };
const WHERE = { at_scene: gettext("At the scene"), transporting: gettext("In an ambulance"), at_hospital: gettext("At hospital") };
const CHIPS = {
  head: gettext("Head injury"), chest: gettext("Chest injury"), abdomen: gettext("Abdominal injury"),
  fracture: gettext("Fracture"), burn: gettext("Burn"), bleeding: gettext("Bleeding"),
};
const VITALS = [
  ["heart_rate", gettext("HR"), "/min"], ["bp", gettext("BP"), "mmHg"], ["spo2", "SpO₂", "%"],
  ["respiratory_rate", gettext("RR"), "/min"], ["gcs", "GCS", ""],
];
const RENDER_MS = 30000; // the notices' ages and the ETAs count on; nothing is read
const box = $("er-major");
const config = JSON.parse($("er-config")?.textContent || "{}");
const hhmm = centreTime(config.time_zone);
const state = { majors: [], seen: null, refused: false };

const readOnce = oneReadAtATime(async () => {
  try {
    const majors = await getJSON("/api/hospital/major");
    announce(majors);
    state.majors = majors;
    render();
  } catch (error) {
    if (error.status === 403) state.refused = true; // the control room's view of a board: not theirs
  }
});

function read() {
  if (!state.refused && box) readOnce();
}

// A patient not seen before, or a notice new or changed since, chimes once (not on the first read).
function announce(majors) {
  const keys = new Set(majors.flatMap((m) => m.casualties.flatMap((c) => [`c${c.id}`, ...(c.notice ? [`n${c.id}:${c.notice.version}`] : [])])));
  const fresh = state.seen && [...keys].some((k) => !state.seen.has(k));
  state.seen = new Set([...(state.seen || []), ...keys]);
  if (fresh && localStorage.getItem("er-sound") !== "off") chime("notice", 0.35);
}

function minutesAgo(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  return minutes < 1 ? gettext("just now") : interpolate(gettext("%(n)s min ago"), { n: minutes }, true);
}

function eta(c) {
  if (c.where !== "transporting") return "";
  if (!c.arrives_at) return `<span class="erm-eta muted">${escapeHtml(gettext("ETA unknown"))}</span>`;
  const minutes = Math.max(0, Math.round((Date.parse(c.arrives_at) - Date.now()) / 60000));
  return `<span class="erm-eta">${escapeHtml(interpolate(gettext("ETA %(n)s min (%(time)s)"), { n: minutes, time: hhmm(c.arrives_at) }, true))}</span>`;
}

function vitals(n) {
  const v = n.vitals;
  const cells = VITALS.map(([name, label, unit]) => {
    const value = name === "bp" ? (v.systolic_bp != null ? `${v.systolic_bp}/${v.diastolic_bp}` : null) : v[name];
    if (value == null) return "";
    const off = name === "bp" ? n.abnormal.includes("systolic_bp") || n.abnormal.includes("diastolic_bp") : n.abnormal.includes(name);
    return `<span class="erm-vital${off ? " abnormal" : ""}"${off ? ` title="${escapeHtml(gettext("outside the normal range"))}"` : ""}>
      <small>${escapeHtml(label)}</small> <b>${escapeHtml(String(value))}</b>${unit ? `<small>${escapeHtml(unit)}</small>` : ""}${off ? " !" : ""}</span>`;
  }).join("");
  return cells ? `<div class="erm-vitals">${cells}</div>` : "";
}

function notice(c) {
  const n = c.notice;
  const who = [c.sex ? SEX[c.sex] : "", c.age_estimate != null ? ageText(c.age_estimate) : ""].filter(Boolean).join(" · ");
  if (!n) {
    return `<div class="erm-notice none">${who ? `<span class="erm-who">${escapeHtml(who)}</span> ` : ""}<span class="muted">${escapeHtml(gettext("No pre-arrival notice yet"))}</span></div>`;
  }
  const chips = n.chips.map((code) => `<span class="erm-injury">${escapeHtml(CHIPS[code] || code)}</span>`).join("");
  const age = n.version > 1
    ? interpolate(gettext("updated %(ago)s, %(n)s versions"), { ago: minutesAgo(n.sent_at), n: n.version }, true)
    : interpolate(gettext("sent %(ago)s"), { ago: minutesAgo(n.sent_at) }, true);
  const recent = Date.now() - Date.parse(n.sent_at) < 5 * 60000;
  return `<div class="erm-notice${n.version > 1 && recent ? " changed" : ""}">
    <div class="erm-line">${who ? `<span class="erm-who">${escapeHtml(who)}</span>` : ""}${chips}
      ${n.injuries ? `<span class="erm-text">${escapeHtml(n.injuries)}</span>` : ""}</div>
    ${vitals(n)}
    <p class="erm-age">${n.version > 1 && recent ? `<b class="erm-updated">${escapeHtml(gettext("Updated"))}</b> ` : ""}${escapeHtml(age)} · ${escapeHtml(n.unit)} · ${escapeHtml(hhmm(n.sent_at))}</p>
  </div>`;
}

function render() {
  const majors = state.majors;
  box.hidden = majors.length === 0;
  redraw(box, majors.map((m) => {
    const rows = [...m.casualties].sort((a, b) => TAGS.indexOf(a.tag) - TAGS.indexOf(b.tag) || a.id - b.id);
    const counts = TAGS.filter((t) => m.counts[t]).map((t) => `<span class="mp-count tag-${t}">${escapeHtml(TAG_SHORT[t])} ${m.counts[t]}</span>`).join("");
    return `<article class="er-major-card" data-major="${m.id}">
      <h2>${escapeHtml(gettext("Major incident"))} ${escapeHtml(m.incident_number)} · ${escapeHtml(m.incident_type || "")}</h2>
      <p class="mp-counts">${escapeHtml(interpolate(gettext("%(n)s patients allocated here"), { n: rows.length }, true))} ${counts}</p>
      <ul class="mp-list erm-list">${rows.map((c) => `<li data-casualty="${c.id}">
        <div class="erm-head">
          <span class="mp-chip tag-${c.tag}">${escapeHtml(c.tag_number)}</span>
          <span>${escapeHtml(WHERE[c.where] || c.where)}${c.unit ? ` · ${escapeHtml(c.unit)}` : ""}</span>
          ${eta(c)}
          ${c.acknowledged_at
            ? `<span class="acked">✓ ${escapeHtml(gettext("acknowledged"))}</span>`
            : `<button type="button" class="primary" data-ack="${c.id}">${escapeHtml(gettext("Acknowledge"))}</button>`}
        </div>
        ${notice(c)}
      </li>`).join("")}</ul></article>`;
  }).join(""));
}

if (box) {
  box.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-ack]");
    if (!button) return;
    button.disabled = true;
    try {
      await postJSON(`/api/major/casualties/${button.dataset.ack}/acknowledge`);
    } catch (error) {
      button.disabled = false;
      button.title = error.message;
    }
    read();
  });
  document.addEventListener("er:casualty", read);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) read(); });
  setInterval(() => { if (state.majors.length) render(); }, RENDER_MS);
  read();
}
