// The city map page, made for the dispatcher's second screen: roads from our own database,
// stations, hospitals, units with their call signs, every open incident by priority with its
// number, and the road route of each unit on its way. Opened from the console (?follow=1), it
// follows the incident the console shows (second-screen.js): centred on it, its units and their
// times in the side panel. Kept live by the event socket.
"use strict";
import { CityMap, STATUS_COLOR, isStale } from "./citymap.js";
import { LiveSocket, showConnectionState } from "./live.js";
import { CoverageLayer } from "./map-coverage.js";
import { MajorLayer, activeMajors } from "./major-map.js";
import { followSelection } from "./second-screen.js";
import { $, KIND, PRIORITY, escapeHtml, getJSON, oneReadAtATime } from "./shared.js";

const root = $("map-page");
const t = JSON.parse($("map-i18n").textContent);
const staleSeconds = Number(root.dataset.staleSeconds);
const units = new Map();
const incidents = new Map();
let routes = [];
let selected = null; // the incident followed (or clicked here)
const city = new CityMap("map", { labels: t, staleSeconds });
const majors = new MajorLayer(city.map); // major incidents' scenes, staging points, access routes
const loadMajors = oneReadAtATime(async () => majors.draw(await activeMajors()));
const MAJOR_KINDS = [KIND.MAJOR_DECLARED, KIND.MAJOR_SCENE, KIND.MAJOR_SITREP, KIND.MAJOR_STOOD_DOWN];
const coverage = new CoverageLayer(city.map); // the places no free unit reaches in time (C)
const follow = $("follow");
follow.checked = new URLSearchParams(window.location.search).get("follow") === "1";

function renderUnitList() {
  const list = $("unit-list");
  const counts = {};
  const rows = [...units.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign));
  list.replaceChildren(...rows.map((u) => {
    counts[u.status] = (counts[u.status] || 0) + 1;
    const li = document.createElement("li");
    li.id = `unit-${u.id}`;
    li.innerHTML = `<span class="unit-dot${isStale(u, staleSeconds) ? " stale" : ""}" style="background:${STATUS_COLOR[u.status]}"></span>` +
      `<b>${escapeHtml(u.call_sign)}</b> <span class="muted">${t.kind[u.kind] || u.kind}</span>` +
      `<span class="status status-${u.status}">${t.status[u.status] || u.status}</span>`;
    li.onclick = () => u.lon != null && city.map.setView([u.lat, u.lon], 16);
    return li;
  }));
  $("unit-summary").textContent =
    Object.entries(counts).map(([s, n]) => `${t.status[s] || s} ${n}`).join(" · ");
  if (!rows.length) list.innerHTML = `<li class="empty">${t.no_units}</li>`;
}

// Each list is read one read at a time, asked again after a read in flight: two overlapping
// reads could land out of order and leave the older picture on the map.
const loadUnits = oneReadAtATime(async () => {
  for (const unit of await getJSON("/api/units")) {
    units.set(unit.id, unit);
    city.drawUnit(unit);
  }
  renderUnitList();
});

// ---------------------------------------------------------------- incidents and routes

const liveAssignments = (incident) => (incident?.assignments || []).filter((a) => !a.cancelled_at && !a.cleared_at);

function drawIncidents() {
  city.drawIncidents([...incidents.values()], selected, { numbers: true });
  for (const [id, marker] of city.incidentMarkers) marker.on("click", () => select(id, { centre: false }));
}

const loadIncidents = oneReadAtATime(async () => {
  const rows = await getJSON("/api/incidents");
  incidents.clear();
  for (const incident of rows) incidents.set(incident.id, incident);
  drawIncidents();
  renderFollowed();
});

const loadRoutes = oneReadAtATime(async () => {
  try { routes = await getJSON("/api/roads/unit-routes"); } catch { routes = []; }
  city.drawRoutes(routes);
  renderFollowed();
});

