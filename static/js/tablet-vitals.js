// Vital signs on the tablet: read the form (checked against the server's own ranges, so a typo
// is caught offline too), and show the readings latest first with a small trend.
"use strict";
import { escapeHtml, gettext, interpolate, pgettext } from "./shared.js";

const FIELDS = ["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "temperature_c", "gcs", "glucose_mmol"];
const WHOLE = new Set(["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs"]);

const NAME = {
  heart_rate: gettext("HR"), systolic_bp: gettext("Systolic"), diastolic_bp: gettext("Diastolic"),
  spo2: "SpO₂", respiratory_rate: gettext("RR"), temperature_c: gettext("Temp"), gcs: "GCS", glucose_mmol: gettext("Glucose"),
};

export function vitalsFromForm(form, ranges) {
  const readings = {};
  const problems = [];
  for (const name of FIELDS) {
    const field = form.elements[name];
    if (!field) continue; // a form with some of the readings (a casualty's notice, tablet-major.js)
    const raw = field.value.trim();
    if (raw === "") continue;
    const value = Number(raw);
    const [low, high, unit] = ranges[name];
    if (!Number.isFinite(value) || (WHOLE.has(name) && !Number.isInteger(value))) problems.push(interpolate(gettext("%(name)s: a whole number, please"), { name: NAME[name] }, true));
    else if (value < low || value > high) problems.push(interpolate(gettext("%(name)s %(value)s is outside %(low)s–%(high)s %(unit)s"), { name: NAME[name], value, low, high, unit }, true));
    else readings[name] = value;
  }
  if (("systolic_bp" in readings) !== ("diastolic_bp" in readings)) problems.push(gettext("Give systolic and diastolic together"));
  else if (readings.diastolic_bp >= readings.systolic_bp) problems.push(gettext("Diastolic must be below systolic"));
  if (!problems.length && !Object.keys(readings).length) problems.push(gettext("Enter at least one reading"));
  return { readings, problem: problems.join(pgettext("list separator", "; ")) };
}

function arrow(now, before) {
  if (now == null || before == null || now === before) return "";
  return now > before ? '<i class="up">↑</i>' : '<i class="down">↓</i>';
}

function spark(values) {
  const w = 120, h = 32;
  const low = Math.min(...values), high = Math.max(...values), span = high - low || 1;
  const step = w / Math.max(1, values.length - 1);
  const points = values.map((v, n) => `${(n * step).toFixed(1)},${(h - 3 - ((v - low) / span) * (h - 6)).toFixed(1)}`).join(" ");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-hidden="true"><polyline points="${points}" fill="none" stroke="currentColor" stroke-width="2.5"/></svg>`;
}

// `server` oldest first (as the API gives them); `waiting` the queued vitals operations.
export function renderVitals(list, trend, server, waiting, { hhmm }) {
  const rows = [
    ...server.map((v) => ({ ...v, waiting: false })),
    ...waiting.map((op) => ({ ...op.data, taken_at: op.data.taken_at || op.client_time, waiting: true })),
  ].sort((a, b) => Date.parse(a.taken_at) - Date.parse(b.taken_at));
  const chips = (v, before) => {
    const out = [];
    if (v.heart_rate != null) out.push([NAME.heart_rate, v.heart_rate, arrow(v.heart_rate, before?.heart_rate)]);
    if (v.systolic_bp != null) out.push([gettext("BP"), `${v.systolic_bp}/${v.diastolic_bp}`, arrow(v.systolic_bp, before?.systolic_bp)]);
    for (const name of ["spo2", "respiratory_rate", "temperature_c", "gcs", "glucose_mmol"]) {
      if (v[name] != null) out.push([NAME[name], v[name], arrow(v[name], before?.[name])]);
    }
    return out.map(([k, value, a]) => `<span class="vital"><small>${k}</small> <b>${escapeHtml(value)}</b>${a}</span>`).join("");
  };
  const lines = rows.map((v, n) => `<li class="${v.waiting ? "waiting" : ""}"><time>${hhmm(v.taken_at)}</time>${chips(v, rows[n - 1])}` +
    (v.waiting ? `<span class="waiting">${gettext("waiting to send")}</span>` : "") + "</li>");
  list.innerHTML = lines.reverse().join("") || `<li class="muted">${gettext("No vital signs recorded yet")}</li>`;
  const series = ["heart_rate", "systolic_bp", "spo2"].map((name) => [name, rows.map((v) => v[name]).filter((x) => x != null)])
    .filter(([, values]) => values.length >= 2);
  trend.innerHTML = series.map(([name, values]) =>
    `<span class="spark s-${name}"><small>${name === "systolic_bp" ? gettext("Systolic") : NAME[name]}</small>${spark(values)}<b>${values.at(-1)}</b></span>`).join("");
}
