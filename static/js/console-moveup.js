// Move-up suggestions (dispatch/coverage/moveup.py): a small panel above the unit board with the
// open suggestion and the moves under way, read from /api/move-ups when the page opens and kept
// by the move_up.* events. Each says why ("东区 uncovered; T-ALS-1 to 东待命点, 6 min") and the
// coverage gained; G accepts the top one, Shift+G dismisses it, or a click. A new suggestion
// chimes. Accepting makes the unit relocating (still free for a job); the unit board says where
// it is heading, then where it waits once it has arrived.
"use strict";
import { $, KIND, LANG, escapeHtml, getJSON, gettext, interpolate, postJSON, typing } from "./shared.js";
import { chime } from "./sound.js";

const en = LANG === "en";
const moves = new Map(); // proposed and accepted, by id
let ctx = { units: new Map(), redraw: () => {}, errorText: (error) => error.message };

// context: { units (the console's Map of units by id), redraw(unit), errorText(error) }
export function setUpMoveUps(context) {
  ctx = { ...ctx, ...context };
  document.addEventListener("keydown", moveUpKeys);
  return loadMoveUps();
}

export async function loadMoveUps() {
  const rows = await getJSON("/api/move-ups");
  moves.clear();
  for (const row of rows) {
    if (row.state === "done") noteOnUnit(row, "available", false); // waiting where it was moved
    else moves.set(row.id, row);
    if (row.state === "accepted") noteOnUnit(row, "relocating", false);
  }
  render();
}

const siteName = (m) => (en && m.site_name_en) || m.site_name;
const minutes = (m) => (m.eta_s == null ? "?" : String(Math.max(1, Math.round(m.eta_s / 60))));
const percent = (share) => `${(100 * share).toFixed(1)}%`;

// Why, in one line: the district left uncovered, the unit, the site and the drive.
export function why(m) {
  return interpolate(gettext("%(district)s uncovered; %(unit)s to %(site)s, %(minutes)s min"), {
    district: m.district || gettext("part of the city"), unit: m.call_sign, site: siteName(m), minutes: minutes(m),
  }, true);
}

function gained(m) {
  return interpolate(gettext("expected uncovered demand %(before)s → %(after)s"),
    { before: percent(m.uncovered_before), after: percent(m.uncovered_after) }, true);
}

function sorted() {
  return [...moves.values()].sort((a, b) => (a.state === "proposed" ? 0 : 1) - (b.state === "proposed" ? 0 : 1)
    || Date.parse(b.proposed_at) - Date.parse(a.proposed_at));
}

const top = () => sorted().find((m) => m.state === "proposed");

function row(m, first) {
  const li = document.createElement("li");
  li.id = `move-up-${m.id}`;
  li.className = `move-up ${m.state}`;
  if (m.state === "proposed") {
    li.innerHTML = `<p class="move-why"><b>⇄</b> ${escapeHtml(why(m))}</p><p class="move-gain muted">${escapeHtml(gained(m))}</p>
      <p class="move-actions"><button type="button" class="primary" data-accept="${m.id}">${first ? "<kbd>G</kbd> " : ""}${gettext("Accept")}</button>
      <button type="button" data-dismiss="${m.id}">${first ? "<kbd>Shift</kbd>+<kbd>G</kbd> " : ""}${gettext("Dismiss")}</button>
      <span class="move-error error" role="alert"></span></p>`;
  } else {
    const text = interpolate(gettext("%(unit)s relocating to %(site)s (accepted by %(name)s)"),
      { unit: m.call_sign, site: siteName(m), name: m.decided_by || "—" }, true);
    li.innerHTML = `<p class="move-why">→ ${escapeHtml(text)}</p>`;
  }
  return li;
}

function render() {
  const panel = $("moveup-panel");
  if (!panel) return;
  const rows = sorted();
  panel.hidden = !rows.length;
  const list = document.createElement("ol");
  list.className = "move-ups";
  let first = true;
  for (const m of rows) {
    list.append(row(m, first && m.state === "proposed"));
    if (m.state === "proposed") first = false;
  }
  panel.replaceChildren(list);
  panel.querySelectorAll("[data-accept]").forEach((b) => (b.onclick = () => decide(Number(b.dataset.accept), "accept")));
  panel.querySelectorAll("[data-dismiss]").forEach((b) => (b.onclick = () => decide(Number(b.dataset.dismiss), "dismiss")));
}

async function decide(id, verb) {
  const li = $(`move-up-${id}`);
  li?.querySelectorAll("button").forEach((b) => (b.disabled = true));
  try {
    const m = await postJSON(`/api/move-ups/${id}/${verb}`);
    settle(m);
  } catch (error) {
    const line = li?.querySelector(".move-error");
    if (line) line.textContent = ctx.errorText(error);
    li?.querySelectorAll("button").forEach((b) => (b.disabled = false));
    if (error.status === 409) setTimeout(() => loadMoveUps().catch(() => {}), 1500); // decided elsewhere meanwhile
  }
}

function settle(m) {
  if (m.state === "proposed" || m.state === "accepted") moves.set(m.id, m);
  else moves.delete(m.id);
  render();
}

// The unit board says where a relocating unit is heading, and where it waits once there: a note
// kept for as long as the unit stays in that status (console-units.js unitLine). The move's own
// clock (decided when accepted, ended when arrived) is the moment the unit's status changed
// (dispatch/coverage/moveup.py writes both at once), so the note lapses with the next change,
// whether the board hears it or reads it.
function noteOnUnit(m, status, fromEvent) {
  const unit = ctx.units.get(m.unit);
  if (!unit) return;
  const since = status === "relocating" ? m.decided_at : m.ended_at;
  if (!since) return;
  if (fromEvent) { unit.status = status; unit.status_changed_at = since; }
  const text = status === "relocating"
    ? interpolate(gettext("to %(site)s"), { site: siteName(m) }, true)
    : interpolate(gettext("at %(site)s"), { site: siteName(m) }, true);
  unit.move_up = { at: since, text };
  if (status === "available" && fromEvent && m.lon != null) { unit.lon = m.lon; unit.lat = m.lat; }
  ctx.redraw(unit);
}

export function moveUpEvent(event) {
  const m = event.data || {};
  if (event.kind === KIND.MOVE_UP_PROPOSED) {
    moves.set(m.id, m);
    chime("notice");
    render();
  } else if (event.kind === KIND.MOVE_UP_ACCEPTED) {
    moves.set(m.id, m);
    noteOnUnit(m, "relocating", true);
    render();
  } else if (event.kind === KIND.MOVE_UP_ARRIVED) {
    moves.delete(m.id);
    noteOnUnit(m, "available", true);
    render();
  } else if ([KIND.MOVE_UP_DISMISSED, KIND.MOVE_UP_SUPERSEDED, KIND.MOVE_UP_CANCELLED].includes(event.kind)) {
    moves.delete(m.id);
    render();
  }
}

// G accepts the top suggestion, Shift+G dismisses it (no other console key uses G).
function moveUpKeys(event) {
  if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
  if (event.code !== "KeyG" || typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  const m = top();
  if (!m) return;
  event.preventDefault();
  decide(m.id, event.shiftKey ? "dismiss" : "accept");
}
