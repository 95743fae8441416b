// The response-time report page: the summary table, hand-drawn SVG charts of the chosen
// interval (no chart library, no internet), and a drill-down from any figure to its incidents
// and from an incident to its timeline. Every figure comes from /api/reports/..., computed
// by the server over the incidents themselves.
"use strict";
import { $, centreTime, escapeHtml, eventLabel, getJSON, interpolate } from "./shared.js";

const root = $("reports");
const config = JSON.parse($("reports-config").textContent);
const L = config.labels;
const SVG_NS = "http://www.w3.org/2000/svg";
const INTERVALS = new Map(config.intervals.map((iv) => [iv.key, iv]));
const dayAndTime = centreTime(config.time_zone, { day: true, seconds: true });

// The filter the page was opened with (the form submits by GET and the page reloads).
const form = $("report-filter");
const filter = new URLSearchParams();
for (const [name, value] of new FormData(form)) if (value) filter.set(name, value);

const state = { interval: "response", drill: null, offset: 0 };

// ---------------------------------------------------------------- helpers

function query(extra = {}) {
  const params = new URLSearchParams(filter);
  for (const [name, value] of Object.entries(extra)) {
    if (value === null || value === undefined || value === "") params.delete(name);
    else params.set(name, value);
  }
  return params.toString();
}

// A report figure under the page's filter, with `extra` parameters of its own.
function report(path, extra) {
  return getJSON(`${path}?${query(extra)}`);
}

// Seconds as a supervisor reads them: "8.4 s" below two minutes, "12:05 min" above.
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 120) return `${seconds.toFixed(1)} ${L.seconds}`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")} ${L.minutes}`;
}

