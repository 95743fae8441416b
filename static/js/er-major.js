// A major incident on the ER board (its own panel, #er-major): the patients of every active
// major incident allocated to this hospital, by START tag, where they are, and one tap to
// acknowledge each. Hospital staff only (the API refuses anyone else, and the panel stays hidden).
// It reads GET /api/hospital/major when the board's socket hears of a casualty (the
// "er:casualty" event from er-board.js) and every few seconds anyway; a newly allocated patient
// chimes.
"use strict";
import { $, escapeHtml, gettext, getJSON, interpolate, postJSON } from "./shared.js";
import { chime } from "./sound.js";

const POLL_MS = 10000;
const TAGS = ["red", "yellow", "green", "black"];
const TAG_SHORT = { red: gettext("Red tag"), yellow: gettext("Yellow tag"), green: gettext("Green tag"), black: gettext("Black tag") };
const WHERE = { at_scene: gettext("At the scene"), transporting: gettext("In an ambulance"), at_hospital: gettext("At hospital") };
const box = $("er-major");
let seen = null;
let refused = false;

async function read() {
  if (refused || !box) return;
  let majors;
  try {
    majors = await getJSON("/api/hospital/major");
  } catch (error) {
    if (error.status === 403) refused = true; // the control room's view of a board: not theirs
    return;
  }
  const ids = new Set(majors.flatMap((m) => m.casualties.map((c) => c.id)));
  if (seen && [...ids].some((id) => !seen.has(id))) chime("notice", 0.35);
  seen = ids;
  render(majors);
}

function render(majors) {
  box.hidden = majors.length === 0;
  box.innerHTML = majors.map((m) => {
    const rows = [...m.casualties].sort((a, b) => TAGS.indexOf(a.tag) - TAGS.indexOf(b.tag) || a.id - b.id);
    const counts = TAGS.filter((t) => m.counts[t]).map((t) => `<span class="mp-count tag-${t}">${escapeHtml(TAG_SHORT[t])} ${m.counts[t]}</span>`).join("");
    return `<article class="er-major-card" data-major="${m.id}">
      <h2>${escapeHtml(gettext("Major incident"))} ${escapeHtml(m.incident_number)} · ${escapeHtml(m.incident_type || "")}</h2>
      <p class="mp-counts">${escapeHtml(interpolate(gettext("%(n)s patients allocated here"), { n: rows.length }, true))} ${counts}</p>
      <ul class="mp-list">${rows.map((c) => `<li data-casualty="${c.id}">
        <span class="mp-chip tag-${c.tag}">${escapeHtml(c.tag_number)}</span>
        <span>${escapeHtml(WHERE[c.where] || c.where)}${c.unit ? ` · ${escapeHtml(c.unit)}` : ""}</span>
        ${c.acknowledged_at
          ? `<span class="acked">✓ ${escapeHtml(gettext("acknowledged"))}</span>`
          : `<button type="button" class="primary" data-ack="${c.id}">${escapeHtml(gettext("Acknowledge"))}</button>`}
      </li>`).join("")}</ul></article>`;
  }).join("");
}

if (box) {
  box.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-ack]");
    if (!button) return;
    button.disabled = true;
    try {
      await postJSON(`/api/major/casualties/${button.dataset.ack}/acknowledge`);
    } catch (error) {
      button.disabled = false;
      button.title = error.message;
    }
    read();
  });
  document.addEventListener("er:casualty", read);
  setInterval(read, POLL_MS);
  read();
}
