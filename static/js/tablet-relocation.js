// A move-up accepted for this unit (dispatch/coverage/moveup.py): the tablet shows "调往 … 待命 /
// Relocating to …" with the drive on its map (tablet-map.js, phase "relocating"), and a tap on
// Arrived (or a GPS fix within ARRIVED_M of the site) makes the unit available there. A job sent
// meanwhile cancels the move: the server then answers no relocation.
"use strict";
import { $, LANG, escapeHtml, gettext, interpolate } from "./shared.js";

const ARRIVED_M = 100;
const en = LANG === "en";
let arriving = false;

const siteName = (m) => (en && m.site_name_en) || m.site_name;

// The move under way, or null (GET /api/crew/relocation); `get` is the tablet's reader.
export async function loadRelocation(get) {
  return (await get("/api/crew/relocation")).move_up;
}

export function relocationTarget(m) {
  return m ? { lon: m.lon, lat: m.lat, name: siteName(m) } : null;
}

function metres(a, b) {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2
    + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

// The relocation card: where to, the drive, Navigate and Arrived. `arrive` posts the tap and
// resolves once the server answered; `eta` is the map's line for the drive.
export function renderRelocation(m, { fix, eta, arrive }) {
  const card = $("relocation");
  card.hidden = !m;
  if (!m) return;
  $("relocation-title").textContent = interpolate(gettext("Relocating to %(site)s"), { site: siteName(m) }, true);
  const from = m.decided_by ? interpolate(gettext("Move-up accepted by %(name)s"), { name: m.decided_by }, true) : "";
  $("relocation-why").textContent = [m.district ? interpolate(gettext("covers %(district)s"), { district: m.district }, true) : "", from]
    .filter(Boolean).join(" · ");
  $("relocation-eta").textContent = eta || "";
  const nav = $("relocation-nav");
  nav.href = `geo:${m.lat},${m.lon}?q=${m.lat},${m.lon}(${encodeURIComponent(siteName(m))})`;
  nav.innerHTML = `➤ ${escapeHtml(gettext("Navigate to"))} ${escapeHtml(siteName(m))}`;
  const button = $("relocation-arrived");
  button.disabled = arriving;
  button.onclick = () => tapArrived(arrive);
  if (fix && !arriving && metres(fix, m) <= ARRIVED_M) tapArrived(arrive); // there by GPS
}

async function tapArrived(arrive) {
  if (arriving) return;
  arriving = true;
  $("relocation-arrived").disabled = true;
  $("relocation-error").textContent = "";
  try {
    await arrive();
  } catch (error) {
    $("relocation-error").textContent = error.message;
  } finally {
    arriving = false;
    $("relocation-arrived").disabled = false;
  }
}
