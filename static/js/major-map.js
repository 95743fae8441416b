// A major incident's scene on a Leaflet map (群体伤): the scene with its level, the staging point
// ambulances wait at, and the access route they come in by. One drawing for every map that shows
// it: the console's, the city map page, the casualty board's (where the dispatcher sets them) and
// the tablet of a crew sent there. Each page says which major incidents it has (the control
// room: GET /api/major; a crew: GET /api/major/mine, its own job's only) and draws them here.
"use strict";
import { escapeHtml, getJSON, gettext, interpolate, pgettext } from "./shared.js";

export const LEVEL_ROMAN = { 1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ" };
// The staging point's map symbol: one character (集 for 集结点 in Chinese).
export const STAGING_GLYPH = pgettext("map symbol of a staging point, one character", "S");
// The access route's colour: none of the units' status colours (citymap.js STATUS_COLOR).
const ROUTE_COLOR = "#0f766e";
// The server keeps an access route of at most this many points (dispatch/major/actions.py).
export const ROUTE_MAX_POINTS = 200;

const latlng = ([lon, lat]) => [lat, lon];

export class MajorLayer {
  // `map`: a Leaflet map. The route is an SVG path (each says which incident it belongs to), on
  // maps that otherwise draw on a canvas.
  constructor(map) {
    this.map = map;
    this.renderer = L.svg({ padding: 0.5 });
    this.group = L.layerGroup().addTo(map);
    this.draft = L.layerGroup().addTo(map);
    this.majors = [];
  }

  // Every active major incident given, drawn afresh (one read of the server's picture).
  draw(majors) {
    this.majors = (majors || []).filter((m) => m && m.status !== "stood_down");
    this.group.clearLayers();
    for (const m of this.majors) this.drawOne(m);
  }

  drawOne(m) {
    const title = interpolate(gettext("Major incident %(number)s, level %(level)s"), {
      number: m.incident_number, level: LEVEL_ROMAN[m.level] || m.level,
    }, true);
    if (m.access_route?.length >= 2) {
      const points = m.access_route.map(latlng);
      // A pale casing under the line, so it reads over any road colour.
      L.polyline(points, { color: "#fff", weight: 9, opacity: 0.9, interactive: false, renderer: this.renderer }).addTo(this.group);
      const line = L.polyline(points, {
        color: ROUTE_COLOR, weight: 5, opacity: 0.95, dashArray: "12 7", className: "major-access", renderer: this.renderer,
      }).bindTooltip(`${escapeHtml(gettext("Access route"))} · ${escapeHtml(title)}`).addTo(this.group);
      line.getElement()?.setAttribute("data-major", m.id);
    }
    if (m.scene) {
      // Round the incident's own marker, under it: the incident stays clickable.
      const level = `${escapeHtml(pgettext("badge", "Major incident"))} ${LEVEL_ROMAN[m.level] || "?"}`;
      const icon = L.divIcon({ className: `major-scene-icon level-${m.level}`, html: `<span class="major-scene-level">${level}</span>`, iconSize: [46, 46] });
      this.mark(L.marker(latlng(m.scene), { icon, keyboard: false, zIndexOffset: -100 })
        .bindTooltip(`${escapeHtml(title)} · ${escapeHtml(gettext("scene"))}`), m);
    }
    if (m.staging_point) {
      const icon = L.divIcon({ className: "major-staging-icon", html: escapeHtml(STAGING_GLYPH), iconSize: [26, 26] });
      this.mark(L.marker(latlng(m.staging_point), { icon, keyboard: false, zIndexOffset: 1100 })
        .bindTooltip(`${escapeHtml(gettext("Staging point"))} · ${escapeHtml(title)}`), m);
    }
  }

  mark(marker, m) {
    marker.addTo(this.group);
    marker.getElement()?.setAttribute("data-major", m.id);
  }

  // What is being drawn on the casualty board and not yet saved: the points clicked so far, or a
  // staging point chosen; null clears it.
  drawDraft({ route = null, staging = null } = {}) {
    this.draft.clearLayers();
    if (route?.length) {
      L.polyline(route.map(latlng), { color: ROUTE_COLOR, weight: 4, opacity: 0.8, dashArray: "4 6", className: "major-draft", renderer: this.renderer })
        .addTo(this.draft);
      for (const p of route) L.circleMarker(latlng(p), { radius: 4, color: ROUTE_COLOR, renderer: this.renderer, className: "major-draft-point" }).addTo(this.draft);
    }
    if (staging) {
      const icon = L.divIcon({ className: "major-staging-icon draft", html: escapeHtml(STAGING_GLYPH), iconSize: [26, 26] });
      L.marker(latlng(staging), { icon, keyboard: false, zIndexOffset: 1100 }).addTo(this.draft);
    }
  }

  // The scene, staging point and route of one major incident in view.
  fit(m, { maxZoom = 16 } = {}) {
    const points = [m.scene, m.staging_point, ...(m.access_route || [])].filter(Boolean).map(latlng);
    const zoom = this.map.getZoom() ?? 0; // a map whose roads never loaded has no view yet
    if (points.length === 1) this.map.setView(points[0], Math.max(zoom, 15));
    else if (points.length) this.map.fitBounds(points, { padding: [30, 30], maxZoom });
  }
}

// The control room's active major incidents (GET /api/major), each with its scene.
export function activeMajors() {
  return getJSON("/api/major");
}

// A crew's tablet: its own job's major incident, read every few seconds while `active()` (a live
// job) and when the tablet wakes. The crew's socket hears only its own unit's events, and a scene
// change names no unit, so the tablet reads it, as its casualty panel does (tablet-major.js).
export function followCrewMajor(layer, { active }) {
  // No read of its own: the tablet's major-incident panel (tablet-major.js) reads
  // /api/major/mine whenever the socket says something changed for this crew (a crew hears every
  // event of the major incident its unit is on, the scene's too) and hands the answer on as
  // "tablet:major"; the map draws it while the crew has a live job.
  let last = null;
  const draw = () => layer.draw(active() && last?.major ? [last.major] : []);
  document.addEventListener("tablet:major", (event) => { last = event.detail; draw(); });
  // The map starts when its tab is first shown, after the panel's first read: ask for it.
  const ask = () => document.dispatchEvent(new CustomEvent("tablet:major-wanted"));
  ask();
  return () => { draw(); ask(); };
}

// A road route cut down to what the server keeps (at most ROUTE_MAX_POINTS points): the
// Ramer-Douglas-Peucker simplification, its tolerance doubled until it fits; the ends stay.
export function simplifiedRoute(coords, max = ROUTE_MAX_POINTS) {
  if (coords.length <= max) return coords;
  let tolerance = 0.00001; // degrees, about a metre
  let kept = coords;
  while (kept.length > max) {
    kept = simplify(coords, tolerance);
    tolerance *= 2;
  }
  return kept;
}

function simplify(points, tolerance) {
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [first, last] = stack.pop();
    let worst = 0, at = -1;
    for (let i = first + 1; i < last; i++) {
      const d = offLine(points[i], points[first], points[last]);
      if (d > worst) { worst = d; at = i; }
    }
    if (worst > tolerance && at > 0) {
      keep[at] = 1;
      stack.push([first, at], [at, last]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

function offLine([x, y], [x1, y1], [x2, y2]) {
  const dx = x2 - x1, dy = y2 - y1;
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / length)) : 0;
  return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
}
