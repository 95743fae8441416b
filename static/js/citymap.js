// A Leaflet map of the city drawn from our own road data (no tile server, no internet), with
// stations, hospitals, units with their call signs, open incidents and the routes of units on a
// job. Used by the city map page and the dispatcher console.
"use strict";
import { escapeHtml, getJSON } from "./shared.js";

const ROAD_STYLE = {
  1: { color: "#d9822b", weight: 4 }, 2: { color: "#e0a04a", weight: 3.5 },
  3: { color: "#e9c46a", weight: 3 }, 4: { color: "#f1d98a", weight: 2.5 },
  5: { color: "#c9ccd1", weight: 2 }, 6: { color: "#c9ccd1", weight: 2 },
};
const MINOR = { color: "#d8dbe0", weight: 1.2 };
// One colour per status, the same on every screen (map dots, the console's board and chips);
// words always go with it. Free is green, on the way red to orange, at the patient purple, with
// the patient blue, out of service grey.
export const STATUS_COLOR = {
  available: "#2a9d4b", returning: "#6cbf84", relocating: "#40916c", dispatched: "#d62828", acknowledged: "#b5179e",
  en_route: "#e85d04", on_scene: "#7b2cbf", patient_contact: "#5a189a", transporting: "#1d4ed8",
  at_hospital: "#0e7490", out_of_service: "#6b7280",
};
// The statuses in the order of a job, for legends.
export const STATUS_ORDER = [
  "available", "dispatched", "acknowledged", "en_route", "on_scene", "patient_contact", "transporting",
  "at_hospital", "returning", "relocating", "out_of_service",
];
// A unit on a job: its label shows at any zoom (the others' only when zoomed in).
const FREE = ["available", "returning", "relocating", "out_of_service"];
// Units closer than this share a spot (a station's units): their labels stack instead of overlapping.
const SAME_SPOT_PX = 14;

// From this zoom every unit has its label; below it only the units on a job.
const LABEL_ZOOM = 13;

// The station's map symbol, in every language: the legend of templates/map.html shows the same.
const STATION_GLYPH = "站";

export function isStale(unit, staleSeconds) {
  return !unit.position_at || (Date.now() - Date.parse(unit.position_at)) / 1000 > staleSeconds;
}

export class CityMap {
  constructor(element, { labels, staleSeconds, onMapClick } = {}) {
    this.labels = labels;
    this.staleSeconds = staleSeconds;
    this.map = L.map(element, { preferCanvas: true, attributionControl: true, zoomSnap: 0.25 });
    this.map.on("zoomend", () => this.toggleLabels());
    this.map.attributionControl.setPrefix(false);
    this.roads = L.geoJSON(null, { style: (f) => ROAD_STYLE[f.properties.road_class] || MINOR, interactive: false })
      .addTo(this.map);
    this.places = L.layerGroup().addTo(this.map);
    this.routeLayer = L.layerGroup().addTo(this.map);
    this.routeRenderer = L.svg({ padding: 0.5 }); // routes as SVG paths: each one says whose it is
    this.incidentLayer = L.layerGroup().addTo(this.map);
    this.unitLayer = L.layerGroup().addTo(this.map);
    this.unitMarkers = new Map();
    this.units = new Map();
    this.map.on("zoomend", () => this.stackLabels());
    this.roadRequest = 0;
    if (onMapClick) this.map.on("click", (e) => onMapClick(e.latlng));
    // The page's layout may give the map another size (a window moved to another screen).
    new ResizeObserver(() => this.map.invalidateSize()).observe(this.map.getContainer());
  }

  async start() {
    const net = await getJSON("/api/roads/network");
    this.map.fitBounds([[net.south, net.west], [net.north, net.east]]);
    this.placed = true; // a view: points on the map have places on screen now
    this.toggleLabels();
    L.control.scale({ imperial: false }).addTo(this.map);
    this.map.attributionControl.addAttribution(net.is_demo ? this.labels.demo_attribution : this.labels.osm_attribution);
    this.map.on("moveend", () => this.loadRoads().catch(() => {}));
    await this.loadRoads();
    return net;
  }

  toggleLabels() {
    this.map.getContainer().classList.toggle("labels-off", this.map.getZoom() < LABEL_ZOOM);
  }

  async loadRoads() {
    const b = this.map.getBounds(), mine = ++this.roadRequest;
    const q = `west=${b.getWest()}&south=${b.getSouth()}&east=${b.getEast()}&north=${b.getNorth()}&zoom=${Math.round(this.map.getZoom())}`;
    const data = await getJSON(`/api/roads?${q}`);
    if (mine !== this.roadRequest) return; // a newer view superseded this one
    this.roads.clearLayers();
    this.roads.addData(data);
  }

