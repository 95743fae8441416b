// Major incidents (群体伤) on the console: which open incidents are major ones (a badge in the
// list and the detail, with a link to the casualty board), declaring one on the incident shown
// (its button, or Q: a dialog with the level chosen from the reported patients the way the rule
// does, dispatch/major/rules.py, and the confirmation), and their scenes on the console's map
// (major-map.js). Kept current by the major.* events of the socket.
"use strict";
import { escapeHtml, getJSON, gettext, interpolate, oneReadAtATime, pgettext, postJSON } from "./shared.js";
import { chooseIn } from "./console-dialogs.js";
import { LEVEL_ROMAN, MajorLayer } from "./major-map.js";

const majors = new Map(); // incident id → its active major incident
let layer = null;
let config = { levels: [], floors: [] };
let changed = () => {};

// config: { levels: [{value, label}], floors: [[patients, level], ...] } (the console page's);
// onChange: the list and the detail drawn again.
export function setUpMajors(map, { levels, floors }, onChange) {
  layer = new MajorLayer(map);
  config = { levels: levels || [], floors: floors || [] };
  changed = onChange;
}

export const majorOf = (incidentId) => majors.get(incidentId) || null;

export const loadMajors = oneReadAtATime(async () => {
  const rows = await getJSON("/api/major");
  majors.clear();
  for (const m of rows) majors.set(m.incident, m);
  layer?.draw(rows);
  changed();
});

// The level the rule gives this many patients (the gravest whose floor it reaches).
export function ruleLevel(patients) {
  const floors = [...config.floors].sort((a, b) => b[0] - a[0]);
  return (floors.find(([floor]) => (patients || 0) >= floor) || [0, 4])[1];
}

// The badge the list and the detail show on a major incident.
export function majorBadge(incidentId, { link = false } = {}) {
  const m = majors.get(incidentId);
  if (!m) return "";
  const text = `${escapeHtml(pgettext("badge", "Major incident"))} ${LEVEL_ROMAN[m.level] || ""}`;
  const badge = `<span class="major-badge level-${m.level}" data-major="${m.id}">${text}</span>`;
  return link ? `${badge} <a class="major-board-link" href="/major/${m.id}/" target="_blank" rel="noopener">${escapeHtml(gettext("Casualty board"))} ↗</a>` : badge;
}

// Declare the incident a major incident: the level first (the rule's for its patients chosen),
// then Enter declares. The server's refusal (already declared, closed) stays in the dialog.
export async function declareMajor(incident) {
  if (!incident || incident.status !== "open" || majors.has(incident.id)) return null;
  const patients = incident.patient_count || 1;
  const suggested = ruleLevel(patients);
  const levels = config.levels.map((l) => ({
    value: l.value, label: l.label, checked: l.value === suggested,
    note: l.value === suggested ? gettext("what the rule gives the patients reported") : "",
  }));
  const intro = [
    `<b>${escapeHtml(incident.number)}</b> · ${escapeHtml(incident.chief_complaint || "—")} · ${escapeHtml(incident.address || "—")}`,
    escapeHtml(interpolate(gettext("Patients reported: %(n)s."), { n: patients }, true)),
    escapeHtml(gettext("Declaring alerts the supervisor and the notification list (SMS) and opens the casualty board.")),
  ].join("<br>");
  const major = await chooseIn({
    title: interpolate(gettext("Declare %(number)s a major incident"), { number: incident.number }, true),
    intro,
    choices: levels,
    confirm: gettext("Declare major incident"),
    apply: async ({ choice }) => {
      try {
        return await postJSON(`/api/incidents/${incident.id}/major`, { level: choice.value });
      } catch (error) {
        if (error.status === 409) loadMajors().catch(() => {}); // declared meanwhile: the badge shows it
        throw error;
      }
    },
  });
  if (major) {
    majors.set(major.incident, major);
    layer?.draw([...majors.values()]);
    changed();
  }
  return major;
}
