// The list of active major incidents (templates/major_list.html) and declaring one on an open
// incident: the board of the new one opens at once.
"use strict";
import { $, escapeHtml, gettext, interpolate, postJSON } from "./shared.js";

const config = JSON.parse($("major-list-config").textContent);

function levelLabel(value) {
  return config.levels.find((l) => l.value === value)?.label || String(value);
}

function renderActive() {
  $("major-active").innerHTML = config.active.map((m) => `
    <li class="major-card level-${m.level}">
      <a href="/major/${m.id}/">
        <b>${escapeHtml(levelLabel(m.level))}</b> ${escapeHtml(m.incident_number)}
        <span>${escapeHtml(m.sitrep.incident_type || "—")} · ${escapeHtml(m.sitrep.exact_location || "—")}</span>
        <span class="muted">${escapeHtml(interpolate(gettext("%(n)s casualties reported"), { n: m.sitrep.casualties_reported ?? "?" }, true))}</span>
      </a>
    </li>`).join("");
  $("major-none").hidden = config.active.length > 0;
}

function fillDeclareForm() {
  const incident = $("declare-incident");
  if (!incident) return;
  incident.innerHTML = config.open_incidents.length
    ? config.open_incidents.map((i) => `<option value="${i.id}">${escapeHtml(i.number)} · ${escapeHtml(i.chief_complaint || "—")} · ${escapeHtml(i.address || "—")} · ${escapeHtml(interpolate(gettext("%(n)s patients"), { n: i.patient_count }, true))}</option>`).join("")
    : `<option value="">${escapeHtml(gettext("No open incident"))}</option>`;
  $("declare-level").innerHTML = config.levels.map((l) => `<option value="${l.value}"${l.value === 3 ? " selected" : ""}>${escapeHtml(l.label)}</option>`).join("");
  $("declare-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("declare-error");
    error.hidden = true;
    const count = $("declare-count").value;
    try {
      const major = await postJSON(`/api/incidents/${incident.value}/major`, {
        level: Number($("declare-level").value),
        casualties_reported: count === "" ? null : Number(count),
      });
      location.assign(`/major/${major.id}/`);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

renderActive();
fillDeclareForm();