  drawStations(stations) {
    for (const s of stations) {
      L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "station-icon", html: STATION_GLYPH, iconSize: [18, 18] }), keyboard: false })
        .bindTooltip(escapeHtml(s.name)).addTo(this.places);
    }
  }

  drawHospitals(hospitals) {
    for (const h of hospitals) {
      const cls = h.diverting.length ? "hospital-icon diverting" : "hospital-icon";
      L.marker([h.lat, h.lon], { icon: L.divIcon({ className: cls, html: "✚", iconSize: [20, 20] }), keyboard: false })
        .bindTooltip(escapeHtml(h.name) + (h.diverting.length ? ` · ${this.labels.diverting}` : "")).addTo(this.places);
    }
  }

  // Open incidents as priority markers (colour and numeral), labelled with the incident's number
  // when `numbers` (its day's sequence: the list shows it whole); the selected one stands out.
  drawIncidents(incidents, selectedId, { numbers = false } = {}) {
    this.incidentLayer.clearLayers();
    this.incidentMarkers = new Map();
    for (const i of incidents) {
      if (i.lon == null) continue;
      const cls = `incident-icon p${i.priority || 0}${i.id === selectedId ? " selected" : ""}`;
      const roman = ["?", "I", "II", "III", "IV"][i.priority || 0];
      const label = numbers ? `<span class="incident-label">${escapeHtml(shortNumber(i.number))}</span>` : "";
      const marker = L.marker([i.lat, i.lon], {
        icon: L.divIcon({ className: cls, html: `${roman}${label}`, iconSize: [24, 24] }),
        keyboard: false, zIndexOffset: i.id === selectedId ? 1000 : 500,
      })
        .bindTooltip(`${escapeHtml(i.number)} · ${escapeHtml(i.chief_complaint || "")} · ${escapeHtml(i.address || "")}`)
        .addTo(this.incidentLayer);
      marker.getElement()?.setAttribute("data-incident", i.id);
      this.incidentMarkers.set(i.id, marker);
    }
  }

  // Each unit's road route on its job: to the scene solid, with the patient to hospital dashed.
  drawRoutes(routes) {
    this.routeLayer.clearLayers();
    for (const r of routes) {
      const unit = this.units.get(r.unit);
      const color = STATUS_COLOR[unit?.status] || (r.to === "scene" ? STATUS_COLOR.en_route : STATUS_COLOR.transporting);
      const line = L.polyline(r.coordinates.map(([lon, lat]) => [lat, lon]), {
        color, weight: 5, opacity: .8, dashArray: r.to === "hospital" ? "10 7" : null, className: `unit-route to-${r.to}`,
        renderer: this.routeRenderer,
      }).bindTooltip(`${escapeHtml(r.call_sign)} · ${escapeHtml(this.labels.route_to[r.to] || r.to)} · ${Math.ceil(r.seconds / 60)} min`)
        .addTo(this.routeLayer);
      line.getElement()?.setAttribute("data-unit", r.unit);
    }
  }

  unitIcon(unit) {
    const stale = isStale(unit, this.staleSeconds) ? " stale" : "";
    const busy = FREE.includes(unit.status) ? "" : " busy";
    return L.divIcon({
      className: `unit-icon${busy}`,
      html: `<span class="unit-dot${stale}" style="background:${STATUS_COLOR[unit.status] || "#333"}"></span>` +
            `<span class="unit-label" data-unit="${unit.id}">${escapeHtml(unit.call_sign)}</span>`,
      iconSize: [12, 12], iconAnchor: [6, 6],
    });
  }

  drawUnit(unit) {
    if (unit.lon == null) return;
    this.units.set(unit.id, unit);
    let marker = this.unitMarkers.get(unit.id);
    if (!marker) {
      marker = L.marker([unit.lat, unit.lon], { icon: this.unitIcon(unit), keyboard: false }).addTo(this.unitLayer);
      this.unitMarkers.set(unit.id, marker);
    } else {
      marker.setLatLng([unit.lat, unit.lon]);
      marker.setIcon(this.unitIcon(unit));
    }
    marker.setZIndexOffset(FREE.includes(unit.status) ? 0 : 800);
    const stale = isStale(unit, this.staleSeconds) ? ` · ${this.labels.stale}` : "";
    marker.bindTooltip(`${escapeHtml(unit.call_sign)} · ${this.labels.status[unit.status] || unit.status}${stale}`);
    clearTimeout(this.stackTimer);
    this.stackTimer = setTimeout(() => this.stackLabels(), 50); // once per batch of positions
  }

  // Units on one spot (a station's, two at one scene) get their labels one under another, those
  // on a job first; a label that is hidden at this zoom takes no line.
  stackLabels() {
    if (!this.placed) return; // no road network yet: the map has no view to stack labels in
    const shown = this.map.getZoom() >= LABEL_ZOOM;
    const spots = [];
    const rows = [...this.unitMarkers.entries()].map(([id, marker]) => ({ unit: this.units.get(id), marker }))
      .filter((r) => r.unit && (shown || !FREE.includes(r.unit.status)))
      .sort((a, b) => FREE.includes(a.unit.status) - FREE.includes(b.unit.status) || a.unit.call_sign.localeCompare(b.unit.call_sign));
    for (const r of rows) {
      const at = this.map.latLngToLayerPoint(r.marker.getLatLng());
      let spot = spots.find((s) => s.at.distanceTo(at) < SAME_SPOT_PX);
      if (!spot) spots.push(spot = { at, n: 0 });
      const label = r.marker.getElement()?.querySelector(".unit-label");
      if (label) label.style.top = `${-3 + 13 * spot.n}px`;
      spot.n += 1;
    }
  }
}

// The day's part of an incident number (20250101-000123 → 000123): short enough for a map label,
// and the end of the number the incident list shows.
export function shortNumber(number) {
  return String(number || "").split("-").pop();
}
