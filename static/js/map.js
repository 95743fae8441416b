// The city map page: roads from our own database, stations, hospitals and units, kept live.
"use strict";
import { CityMap, STATUS_COLOR, isStale } from "./citymap.js";
import { LiveSocket, showConnectionState } from "./live.js";
import { $, escapeHtml, getJSON } from "./shared.js";

const root = $("map-page");
const t = JSON.parse($("map-i18n").textContent);
const staleSeconds = Number(root.dataset.staleSeconds);
const units = new Map();
const city = new CityMap("map", { labels: t, staleSeconds });

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

async function loadUnits() {
  for (const unit of await getJSON("/api/units")) {
    units.set(unit.id, unit);
    city.drawUnit(unit);
  }
  renderUnitList();
}

async function start() {
  const status = $("map-status");
  try {
    await city.start();
    const [stations, hospitals] = await Promise.all([getJSON("/api/stations"), getJSON("/api/hospitals")]);
    city.drawStations(stations);
    city.drawHospitals(hospitals);
    await loadUnits();
    status.textContent = "";
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
  }
  new LiveSocket({
    after: Number(root.dataset.lastSeq),
    onState: showConnectionState($("conn")),
    onEvent: (event) => { if (event.kind.startsWith("unit.")) loadUnits(); },
    onPositions: (rows) => {
      for (const row of rows) {
        const unit = units.get(row.id);
        if (unit) { Object.assign(unit, row); city.drawUnit(unit); }
      }
    },
    onResync: () => loadUnits(),
  });
  setInterval(renderUnitList, 15000); // positions age into "stale" without any event
}

start();
