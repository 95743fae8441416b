// A Leaflet map of the city drawn from our own road data (no tile server, no internet), with
// stations, hospitals and units. Used by the city map page and the dispatcher console.
"use strict";
import { escapeHtml, getJSON } from "./shared.js";

const ROAD_STYLE = {
  1: { color: "#d9822b", weight: 4 }, 2: { color: "#e0a04a", weight: 3.5 },
  3: { color: "#e9c46a", weight: 3 }, 4: { color: "#f1d98a", weight: 2.5 },
  5: { color: "#c9ccd1", weight: 2 }, 6: { color: "#c9ccd1", weight: 2 },
};
const MINOR = { color: "#d8dbe0", weight: 1.2 };
export const STATUS_COLOR = {
  available: "#2a9d4b", returning: "#6cbf84", dispatched: "#d62828", acknowledged: "#d62828",
  en_route: "#e85d04", on_scene: "#7b2cbf", patient_contact: "#7b2cbf", transporting: "#1d4ed8",
  at_hospital: "#0e7490", out_of_service: "#6b7280",
};

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
    this.incidentLayer = L.layerGroup().addTo(this.map);
    this.unitLayer = L.layerGroup().addTo(this.map);
    this.unitMarkers = new Map();
    this.roadRequest = 0;
    if (onMapClick) this.map.on("click", (e) => onMapClick(e.latlng));
  }

  async start() {
    const net = await getJSON("/api/roads/network");
    this.map.fitBounds([[net.south, net.west], [net.north, net.east]]);
    this.toggleLabels();
    L.control.scale({ imperial: false }).addTo(this.map);
    this.map.attributionControl.addAttribution(net.is_demo ? this.labels.demo_attribution : this.labels.osm_attribution);
    this.map.on("moveend", () => this.loadRoads().catch(() => {}));
    await this.loadRoads();
    return net;
  }

  toggleLabels() {
    this.map.getContainer().classList.toggle("labels-off", this.map.getZoom() < 13);
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

  // Open incidents as numbered priority markers; the selected one stands out.
  drawIncidents(incidents, selectedId) {
    this.incidentLayer.clearLayers();
    for (const i of incidents) {
      if (i.lon == null) continue;
      const cls = `incident-icon p${i.priority || 0}${i.id === selectedId ? " selected" : ""}`;
      const roman = ["?", "I", "II", "III", "IV"][i.priority || 0];
      L.marker([i.lat, i.lon], { icon: L.divIcon({ className: cls, html: roman, iconSize: [24, 24] }), keyboard: false })
        .bindTooltip(`${escapeHtml(i.number)} · ${escapeHtml(i.chief_complaint || "")} · ${escapeHtml(i.address || "")}`)
        .addTo(this.incidentLayer);
    }
  }

  unitIcon(unit) {
    const stale = isStale(unit, this.staleSeconds) ? " stale" : "";
    return L.divIcon({
      className: "unit-icon",
      html: `<span class="unit-dot${stale}" style="background:${STATUS_COLOR[unit.status] || "#333"}"></span>` +
            `<span class="unit-label">${escapeHtml(unit.call_sign)}</span>`,
      iconSize: [12, 12], iconAnchor: [6, 6],
    });
  }

  drawUnit(unit) {
    if (unit.lon == null) return;
    let marker = this.unitMarkers.get(unit.id);
    if (!marker) {
      marker = L.marker([unit.lat, unit.lon], { icon: this.unitIcon(unit), keyboard: false }).addTo(this.unitLayer);
      this.unitMarkers.set(unit.id, marker);
    } else {
      marker.setLatLng([unit.lat, unit.lon]);
      marker.setIcon(this.unitIcon(unit));
    }
    const stale = isStale(unit, this.staleSeconds) ? ` · ${this.labels.stale}` : "";
    marker.bindTooltip(`${escapeHtml(unit.call_sign)} · ${this.labels.status[unit.status] || unit.status}${stale}`);
  }
}
