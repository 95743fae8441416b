// A major incident on the crew tablet (its own panel, #major-panel, in the job card): when the
// crew's job belongs to one, the four START tags as big buttons register a casualty with one tap
// (tag first, details later), the counts by tag and the casualties at the scene show, and the
// crew marks which ones it loads into its ambulance. Self-contained: it reads GET /api/major/mine
// every few seconds and when the tablet wakes. A registration keeps its client id until the
// server has it, so a retry after a dropped connection never registers a casualty twice.
"use strict";
import { $, answer, csrfToken, escapeHtml, gettext, interpolate } from "./shared.js";
import { newKey } from "./tablet-queue.js";

const POLL_MS = 5000;
const TAGS = ["red", "yellow", "green", "black"];
const TAG_SHORT = { red: gettext("Red tag"), yellow: gettext("Yellow tag"), green: gettext("Green tag"), black: gettext("Black tag") };
const box = $("major-panel");
const state = { mine: null, waiting: [], loading: new Set(), error: "" };

async function call(method, url, body) {
  return answer(await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  }));
}

async function read() {
  try {
    state.mine = await call("GET", "/api/major/mine");
    state.error = "";
  } catch { /* offline: the tablet says so; the panel keeps what it last had */ }
  render();
}

// Tap a tag: queued with its own id at once (shown as waiting), sent, and sent again until the
// server has it.
async function register(tag) {
  const major = state.mine?.major;
  if (!major) return;
  const item = { tag, client_id: `tablet-${newKey()}` };
  state.waiting.push(item);
  render();
  await flush(major.id);
}

async function flush(majorId) {
  for (const item of [...state.waiting]) {
    try {
      await call("POST", `/api/major/${majorId}/casualties`, item);
      state.waiting = state.waiting.filter((w) => w !== item);
    } catch (error) {
      if (error.status && error.status < 500) { // refused for good: say why, drop it
        state.waiting = state.waiting.filter((w) => w !== item);
        state.error = error.message;
      } else {
        state.error = gettext("No network: the casualty is kept and sent when there is signal.");
        break;
      }
    }
  }
  await read();
}

async function load() {
  const major = state.mine?.major;
  if (!major || !state.loading.size) return;
  try {
    await call("POST", `/api/major/${major.id}/transport`, {
      assignment: state.mine.assignment, casualties: [...state.loading],
    });
    state.loading.clear();
    state.error = "";
  } catch (error) {
    state.error = error.message;
  }
  await read();
}

function render() {
  const major = state.mine?.major;
  box.hidden = !major;
  if (!major) return;
  const counts = TAGS.map((t) => `<span class="mp-count tag-${t}">${escapeHtml(TAG_SHORT[t])} ${major.counts[t]?.total ?? 0}</span>`).join("");
  const atScene = major.casualties.filter((c) => c.where === "at_scene" && c.tag !== "black")
    .sort((a, b) => TAGS.indexOf(a.tag) - TAGS.indexOf(b.tag) || a.id - b.id);
  const rows = atScene.map((c) => `<li><label>
      <input type="checkbox" data-casualty="${c.id}"${state.loading.has(c.id) ? " checked" : ""}>
      <span class="mp-chip tag-${c.tag}">${escapeHtml(c.tag_number)}</span>
      <span>${escapeHtml(c.hospital_name || gettext("no hospital yet"))}</span></label></li>`).join("");
  box.innerHTML = `
    <p class="mp-title"><b>${escapeHtml(gettext("Major incident"))}</b> ${escapeHtml(major.incident_number)}
      ${major.command_unit ? `<small class="muted">${escapeHtml(interpolate(gettext("in command: %(unit)s"), { unit: major.command_unit }, true))}</small>` : ""}</p>
    <div class="mp-counts">${counts}</div>
    <div class="mp-tags">${TAGS.map((t) => `<button type="button" class="mp-tag tag-${t}" data-tag="${t}">${escapeHtml(TAG_SHORT[t])}</button>`).join("")}</div>
    ${state.waiting.length ? `<p class="mp-waiting">${escapeHtml(interpolate(gettext("%(n)s waiting to be sent"), { n: state.waiting.length }, true))}</p>` : ""}
    ${atScene.length ? `<ul class="mp-list">${rows}</ul>
      <button type="button" class="t-button primary" id="mp-load"${state.loading.size ? "" : " disabled"}>${escapeHtml(interpolate(gettext("Loaded into this ambulance (%(n)s)"), { n: state.loading.size }, true))}</button>` : ""}
    <p class="error" role="alert">${escapeHtml(state.error)}</p>`;
}

if (box) {
  box.addEventListener("click", (event) => {
    const tag = event.target.closest("[data-tag]");
    if (tag) register(tag.dataset.tag);
    if (event.target.id === "mp-load") load();
  });
  box.addEventListener("change", (event) => {
    const id = Number(event.target.dataset.casualty);
    if (!id) return;
    if (event.target.checked) state.loading.add(id); else state.loading.delete(id);
    render();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) read(); });
  window.addEventListener("online", () => (state.mine?.major ? flush(state.mine.major.id) : read()));
  setInterval(read, POLL_MS);
  read();
}
