// Vital signs on the tablet: read the form (checked against the server's own ranges, so a typo
// is caught offline too), and show the readings latest first with a small trend.
"use strict";

const FIELDS = ["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "temperature_c", "gcs", "glucose_mmol"];
const WHOLE = new Set(["heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate", "gcs"]);

function names(T) {
  return {
    heart_rate: T("心率", "HR"), systolic_bp: T("收缩压", "Systolic"), diastolic_bp: T("舒张压", "Diastolic"),
    spo2: "SpO₂", respiratory_rate: T("呼吸", "RR"), temperature_c: T("体温", "Temp"), gcs: "GCS", glucose_mmol: T("血糖", "Glucose"),
  };
}

export function vitalsFromForm(form, ranges, T) {
  const label = names(T);
  const readings = {};
  const problems = [];
  for (const name of FIELDS) {
    const raw = form.elements[name].value.trim();
    if (raw === "") continue;
    const value = Number(raw);
    const [low, high, unit] = ranges[name];
    if (!Number.isFinite(value) || (WHOLE.has(name) && !Number.isInteger(value))) problems.push(`${label[name]}: ${T("请输入整数", "a whole number, please")}`);
    else if (value < low || value > high) problems.push(`${label[name]} ${value} ${T("超出范围", "is outside")} ${low}–${high} ${unit}`);
    else readings[name] = value;
  }
  if (("systolic_bp" in readings) !== ("diastolic_bp" in readings)) problems.push(T("收缩压和舒张压需一起填写", "Give systolic and diastolic together"));
  else if (readings.diastolic_bp >= readings.systolic_bp) problems.push(T("舒张压须低于收缩压", "Diastolic must be below systolic"));
  if (!problems.length && !Object.keys(readings).length) problems.push(T("请至少填写一项", "Enter at least one reading"));
  return { readings, problem: problems.join(T("；", "; ")) };
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
export function renderVitals(list, trend, server, waiting, { T, hhmm, escapeHtml }) {
  const label = names(T);
  const rows = [
    ...server.map((v) => ({ ...v, waiting: false })),
    ...waiting.map((op) => ({ ...op.data, taken_at: op.data.taken_at || op.client_time, waiting: true })),
  ].sort((a, b) => Date.parse(a.taken_at) - Date.parse(b.taken_at));
  const chips = (v, before) => {
    const out = [];
    if (v.heart_rate != null) out.push([label.heart_rate, v.heart_rate, arrow(v.heart_rate, before?.heart_rate)]);
    if (v.systolic_bp != null) out.push([T("血压", "BP"), `${v.systolic_bp}/${v.diastolic_bp}`, arrow(v.systolic_bp, before?.systolic_bp)]);
    for (const name of ["spo2", "respiratory_rate", "temperature_c", "gcs", "glucose_mmol"]) {
      if (v[name] != null) out.push([label[name], v[name], arrow(v[name], before?.[name])]);
    }
    return out.map(([k, value, a]) => `<span class="vital"><small>${k}</small> <b>${escapeHtml(value)}</b>${a}</span>`).join("");
  };
  const lines = rows.map((v, n) => `<li class="${v.waiting ? "waiting" : ""}"><time>${hhmm(v.taken_at)}</time>${chips(v, rows[n - 1])}` +
    (v.waiting ? `<span class="waiting">${T("待发送", "waiting to send")}</span>` : "") + "</li>");
  list.innerHTML = lines.reverse().join("") || `<li class="muted">${T("尚无生命体征记录", "No vital signs recorded yet")}</li>`;
  const series = ["heart_rate", "systolic_bp", "spo2"].map((name) => [name, rows.map((v) => v[name]).filter((x) => x != null)])
    .filter(([, values]) => values.length >= 2);
  trend.innerHTML = series.map(([name, values]) =>
    `<span class="spark s-${name}"><small>${name === "systolic_bp" ? T("收缩压", "Systolic") : label[name]}</small>${spark(values)}<b>${values.at(-1)}</b></span>`).join("");
}
