// The city map: roads drawn from our own database (no tile server, no internet), stations,
// hospitals and units, kept live through the event socket.
"use strict";
import { LiveSocket, showConnectionState } from "./live.js";

const root = document.getElementById("map-page");
const t = JSON.parse(document.getElementById("map-i18n").textContent);
const staleSeconds = Number(root.dataset.staleSeconds);

const ROAD_STYLE = {
  1: { color: "#d9822b", weight: 4 }, 2: { color: "#e0a04a", weight: 3.5 },
  3: { color: "#e9c46a", weight: 3 }, 4: { color: "#f1d98a", weight: 2.5 },
  5: { color: "#c9ccd1", weight: 2 }, 6: { color: "#c9ccd1", weight: 2 },
};
const MINOR = { color: "#d8dbe0", weight: 1.2 };
const STATUS_COLOR = {
  available: "#2a9d4b", returning: "#6cbf84", dispatched: "#d62828", acknowledged: "#d62828",
  en_route: "#e85d04", on_scene: "#7b2cbf", patient_contact: "#7b2cbf", transporting: "#1d4ed8",
  at_hospital: "#0e7490", out_of_service: "#6b7280",
};

const map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: true });
map.attributionControl.setPrefix(false);
const roadLayer = L.geoJSON(null, {
  style: (f) => ROAD_STYLE[f.properties.road_class] || MINOR,
  interactive: false,
}).addTo(map);
const stationLayer = L.layerGroup().addTo(map);
const hospitalLayer = L.layerGroup().addTo(map);
const unitLayer = L.layerGroup().addTo(map);
const unitMarkers = new Map();
const units = new Map();

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error((await response.json()).error || response.statusText);
  return response.json();
}

let roadRequest = 0;
async function loadRoads() {
  const b = map.getBounds(), mine = ++roadRequest;
  const q = `west=${b.getWest()}&south=${b.getSouth()}&east=${b.getEast()}&north=${b.getNorth()}&zoom=${map.getZoom()}`;
  const data = await getJSON(`/api/roads?${q}`);
  if (mine !== roadRequest) return; // a newer view superseded this one
  roadLayer.clearLayers();
  roadLayer.addData(data);
}

function isStale(unit) {
  return !unit.position_at || (Date.now() - Date.parse(unit.position_at)) / 1000 > staleSeconds;
}

function unitIcon(unit) {
  const stale = isStale(unit) ? " stale" : "";
  return L.divIcon({
    className: "unit-icon",
    html: `<span class="unit-dot${stale}" style="background:${STATUS_COLOR[unit.status] || "#333"}"></span>` +
          `<span class="unit-label">${unit.call_sign}</span>`,
    iconSize: [12, 12], iconAnchor: [6, 6],
  });
}

function drawUnit(unit) {
  units.set(unit.id, unit);
  if (unit.lon == null) return;
  let marker = unitMarkers.get(unit.id);
  if (!marker) {
    marker = L.marker([unit.lat, unit.lon], { icon: unitIcon(unit), keyboard: false }).addTo(unitLayer);
    unitMarkers.set(unit.id, marker);
  } else {
    marker.setLatLng([unit.lat, unit.lon]);
    marker.setIcon(unitIcon(unit));
  }
  marker.bindTooltip(`${unit.call_sign} · ${t.status[unit.status] || unit.status}` + (isStale(unit) ? ` · ${t.stale}` : ""));
}

function renderUnitList() {
  const list = document.getElementById("unit-list");
  const counts = {};
  const rows = [...units.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign));
  list.replaceChildren(...rows.map((u) => {
    counts[u.status] = (counts[u.status] || 0) + 1;
    const li = document.createElement("li");
    li.id = `unit-${u.id}`;
    li.innerHTML = `<span class="unit-dot${isStale(u) ? " stale" : ""}" style="background:${STATUS_COLOR[u.status]}"></span>` +
      `<b>${u.call_sign}</b> <span class="muted">${t.kind[u.kind] || u.kind}</span>` +
      `<span class="status status-${u.status}">${t.status[u.status] || u.status}</span>`;
    li.onclick = () => u.lon != null && map.setView([u.lat, u.lon], 16);
    return li;
  }));
  document.getElementById("unit-summary").textContent =
    Object.entries(counts).map(([s, n]) => `${t.status[s] || s} ${n}`).join(" · ");
  if (!rows.length) list.innerHTML = `<li class="empty">${t.no_units}</li>`;
}

async function loadPlaces() {
  const [stations, hospitals, unitRows] = await Promise.all([
    getJSON("/api/stations"), getJSON("/api/hospitals"), getJSON("/api/units"),
  ]);
  for (const s of stations) {
    L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "station-icon", html: "站", iconSize: [18, 18] }) })
      .bindTooltip(s.name).addTo(stationLayer);
  }
  for (const h of hospitals) {
    const cls = h.diverting.length ? "hospital-icon diverting" : "hospital-icon";
    L.marker([h.lat, h.lon], { icon: L.divIcon({ className: cls, html: "✚", iconSize: [20, 20] }) })
      .bindTooltip(`${h.name}${h.diverting.length ? " · " + t.diverting : ""}`).addTo(hospitalLayer);
  }
  unitRows.forEach(drawUnit);
  renderUnitList();
}

async function refreshUnit(id) {
  const rows = await getJSON("/api/units");
  rows.forEach(drawUnit);
  renderUnitList();
}

async function start() {
  const status = document.getElementById("map-status");
  try {
    const net = await getJSON("/api/roads/network");
    map.fitBounds([[net.south, net.west], [net.north, net.east]]);
    L.control.scale({ imperial: false }).addTo(map);
    map.attributionControl.addAttribution(net.is_demo ? t.demo_attribution : t.osm_attribution);
    map.on("moveend", () => loadRoads().catch((e) => (status.textContent = e.message)));
    await Promise.all([loadRoads(), loadPlaces()]);
    status.textContent = "";
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
  }
  new LiveSocket({
    after: Number(root.dataset.lastSeq),
    onState: showConnectionState(document.getElementById("conn")),
    onEvent: (event) => {
      if (event.kind.startsWith("unit.")) refreshUnit(event.unit);
    },
    onPositions: (rows) => {
      for (const row of rows) {
        const unit = units.get(row.id);
        if (unit) drawUnit({ ...unit, ...row });
      }
    },
    onResync: () => loadPlaces(),
  });
  setInterval(renderUnitList, 15000); // positions age into "stale" without any event
}

start();
