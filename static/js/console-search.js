// Find any incident, open or closed: by its number, the caller's phone, the address or a name,
// within a time range. F opens the search; typing searches; ↓/↑ walk the results, Enter opens
// one in the console's detail (where a closed one can be reopened).
"use strict";
import { $, PRIORITY, escapeHtml, getJSON, gettext, interpolate, pgettext } from "./shared.js";
import { errorText } from "./console-dialogs.js";

let asked = 0;
let timer = null;
let openIncident = () => {};
let timeText = (iso) => iso;
let outcomeText = (code) => code;

function form() {
  return $("search-form");
}

function params() {
  const f = form().elements;
  const query = new URLSearchParams({ limit: "50", status: f.status.value });
  if (f.q.value.trim()) query.set("q", f.q.value.trim());
  if (f.since.value) query.set("since", f.since.value);
  if (f.until.value) query.set("until", f.until.value);
  return query;
}

function statusText(row) {
  if (row.status === "open") return pgettext("incident status", "open");
  return row.outcome ? outcomeText(row.outcome) : pgettext("incident status", "closed");
}

function render(rows) {
  const list = $("search-results");
  $("search-count").textContent = rows.length >= 50
    ? gettext("The first 50: narrow the search to see others.")
    : interpolate(gettext("%(count)s found"), { count: rows.length }, true);
  list.replaceChildren(...rows.map((row) => {
    const li = document.createElement("li");
    li.innerHTML = `<button type="button" class="found ${row.status === "open" ? "open" : "closed"}" data-id="${row.id}">
      <span class="num">${escapeHtml(row.number)}</span>
      <span class="when">${escapeHtml(timeText(row.created_at))}</span>
      <span class="state">${escapeHtml(statusText(row))}</span>
      <span class="prio-badge p${row.priority || 0}">${row.priority ? PRIORITY[row.priority] : "—"}</span>
      <b>${escapeHtml(row.chief_complaint || gettext("(no complaint yet)"))}</b>
      <span class="where">${escapeHtml(row.address || gettext("Location unknown"))}</span>
      <span class="who muted">☎ ${escapeHtml(row.caller_number || "—")}${row.caller_name ? ` ${escapeHtml(row.caller_name)}` : ""}${row.patient_name ? ` · ${escapeHtml(row.patient_name)}` : ""}</span>
    </button>`;
    return li;
  }));
}

async function search() {
  const mine = ++asked;
  $("search-error").textContent = "";
  try {
    const rows = await getJSON(`/api/incidents/search?${params()}`);
    if (mine === asked) render(rows);
  } catch (error) {
    if (mine === asked) { $("search-error").textContent = errorText(error); render([]); }
  }
}

function results() {
  return [...$("search-results").querySelectorAll("button.found")];
}

function pick(button) {
  $("search-dialog").close();
  openIncident(Number(button.dataset.id));
}

export function openSearch() {
  const box = $("search-dialog");
  if (!box.open) box.showModal();
  form().elements.q.focus();
  form().elements.q.select();
  search();
}

export function setUpSearch({ open, time, outcome }) {
  openIncident = open;
  timeText = time;
  outcomeText = outcome;
  const f = form();
  f.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  f.addEventListener("change", (event) => { if (event.target.name !== "q") search(); });
  f.onsubmit = async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    await search();
    results()[0]?.focus();
  };
  $("search-results").addEventListener("click", (event) => {
    const button = event.target.closest("button.found");
    if (button) pick(button);
  });
  $("search-dialog").addEventListener("keydown", (event) => {
    const rows = results();
    const at = rows.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && rows.length) {
      event.preventDefault();
      rows[Math.min(at + 1, rows.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? f.elements.q : rows[at - 1]).focus();
    }
  });
  $("search-close").onclick = () => $("search-dialog").close();
}