// The incident followed: what it is, and each of its units with its status and road time.
function renderFollowed() {
  const box = $("followed");
  const incident = incidents.get(selected);
  box.hidden = !incident;
  if (!incident) return;
  box.className = `followed p${incident.priority || 0}`;
  const rows = liveAssignments(incident).map((a) => {
    const route = routes.find((r) => r.assignment === a.id);
    const eta = route ? `${escapeHtml(t.route_to[route.to] || route.to)} ${Math.ceil(route.seconds / 60)} min` : "";
    return `<li data-unit="${a.unit}"><span class="unit-dot" style="background:${STATUS_COLOR[a.unit_status]}"></span>` +
      `<b>${escapeHtml(a.unit_call_sign)}</b> ${escapeHtml(t.status[a.unit_status] || a.unit_status)}<span class="eta">${eta}</span></li>`;
  }).join("");
  box.innerHTML = `<h3><span class="prio p${incident.priority || 0}">${escapeHtml(PRIORITY[incident.priority] || "?")}</span>` +
    `${escapeHtml(incident.chief_complaint || "")} <span class="num">${escapeHtml(incident.number)}</span></h3>` +
    `<p>${escapeHtml(incident.address || "")}</p>${rows ? `<ul>${rows}</ul>` : ""}`;
}

// Centre on the incident with its units on their way in view (never zoomed out past the city).
function centreOn(incident) {
  if (incident?.lon == null) return;
  const points = [[incident.lat, incident.lon]];
  for (const a of liveAssignments(incident)) {
    const unit = units.get(a.unit);
    if (unit?.lon != null) points.push([unit.lat, unit.lon]);
  }
  if (points.length === 1) city.map.setView(points[0], Math.max(city.map.getZoom(), 15));
  else city.map.fitBounds(points, { padding: [60, 60], maxZoom: 16 });
}

async function select(id, { centre }) {
  selected = id;
  if (!incidents.has(id)) await loadIncidents().catch(() => {}); // opened on the console just now
  drawIncidents();
  renderFollowed();
  if (centre) centreOn(incidents.get(id));
}

// Several events about one thing often arrive together: read once.
const later = new Map();
function soon(work) {
  clearTimeout(later.get(work));
  later.set(work, setTimeout(() => work().catch(() => {}), 250));
}

async function start() {
  const status = $("map-status");
  try {
    await city.start();
    const [stations, hospitals] = await Promise.all([getJSON("/api/stations"), getJSON("/api/hospitals")]);
    city.drawStations(stations);
    city.drawHospitals(hospitals);
    await Promise.all([loadUnits(), loadIncidents(), loadMajors().catch(() => {})]);
    await loadRoutes();
    status.textContent = "";
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
  }
  followSelection((id) => { if (follow.checked) select(id, { centre: true }); });
  follow.addEventListener("change", () => { if (follow.checked && selected != null) centreOn(incidents.get(selected)); });
  new LiveSocket({
    after: Number(root.dataset.lastSeq),
    onState: showConnectionState($("conn")),
    onEvent: (event) => {
      if (/^(unit|assignment)\./.test(event.kind)) coverage.changed();
      if (event.kind.startsWith("unit.")) soon(loadUnits);
      if (MAJOR_KINDS.includes(event.kind)) soon(loadMajors);
      if (event.kind.startsWith("incident.") || event.kind.startsWith("assignment.") || event.kind.startsWith("unit.")) {
        soon(loadIncidents);
        soon(loadRoutes);
      }
    },
    onPositions: (rows) => {
      for (const row of rows) {
        const unit = units.get(row.id);
        if (unit) { Object.assign(unit, row); city.drawUnit(unit); }
      }
      coverage.changed();
    },
    onResync: () => Promise.all([loadUnits(), loadIncidents(), loadRoutes(), loadMajors()]),
  });
  setInterval(renderUnitList, 15000); // positions age into "stale" without any event
  setInterval(() => loadRoutes(), 20000); // units move along their routes
  root.dataset.ready = "1";
}

start();
