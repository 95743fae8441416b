// The coverage layer of the control room's map (issue 20): the demand cells no free unit reaches
// within the target time, shaded, and a legend with the share of the demand covered and the
// districts left short (GET /api/coverage, dispatch/coverage/live.py). Toggled by its button or
// the C key, remembered on this device; while on, it is read again as units change status and
// move (the page calls changed() on the socket's unit events), at most every REFRESH_MS.
"use strict";
import { escapeHtml, getJSON, gettext, interpolate, typing } from "./shared.js";

const REFRESH_MS = 5000;
const STORE_KEY = "map.coverage";
const FOLD_KEY = "map.coverage.folded";
// Narrower than this, the map starts with the legend folded to its first line (the share
// covered): unfolded it hides the map's top-right corner on a 1366-pixel screen.
const FOLD_BELOW_PX = 1100;
const FILL = "#c8102e";
const KEY = "c";

const percent = (share) => `${Math.round(share * 100)}%`;

export class CoverageLayer {
  // `map`: a Leaflet map. The cells are SVG paths (class coverage-cell) on their own renderer.
  constructor(map) {
    this.map = map;
    this.renderer = L.svg({ padding: 0.5 });
    this.cells = L.layerGroup();
    this.on = false;
    this.lastRead = 0;
    this.timer = null;
    this.reading = false;
    this.again = false;
    const stored = localStorage.getItem(FOLD_KEY);
    this.folded = stored ? stored === "yes" : map.getContainer().clientWidth < FOLD_BELOW_PX;
    this.addStyles();
    this.addControl();
    document.addEventListener("keydown", (event) => {
      if (event.key.toLowerCase() !== KEY || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      event.preventDefault();
      this.toggle();
    });
    if (localStorage.getItem(STORE_KEY) === "on") this.toggle();
  }

  addStyles() {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("../css/map-coverage.css", import.meta.url).href;
    document.head.append(link);
  }

  addControl() {
    const control = L.control({ position: "topright" });
    control.onAdd = () => {
      const box = L.DomUtil.create("div", "coverage-control leaflet-bar");
      this.button = L.DomUtil.create("button", "coverage-toggle", box);
      this.button.type = "button";
      this.button.id = "coverage-toggle";
      this.button.textContent = gettext("Coverage");
      this.button.title = gettext("Coverage (C): shade the places no free unit reaches within the target time");
      this.button.setAttribute("aria-pressed", "false");
      this.legend = L.DomUtil.create("div", "coverage-legend", box);
      this.legend.id = "coverage-legend";
      this.legend.hidden = true;
      this.legend.setAttribute("aria-live", "polite");
      this.legend.classList.toggle("folded", this.folded);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(this.button, "click", () => this.toggle());
      return box;
    };
    control.addTo(this.map);
  }

  // The legend's details (the swatch, the units counted, the districts) folded or shown; the
  // choice is remembered on this device.
  fold(folded) {
    this.folded = folded;
    localStorage.setItem(FOLD_KEY, folded ? "yes" : "no");
    this.legend.classList.toggle("folded", folded);
    const button = this.legend.querySelector(".coverage-fold");
    if (button) this.labelFold(button);
  }

  labelFold(button) {
    button.textContent = this.folded ? "▸" : "▾";
    button.title = this.folded ? gettext("Show the legend's details") : gettext("Fold the legend to its first line");
    button.setAttribute("aria-expanded", String(!this.folded));
  }

  toggle() {
    this.on = !this.on;
    localStorage.setItem(STORE_KEY, this.on ? "on" : "off");
    this.button.setAttribute("aria-pressed", String(this.on));
    this.button.classList.toggle("on", this.on);
    this.legend.hidden = !this.on;
    if (this.on) {
      this.cells.addTo(this.map);
      this.read();
    } else {
      clearTimeout(this.timer);
      this.timer = null;
      this.cells.remove();
    }
  }

  // Units changed or moved: read again, at most every REFRESH_MS (the last change is never lost).
  changed() {
    if (!this.on || this.timer) return;
    const wait = Math.max(0, this.lastRead + REFRESH_MS - Date.now());
    this.timer = setTimeout(() => { this.timer = null; this.read(); }, wait);
  }

  async read() {
    if (this.reading) { this.again = true; return; }
    this.reading = true;
    this.lastRead = Date.now();
    try {
      const coverage = await getJSON("/api/coverage");
      if (this.on) this.draw(coverage);
    } catch (error) {
      if (error.status === 403) this.button.closest(".coverage-control").hidden = true; // not for this role
      else this.legend.textContent = error.message;
    } finally {
      this.reading = false;
      if (this.again) { this.again = false; this.changed(); }
    }
  }

  draw(coverage) {
    this.cells.clearLayers();
    for (const cell of coverage.uncovered) {
      const [west, south, east, north] = cell.bounds;
      L.rectangle([[south, west], [north, east]], {
        renderer: this.renderer, className: "coverage-cell", stroke: false, fillColor: FILL,
        fillOpacity: Math.min(0.2 + cell.weight * 40, 0.55), interactive: false,
      }).addTo(this.cells);
    }
    const minutes = Math.round(coverage.target_s / 60);
    const short = coverage.districts.filter((d) => d.uncovered_share > 0)
      .sort((a, b) => b.uncovered_share - a.uncovered_share).slice(0, 4);
    this.legend.dataset.covered = String(coverage.covered_share);
    this.legend.dataset.cells = String(coverage.uncovered.length);
    this.legend.innerHTML =
      `<p class="coverage-share"><button type="button" class="coverage-fold"></button><b>${escapeHtml(percent(coverage.covered_share))}</b> ` +
      `${escapeHtml(interpolate(gettext("of the calls covered within %(minutes)s min"), { minutes }, true))}</p>` +
      `<p><span class="coverage-swatch"></span> ${escapeHtml(gettext("No free unit in time"))}</p>` +
      `<p class="muted">${escapeHtml(interpolate(gettext("%(units)s free units counted"), { units: coverage.units }, true))}</p>` +
      (short.length ? `<p class="coverage-caption">${escapeHtml(gettext("Not reached in time, by district"))}</p>` +
        `<ul class="coverage-districts">${short.map((d) =>
        `<li>${escapeHtml(d.name)} <b>${escapeHtml(percent(d.uncovered_share))}</b></li>`).join("")}</ul>` : "") +
      (coverage.by_road ? "" : `<p class="coverage-warning">${escapeHtml(gettext("No road network: straight-line times"))}</p>`);
    if (short.length) {
      this.legend.querySelector(".coverage-districts").title = gettext("Share of the district's calls no free unit reaches in time");
    }
    const fold = this.legend.querySelector(".coverage-fold");
    this.labelFold(fold);
    fold.addEventListener("click", () => this.fold(!this.folded));
  }
}
