// The tablet's map: our own roads (CityMap, no tiles), the scene, the hospital, the vehicle,
// and the road route to the scene and on to the hospital with its ETA (GET /api/roads/route); on a
// major incident's job, its staging point and access route too (major-map.js).
"use strict";
import { CityMap } from "./citymap.js";
import { MajorLayer, followCrewMajor } from "./major-map.js";
import { escapeHtml, getJSON, gettext, interpolate } from "./shared.js";

const round = (p) => (p ? `${p.lon.toFixed(3)},${p.lat.toFixed(3)}` : "-");

export class TabletMap {
  constructor(element, statusLine, { online, labels }) {
    this.element = element;
    this.statusLine = statusLine;
    this.online = online;
    this.labels = {
      status: labels.status,
      stale: gettext("position stale"),
      demo_attribution: gettext("Demo city: fictional roads"),
      osm_attribution: gettext("Roads © OpenStreetMap contributors"),
    };
    this.city = null;
    this.routes = {};
    this.routeKey = null;
    this.fitKey = null;
    this.onRoute = () => {};
  }

  // Leaflet needs a visible box: start on the first update that finds the map shown.
  ensure() {
    if (this.city || !this.element.offsetWidth) return !!this.city;
    this.city = new CityMap(this.element, { labels: this.labels, staleSeconds: 120 });
    this.legs = L.layerGroup().addTo(this.city.map);
    this.marks = L.layerGroup().addTo(this.city.map);
    this.major = new MajorLayer(this.city.map);
    this.ready = this.city.start().then(() => {
      this.started = true;
      this.readMajor = followCrewMajor(this.major, { active: () => this.onJob() });
      this.update(this.input);
    }, (error) => this.say(interpolate(gettext("The map could not load: %(error)s"), { error: error.message }, true), true));
    return true;
  }

  resize() {
    if (this.city) this.city.map.invalidateSize();
    this.update(this.input);
  }

  say(text, isError = false) {
    this.statusLine.textContent = text;
    this.statusLine.className = `map-line ${isError ? "error" : "muted"}`;
  }

  // A live job (its scene known): what may belong to a major incident.
  onJob() {
    return !!this.input?.scene;
  }

  update(input) {
    const wasOnJob = this.onJob();
    this.input = input;
    if (!input || !this.ensure() || !this.started) return;
    if (wasOnJob !== this.onJob()) this.readMajor?.(); // a new job may be a major incident's
    this.drawMarks();
    this.plan();
  }

  drawMarks() {
    const { scene, hospital, fix, site } = this.input;
    this.marks.clearLayers();
    if (site) { // a move-up's station or standby point (tablet-relocation.js)
      const icon = L.divIcon({ className: "standby-icon", html: "P", iconSize: [26, 26] });
      L.marker([site.lat, site.lon], { icon, keyboard: false }).bindTooltip(escapeHtml(site.name)).addTo(this.marks);
    }
    if (scene) {
      const icon = L.divIcon({ className: `incident-icon p${scene.priority || 0}`, html: "!", iconSize: [28, 28] });
      L.marker([scene.lat, scene.lon], { icon, keyboard: false }).bindTooltip(escapeHtml(scene.name || "")).addTo(this.marks);
    }
    if (hospital) {
      const icon = L.divIcon({ className: "hospital-icon", html: "✚", iconSize: [24, 24] });
      L.marker([hospital.lat, hospital.lon], { icon, keyboard: false }).bindTooltip(escapeHtml(hospital.name)).addTo(this.marks);
    }
    if (fix) {
      const icon = L.divIcon({ className: "me-icon", html: "", iconSize: [22, 22] });
      L.marker([fix.lat, fix.lon], { icon, keyboard: false }).addTo(this.marks);
    }
  }