// Seconds as the console writes them (an ETA, a wait): m:ss.
function minutesSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  const whole = Math.round(Number(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// A share (0.0123) as a percentage: two places under 1%, so a quiet unit is not "0.0%".
function percent(share) {
  if (share === null || share === undefined) return "–";
  return `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 1)}%`;
}

const shortDuration = (s) => (s < 120 ? `${Math.round(s)}${L.seconds}` : `${Math.round(s / 60)}${L.minutes}`);

function svg(width, height, label) {
  const el = document.createElementNS(SVG_NS, "svg");
  el.setAttribute("viewBox", `0 0 ${width} ${height}`);
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", label);
  return el;
}

function add(parent, tag, attrs = {}, text = "") {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  parent.appendChild(el);
  return el;
}

function tip(el, text) {
  add(el, "title", {}, text);
  return el;
}

function clickable(el, action) {
  el.classList.add("hit");
  el.setAttribute("tabindex", "0");
  el.addEventListener("click", action);
  el.addEventListener("keydown", (e) => { if (e.key === "Enter") action(); });
  return el;
}

function empty(box, text = L.none) {
  box.innerHTML = `<p class="muted">${escapeHtml(text)}</p>`;
}

// ---------------------------------------------------------------- summary

// A share as a percentage to one place, rounded down: 17,999 of 20,000 reads 89.9%, never a
// 90.0% beside the red badge of a missed 90% goal. Met or missed is the server's verdict (t.met),
// judged on the counts; nothing here judges a goal from a rounded number.
function share(within, count) {
  return `${(Math.floor((1000 * within) / count) / 10).toFixed(1)}%`;
}

// Unmeasured incidents (or abandoned and unmeasurable calls) are in the denominator, outside
// every target: the count stands beside the percentage.
function unmeasured(row) {
  return row.unmeasured && row.targets?.length
    ? ` <span class="unmeasured">${escapeHtml(interpolate(L.unmeasured, { n: row.unmeasured }, true))}</span>` : "";
}

function compliance(row) {
  return row.targets.map((t, n) => {
    const cls = t.pct === null ? "" : t.met ? "met" : "missed";
    const text = t.pct === null ? "–" : share(t.within, t.of);
    return `<button type="button" class="badge ${cls}" data-over="${row.key}" data-target="${n}" title="${escapeHtml(L.goal)} ${t.goal_pct}%">${text} ≤ ${shortDuration(t.within_s)} <small>(${escapeHtml(L.goal)} ${t.goal_pct}%)</small></button>`;
  }).join(" ") + unmeasured(row);
}

function renderCalls(calls) {
  const set = (id, value) => { $(id).textContent = value; };
  set("calls-offered", calls.offered);
  set("calls-answered", calls.answered);
  set("calls-abandoned", calls.abandoned);
  set("calls-unmeasurable", calls.unmeasurable);
  set("calls-wait-median", minutesSeconds(calls.abandoned_wait_median_s));
  set("calls-wait-p90", minutesSeconds(calls.abandoned_wait_p90_s));
  set("calls-wait-max", minutesSeconds(calls.abandoned_wait_max_s));
  // Abandoned calls called back (dispatch/calls/callbacks.py): how many, the share rounded down, how fast.
  set("calls-called-back", calls.abandoned ? share(calls.called_back, calls.abandoned) : "–");
  set("calls-called-back-n", calls.abandoned ? `(${calls.called_back}/${calls.abandoned})` : "");
  set("calls-back-median", minutesSeconds(calls.call_back_median_s));
  set("calls-back-p90", minutesSeconds(calls.call_back_p90_s));
  $("calls-filters-ignored").hidden = !calls.incident_filters_ignored;
}

function renderSummary(body) {
  $("stat-incidents").textContent = body.incidents;
  $("stat-problems").textContent = body.with_problems;
  renderCalls(body.calls);
  const rows = body.intervals.map((row) => `
    <tr data-key="${row.key}" class="${row.key === state.interval ? "selected" : ""}">
      <th scope="row">${escapeHtml(row.label)}<span class="note">${escapeHtml(row.note)}</span></th>
      <td class="num"><button type="button" class="link-button drill-count" data-key="${row.key}">${row.count}</button></td>
      <td class="num">${row.impossible ? `<button type="button" class="link-button drill-problems">${row.impossible}</button>` : 0}</td>
      <td class="num">${duration(row.mean_s)}</td>
      <td class="num">${duration(row.median_s)}</td>
      <td class="num strong">${duration(row.p90_s)}</td>
      <td>${compliance(row)}</td>
    </tr>`);
  $("summary").tBodies[0].innerHTML = rows.join("");
}

$("summary").addEventListener("click", (event) => {
  const count = event.target.closest(".drill-count");
  const over = event.target.closest("[data-over]");
  const problems = event.target.closest(".drill-problems");
  const row = event.target.closest("tr[data-key]");
  if (count) return drill({ interval: count.dataset.key }, `${INTERVALS.get(count.dataset.key).label}: ${L.count}`);
  if (over) return drill({ interval: over.dataset.over, over_target: "true" }, `${INTERVALS.get(over.dataset.over).label}: ${L.over_target}`);
  if (problems) return drillProblems();
  if (row) selectInterval(row.dataset.key);
});

// ---------------------------------------------------------------- charts

const W = 560;
const H = 240;
const M = { left: 48, right: 12, top: 14, bottom: 34 };

function distributionChart(body) {
  const box = $("chart-distribution");
  const total = body.bins.reduce((sum, b) => sum + b.count, 0);
  if (!total) return empty(box);
  const el = svg(W, H, $("dist-title").textContent);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const most = Math.max(...body.bins.map((b) => b.count));
  const step = plotW / body.bins.length;
  const x = (seconds) => M.left + (seconds / body.bin_s) * step;
  body.bins.forEach((bin, n) => {
    const h = (bin.count / most) * plotH;
    const bar = add(el, "rect", { x: M.left + n * step + 1, y: M.top + plotH - h, width: Math.max(step - 2, 1), height: h, class: "bar" });
    // A bin holds the intervals over from_s up to and including to_s; the last, all over from_s.
    const range = bin.to_s === null ? `> ${shortDuration(bin.from_s)}` : `${shortDuration(bin.from_s)}–${shortDuration(bin.to_s)}`;
    tip(bar, `${range}: ${bin.count}`);
    if (bin.count) clickable(bar, () => drill({ interval: body.interval, min_s: bin.from_s, max_s: bin.to_s ?? "" }, `${INTERVALS.get(body.interval).label} ${range}`));
    if (n % 5 === 0 && n < body.bins.length - 2) add(el, "text", { x: M.left + n * step, y: H - 14, class: "axis" }, shortDuration(bin.from_s));
  });
  const last = body.bins[body.bins.length - 1];
  add(el, "text", { x: M.left + body.bins.length * step, y: H - 14, class: "axis end" }, `>${shortDuration(last.from_s)}`);
  add(el, "line", { x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH, class: "base" });
  add(el, "text", { x: 4, y: M.top + 10, class: "axis" }, String(most));
  for (const target of body.targets) {
    const tx = Math.min(x(target.within_s), W - M.right);
    add(el, "line", { x1: tx, x2: tx, y1: M.top, y2: M.top + plotH, class: "target" });
    add(el, "text", { x: tx + 3, y: M.top + 10, class: "target-label" }, `${shortDuration(target.within_s)} ${target.goal_pct}%`);
  }
  box.replaceChildren(el);
}

function lineChart(box, rows, { target, onPick, label, xLabel }) {
  const measured = rows.filter((r) => r.p90_s !== null);
  if (!measured.length) return empty(box);
  const el = svg(W, H, label);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const top = Math.max(...measured.map((r) => r.p90_s), target || 0) * 1.1;
  const x = (n) => M.left + (rows.length === 1 ? plotW / 2 : (n / (rows.length - 1)) * plotW);
  const y = (s) => M.top + plotH - (s / top) * plotH;
  for (const [key, cls] of [["p90_s", "p90"], ["median_s", "median"]]) {
    const points = rows.map((r, n) => (r[key] === null ? null : `${x(n)},${y(r[key])}`)).filter(Boolean);
    add(el, "polyline", { points: points.join(" "), class: `line ${cls}` });
  }
  rows.forEach((row, n) => {
    if (row.p90_s === null) return;
    const dot = add(el, "circle", { cx: x(n), cy: y(row.p90_s), r: 4, class: "dot", "data-bucket": row.bucket });
    tip(dot, `${xLabel(row)} · ${row.incidents} ${L.incidents} · ${L.median} ${duration(row.median_s)} · ${L.p90} ${duration(row.p90_s)}`);
    clickable(dot, () => onPick(row));
  });
  const every = Math.max(1, Math.ceil(rows.length / 8));
  rows.forEach((row, n) => { if (n % every === 0) add(el, "text", { x: x(n), y: H - 14, class: "axis mid" }, xLabel(row)); });
  if (target) {
    add(el, "line", { x1: M.left, x2: W - M.right, y1: y(target), y2: y(target), class: "target" });
    add(el, "text", { x: W - M.right, y: y(target) - 4, class: "target-label end" }, `${L.target} ${shortDuration(target)}`);
  }
  add(el, "text", { x: 4, y: M.top + 10, class: "axis" }, shortDuration(top));
  const legend = add(el, "text", { x: M.left, y: H - 2, class: "axis" });
  legend.innerHTML = `<tspan class="legend-p90">━ ${escapeHtml(L.p90)}</tspan>  <tspan class="legend-median">━ ${escapeHtml(L.median)}</tspan>`;
  box.replaceChildren(el);
}

// Incidents by district over the road map's main roads: each district's outline coloured by how
// its times compare with the interval's first target, its name, incidents and compliance drawn
// in it (server: figures.districts, PostGIS point in polygon).
const AREA_H = 360;

function areaClass(d, target) {
  if (!target || d.p90_s === null) return "none";
  return d.p90_s <= target ? "ok" : d.median_s <= target ? "warn" : "bad";
}

function areasChart(body) {
  const box = $("chart-areas");
  if (!body.districts.length) {
    const outside = body.outside.incidents ? ` (${body.outside.incidents} ${L.incidents})` : "";
    return empty(box, `${L.districts_none}${outside}`);
  }
  const [west, south, east, north] = body.district_box;
  const legendW = 150;
  const kx = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = Math.min((W - legendW - 8) / ((east - west) * kx || 1), (AREA_H - 8) / (north - south || 1));
  const left = 4 + (W - legendW - 8 - (east - west) * kx * scale) / 2;
  const top = 4 + (AREA_H - 8 - (north - south) * scale) / 2;
  const px = ([lon, lat]) => `${(left + (lon - west) * kx * scale).toFixed(1)},${(top + (north - lat) * scale).toFixed(1)}`;
  const path = (rings) => rings.map((ring) => `M${ring.map(px).join("L")}Z`).join("");
  const el = svg(W, AREA_H, L.cell);
  el.classList.add("district-map");
  const roads = add(el, "g", { class: "roads" });
  for (const r of body.roads) {
    add(roads, "path", { d: r.lines.map((line) => `M${line.map(px).join("L")}`).join(""), class: `road c${r.road_class}` });
  }
  const most = Math.max(1, ...body.districts.map((d) => d.incidents));
  for (const d of body.districts) {
    const shape = add(el, "path", {
      d: d.outline.map(path).join(""), class: `district ${areaClass(d, body.target_s)}`, "data-code": d.code,
      "fill-opacity": d.incidents ? (0.25 + 0.45 * (d.incidents / most)).toFixed(2) : "0.08",
    });
    const pct = d.target && d.target.of ? ` · ${share(d.target.within, d.target.of)} ≤ ${shortDuration(d.target.within_s)}` : "";
    tip(shape, `${d.name} · ${d.incidents} ${L.incidents} · ${L.median} ${duration(d.median_s)} · ${L.p90} ${duration(d.p90_s)}${pct}`);
  }
  for (const d of body.districts) {
    const [x, y] = px(d.label_at).split(",").map(Number);
    add(el, "text", { x, y: y - 2, class: "district-name" }, d.name);
    const pct = d.target && d.target.of ? ` · ${share(d.target.within, d.target.of)}` : "";
    add(el, "text", { x, y: y + 12, class: "district-figures", "data-code": d.code }, `${d.incidents}${pct}`);
  }
  [["ok", L.area_ok], ["warn", L.area_warn], ["bad", L.area_bad], ["none", L.no_measure]].forEach(([cls, text], n) => {
    add(el, "rect", { x: W - legendW + 6, y: 12 + n * 22, width: 14, height: 14, class: `district ${cls}` });
    add(el, "text", { x: W - legendW + 26, y: 23 + n * 22, class: "axis" }, text);
  });
  const notes = [`${L.outside}: ${body.outside.incidents}`];
  if (!body.districts.some((d) => d.incidents)) notes.unshift(L.none);
  notes.forEach((text, n) => add(el, "text", { x: W - legendW + 6, y: 120 + n * 16, class: "axis", "data-note": n }, text));
  box.replaceChildren(el);
}

function unitsChart(rows) {
  const box = $("chart-units");
  const busy = rows.filter((r) => r.jobs).slice(0, 15);
  if (!busy.length) return empty(box);
  const rowH = 20;
  const el = svg(W, busy.length * rowH + 10, L.uhu);
  const most = Math.max(...busy.map((r) => r.uhu || 0), 0.0001);
  busy.forEach((r, n) => {
    const y = 5 + n * rowH;
    add(el, "text", { x: 0, y: y + 14, class: "axis" }, r.unit);
    const bar = add(el, "rect", { x: 110, y: y + 3, width: ((r.uhu || 0) / most) * (W - 260), height: rowH - 6, class: "bar" });
    tip(bar, `${r.unit} · ${r.jobs} ${L.jobs} · ${r.busy_h} ${L.busy_h} · ${r.staffed_h} ${L.staffed_h}`);
    clickable(bar, () => drill({ unit: r.id, interval: "job_cycle" }, `${r.unit}: ${INTERVALS.get("job_cycle").label}`));
    const share_ = r.uhu === null ? L.no_shift : percent(r.uhu);
    add(el, "text", { x: W - 140, y: y + 14, class: "axis uhu", "data-unit": r.unit }, `${share_} · ${r.jobs} ${L.jobs}`);
  });
  box.replaceChildren(el);
}

function hospitalsTable(rows) {
  const box = $("hospitals");
  if (!rows.length) return empty(box);
  const body = rows.map((h) => `<tr data-hospital="${h.hospital}" class="hit" tabindex="0"><th scope="row">${escapeHtml(h.name)}</th><td class="num">${h.count}</td>
    <td class="num">${duration(h.median_s)}</td><td class="num">${duration(h.p90_s)}</td>
    <td>${(h.targets || []).map((t) => `<span class="badge ${t.met ? "met" : "missed"}">${t.pct === null ? "–" : share(t.within, t.of)} ≤ ${shortDuration(t.within_s)}</span>`).join(" ")}${unmeasured(h)}</td>
    <td class="num">${h.diversion_h}</td></tr>`).join("");
  box.innerHTML = `<table class="report-table"><thead><tr><th>${L.hospital}</th><th class="num">${L.count}</th><th class="num">${L.median}</th>
    <th class="num">${L.p90}</th><th>${L.handover}</th><th class="num">${L.diversion_h}</th></tr></thead><tbody>${body}</tbody></table>`;
  for (const tr of box.querySelectorAll("tr[data-hospital]")) {
    const name = tr.querySelector("th").textContent;
    clickable(tr, () => drill({ hospital: tr.dataset.hospital, interval: "handover" }, `${name}: ${INTERVALS.get("handover").label}`));
  }
}

// Response per priority: a badge per target, green when the figure is within it.
function prioritiesTable(rows) {
  const box = $("priorities");
  if (!rows.some((r) => r.incidents)) return empty(box);
  const badge = (name, target, met) => (target === null || target === undefined ? "" :
    `<span class="badge ${met === null ? "" : met ? "met" : "missed"}">${escapeHtml(name)} ≤ ${shortDuration(target)}</span>`);
  const body = rows.map((r) => {
    const goals = badge(L.mean, r.target_mean_s, r.mean_met) + " " + badge(L.p90, r.target_p90_s, r.p90_met);
    return `<tr data-priority="${r.priority ?? ""}"${r.priority ? ' class="hit" tabindex="0"' : ""}>
      <th scope="row">${escapeHtml(r.label || L.untriaged)}</th><td class="num">${r.incidents}</td><td class="num">${r.count}</td>
      <td class="num">${duration(r.mean_s)}</td><td class="num">${duration(r.median_s)}</td><td class="num">${duration(r.p90_s)}</td>
      <td>${goals.trim() || `<span class="muted">${escapeHtml(L.no_target)}</span>`}</td></tr>`;
  }).join("");
  box.innerHTML = `<table class="report-table"><thead><tr><th>${L.priority}</th><th class="num">${L.incidents}</th><th class="num">${L.count}</th>
    <th class="num">${L.mean}</th><th class="num">${L.median}</th><th class="num">${L.p90}</th><th>${L.target}</th></tr></thead><tbody>${body}</tbody></table>`;
  for (const tr of box.querySelectorAll("tr.hit")) {
    const name = tr.querySelector("th").textContent;
    clickable(tr, () => drill({ priority: tr.dataset.priority, interval: "response" }, `${name}: ${INTERVALS.get("response").label}`));
  }
}

// Per dispatcher and per seat (the server's /api/reports/people).
function peopleTables(body) {
  const box = $("people");
  if (!body.dispatchers.length) return empty(box);
  const figures = (p) => `<td class="num">${p.calls_answered}</td><td class="num">${p.incidents_dispatched}</td>
    <td class="num">${duration(p.processing_median_s)}</td><td class="num">${p.overrides}</td>`;
  const head = `<th class="num">${escapeHtml(L.calls_answered)}</th><th class="num">${escapeHtml(L.incidents_dispatched)}</th>
    <th class="num">${escapeHtml(L.processing)}</th><th class="num">${escapeHtml(L.overrides)}</th>`;
  const known = (p) => (p.overrides && p.override_eta_known < p.overrides
    ? ` <span class="muted small">(${escapeHtml(interpolate(L.known, { known: p.override_eta_known, n: p.overrides }, true))})</span>` : "");
  const dispatchers = body.dispatchers.map((p) => `<tr data-user="${p.user}"><th scope="row">${escapeHtml(p.name)}</th>${figures(p)}
    <td class="num">${p.overrides ? minutesSeconds(p.override_eta_median_s) : "–"}</td>
    <td class="num slower">${slower(p.override_slower_median_s)}${known(p)}</td>
    <td>${p.reasons.map((r) => `${escapeHtml(r.reason)} (${r.count})`).join("; ")}</td></tr>`).join("");
  const seats = body.seats.map((p) => `<tr data-seat="${p.seat ?? ""}"><th scope="row">${p.seat ? escapeHtml(p.name) : `<span class="muted">${escapeHtml(L.no_seat)}</span>`}</th>${figures(p)}
    <td class="num slower">${slower(p.override_slower_median_s)}</td></tr>`).join("");
  box.innerHTML = `<table class="report-table" id="people-dispatchers"><thead><tr><th>${escapeHtml(L.dispatcher)}</th>${head}
    <th class="num">${escapeHtml(L.override_eta)}</th><th class="num">${escapeHtml(L.slower)}</th><th>${escapeHtml(L.reasons)}</th></tr></thead><tbody>${dispatchers}</tbody></table>
    ${seats ? `<table class="report-table" id="people-seats"><thead><tr><th>${escapeHtml(L.seat)}</th>${head}<th class="num">${escapeHtml(L.slower)}</th></tr></thead><tbody>${seats}</tbody></table>` : ""}
    ${body.dispatchers.filter((p) => p.override_list.length).map(overridesTable).join("")}`;
}

// How much slower than the top pick, signed as people say it: "+1:05", "−0:12", "±0:00".
function slower(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return `${seconds > 0 ? "+" : seconds < 0 ? "−" : "±"}${minutesSeconds(Math.abs(seconds))}`;
}

// One dispatcher's overrides one by one: the unit chosen, both ETAs and the difference.
function overridesTable(p) {
  const rows = p.override_list.map((o) => `<tr data-assignment="${o.assignment}"><td>${escapeHtml(o.incident)}</td>
    <td>${dayAndTime(o.dispatched_at)}</td><td>${escapeHtml(o.unit)}</td><td class="num">${o.rank}</td>
    <td class="num">${minutesSeconds(o.eta_s)}</td><td class="num">${minutesSeconds(o.top_pick_eta_s)}</td>
    <td class="num slower">${slower(o.slower_s)}</td><td>${escapeHtml(o.reason)}</td></tr>`).join("");
  return `<table class="report-table overrides" id="people-overrides-${p.user}"><caption>${escapeHtml(interpolate(L.overrides_by, { name: p.name }, true))}</caption>
    <thead><tr><th>${escapeHtml(L.number)}</th><th>${escapeHtml(L.dispatched)}</th><th>${escapeHtml(L.unit)}</th><th class="num">${escapeHtml(L.rank_no)}</th>
    <th class="num">${escapeHtml(L.eta_chosen)}</th><th class="num">${escapeHtml(L.eta_top)}</th><th class="num">${escapeHtml(L.slower_one)}</th><th>${escapeHtml(L.reason)}</th></tr></thead>
    <tbody>${rows}</tbody></table>`;
}

async function selectInterval(key) {
  state.interval = key;
  for (const tr of $("summary").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.key === key);
  const iv = INTERVALS.get(key);
  const target = iv.targets.length ? iv.targets[0].within_s : null;
  $("dist-title").textContent = `${iv.label} · ${iv.note}`;
  const [dist, days, hours, areas] = await Promise.all([
    report("/api/reports/distribution", { interval: key }),
    report("/api/reports/trend", { interval: key, bucket: "day" }),
    report("/api/reports/trend", { interval: key, bucket: "hour" }),
    report("/api/reports/areas", { interval: key }),
  ]);
  distributionChart(dist);
  lineChart($("chart-days"), days, {
    target, label: L.day, xLabel: (r) => r.bucket.slice(5),
    onPick: (r) => drill({ interval: key, start: r.bucket, end: r.bucket }, `${iv.label}: ${r.bucket}`),
  });
  lineChart($("chart-hours"), hours, {
    target, label: L.hour, xLabel: (r) => `${String(r.bucket).padStart(2, "0")}h`,
    onPick: (r) => drill({ interval: key, hour: r.bucket }, `${iv.label}: ${String(r.bucket).padStart(2, "0")}:00`),
  });
  areasChart(areas);
}

// ---------------------------------------------------------------- drill-down and timeline

function drillProblems() {
  return drill({ problems: "true" }, L.problems);
}

async function drill(params, title, offset = 0) {
  state.drill = { params, title };
  const body = await report("/api/reports/incidents", { ...params, offset, limit: 100 });
  const key = params.interval;
  $("drill").hidden = false;
  $("drill-title").textContent = `${title} · ${body.total} ${L.incidents}`;
  const table = $("drill-table");
  table.tHead.innerHTML = `<tr><th>${L.number}</th><th>${L.created}</th><th>${L.priority}</th><th>${L.units}</th>
    <th>${L.hospitals}</th><th class="num">${key ? escapeHtml(INTERVALS.get(key).label) : L.value}</th><th>${L.problems}</th></tr>`;
  const rows = body.rows.map((r) => `<tr data-id="${r.id}" class="hit" tabindex="0">
    <td><a href="#timeline" data-id="${r.id}">${escapeHtml(r.number)}</a></td>
    <td>${dayAndTime(r.created_at)}</td><td>${escapeHtml(config.priorities[r.priority] || "–")}</td>
    <td>${escapeHtml(r.units)}</td><td>${escapeHtml(r.hospitals)}</td>
    <td class="num">${key ? duration(r.intervals[key]) : duration(r.intervals.response)}</td>
    <td class="problem">${r.problems.map((p) => escapeHtml(p.text)).join("<br>")}</td></tr>`).join("");
  if (offset) table.tBodies[0].insertAdjacentHTML("beforeend", rows);
  else table.tBodies[0].innerHTML = rows;
  state.offset = offset + body.rows.length;
  $("drill-more").hidden = state.offset >= body.total;
  if (!offset) $("drill").scrollIntoView({ block: "start" });
}

$("drill-more").addEventListener("click", () => drill(state.drill.params, state.drill.title, state.offset));
$("drill-close").addEventListener("click", () => { $("drill").hidden = true; });
$("timeline-close").addEventListener("click", () => { $("timeline").hidden = true; });
$("stat-problems-link").addEventListener("click", (e) => { e.preventDefault(); drillProblems(); });
$("drill-table").addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-id]");
  if (row) { event.preventDefault(); showTimeline(row.dataset.id); }
});
$("drill-table").addEventListener("keydown", (event) => {
  const row = event.target.closest("tr[data-id]");
  if (row && event.key === "Enter") showTimeline(row.dataset.id);
});