  // The legs to draw: "a" from the vehicle to where it drives now, "b" scene to hospital.
  wantedLegs() {
    const { scene, hospital, fix, phase } = this.input;
    const legs = [];
    if (phase === "relocating" && fix && this.input.site) legs.push(["a", fix, this.input.site]);
    if (phase === "to_scene") {
      if (fix && scene) legs.push(["a", fix, scene]);
      if (scene && hospital) legs.push(["b", scene, hospital]);
    } else if (phase === "on_scene") {
      if (scene && hospital) legs.push(["b", scene, hospital]);
    } else if (phase === "to_hospital") {
      if (fix && hospital) legs.push(["a", fix, hospital]);
      else if (scene && hospital) legs.push(["b", scene, hospital]);
    }
    return legs;
  }

  async plan() {
    const legs = this.wantedLegs();
    const key = `${this.input.phase}|` + legs.map(([name, from, to]) => `${name}:${round(from)}>${round(to)}`).join("|");
    if (key === this.routeKey) return;
    if (!this.online()) {
      this.say(gettext("Offline: showing the last route."));
      return;
    }
    this.routeKey = key;
    const routes = {};
    try {
      for (const [name, from, to] of legs) {
        const q = `from_lon=${from.lon}&from_lat=${from.lat}&to_lon=${to.lon}&to_lat=${to.lat}`;
        routes[name] = await getJSON(`/api/roads/route?${q}`);
      }
    } catch (error) {
      this.routeKey = null; // try again on the next update
      this.say(interpolate(gettext("No route: %(error)s"), { error: error.message }, true), true);
      return;
    }
    if (key !== this.routeKey) return; // a newer plan superseded this one
    this.routes = routes;
    this.routesPhase = this.input.phase; // an ETA is said only for the phase it was planned for
    this.legs.clearLayers();
    const bounds = [];
    for (const [name, route] of Object.entries(routes)) {
      const latlngs = route.coordinates.map(([lon, lat]) => [lat, lon]);
      bounds.push(...latlngs);
      const style = name === "a" ? { color: "#c8102e", weight: 7, opacity: 0.85 } : { color: "#1d4ed8", weight: 6, opacity: 0.7, dashArray: "10 8" };
      L.polyline(latlngs, { ...style, interactive: false }).addTo(this.legs);
    }
    const { scene, hospital, site } = this.input;
    for (const p of [scene, hospital, site]) if (p) bounds.push([p.lat, p.lon]);
    const fitKey = `${round(scene)}|${round(hospital)}|${round(site)}|${!!routes.a}`;
    if (bounds.length && fitKey !== this.fitKey) {
      this.fitKey = fitKey;
      this.city.map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
    }
    const legend = [routes.a && gettext("red: from this vehicle"), routes.b && gettext("blue dashes: scene to hospital")];
    const waiting = this.input.phase === "relocating" ? gettext("Waiting for GPS to route to the standby site.") : gettext("Waiting for GPS to route to the scene.");
    this.say(legs.length ? legend.filter(Boolean).join(" · ") : waiting);
    this.onRoute();
  }

  // A leg planned for this phase (null while the route for a new phase is still being planned:
  // the old leg "a" went to the scene, not to the hospital).
  leg(name, phase) {
    return this.input && this.routesPhase === phase && this.input.phase === phase ? this.routes[name] || null : null;
  }

  eta() {
    const { phase, fix } = this.input || {};
    const text = (route, where) => `${where} ${Math.max(1, Math.round(route.seconds / 60))} ${gettext("min")} · ${(route.metres / 1000).toFixed(1)} km`;
    if (this.routesPhase !== phase) return "";
    const { a, b } = this.routes;
    if (phase === "to_scene" && a && fix) return text(a, gettext("To the scene about"));
    if (phase === "relocating" && a && fix) return text(a, gettext("To the standby site about"));
    if (phase === "to_hospital" && a && fix) return text(a, gettext("To the hospital about"));
    if ((phase === "on_scene" || phase === "to_hospital") && b) return text(b, gettext("Scene to hospital about"));
    return "";
  }
}