// An event's data in words, as the console's timeline says it: statuses and clocks by their
// names, an ETA as m:ss, the recommendation's rank; never a key name or a raw number.
const word = (value) => config.statuses[value] || config.clocks[value] || value;

function eventDetail(d) {
  const parts = [];
  if (d.to !== undefined && d.to !== null && d.to !== "") {
    const change = [d.from, d.to].filter((v) => v !== undefined && v !== null && v !== "");
    parts.push(change.map((v) => (Array.isArray(v) ? v.map(word).join(", ") : word(v))).join(" → "));
  }
  if (d.rank) parts.push(interpolate(L.rank, { rank: d.rank }, true));
  if (d.eta_s !== undefined && d.eta_s !== null) parts.push(`${L.eta} ${minutesSeconds(d.eta_s)}`);
  if (Array.isArray(d.clocks) && d.clocks.length) parts.push(d.clocks.map(word).join(", "));
  for (const key of ["reason", "outcome", "number"]) if (d[key]) parts.push(String(d[key]));
  return parts.join(" · ");
}

async function showTimeline(id) {
  const t = await getJSON(`/api/reports/incidents/${id}/timeline`);
  $("timeline").hidden = false;
  $("timeline-title").textContent = `${L.timeline}: ${t.number}`;
  const clocks = t.clocks.map((c) => `<li><time>${dayAndTime(c.at)}</time> ${escapeHtml(c.label)}</li>`).join("");
  const events = t.events.map((e) => `<tr data-kind="${escapeHtml(e.kind)}"><td>${dayAndTime(e.at)}</td>
      <td class="event-label">${escapeHtml(eventLabel(e.kind))}</td><td>${escapeHtml(e.actor || "–")}</td>
      <td>${escapeHtml(e.unit)}</td><td class="muted event-detail">${escapeHtml(eventDetail(e.data))}</td></tr>`).join("");
  const problems = t.problems.length ? `<p class="warning">${t.problems.map((p) => escapeHtml(p.text)).join("<br>")}</p>` : "";
  $("timeline-body").innerHTML = `${problems}<div class="timeline-grid"><div><h3>${L.clocks}</h3><ol class="clocks">${clocks}</ol></div>
    <div><h3>${L.events}</h3><table class="report-table events"><tbody>${events}</tbody></table></div></div>`;
  $("timeline").scrollIntoView({ block: "start" });
}

// ---------------------------------------------------------------- start

function exportLinks() {
  for (const id of ["export-csv", "export-csv-incidents", "export-xlsx"]) {
    const link = $(id);
    link.href = `${link.dataset.path}?${query({ table: link.dataset.table || "" })}`;
  }
}

async function start() {
  exportLinks();
  try {
    const [summary, units, hospitals, priorities, people] = await Promise.all([
      report("/api/reports/summary"),
      report("/api/reports/units"),
      report("/api/reports/hospitals"),
      report("/api/reports/priorities"),
      report("/api/reports/people"),
    ]);
    renderSummary(summary);
    peopleTables(people);
    unitsChart(units);
    hospitalsTable(hospitals);
    prioritiesTable(priorities);
    await selectInterval(state.interval);
    root.dataset.ready = "1";
  } catch (error) {
    $("summary").tBodies[0].innerHTML = `<tr><td colspan="7" class="error">${escapeHtml(L.failed)}: ${escapeHtml(error.message)}</td></tr>`;
    root.dataset.ready = "error";
  }
}

start();
