// An incident's details, typed at any time while it is open: the caller's and the patient's
// names, sex, age and count, where inside the address (building, entrance, floor, room), how to
// get in, hazards, and the dispatcher's notes (the crew tablet shows them as "Dispatcher notes").
// Each field is saved when it is left (Tab, Enter, a click elsewhere); Ctrl+Enter saves the
// notes. What the dispatcher is typing is never overwritten by a change arriving from elsewhere.
"use strict";
import { escapeHtml, gettext, interpolate, postJSON as post } from "./shared.js";
import { errorText } from "./console-dialogs.js";

export const FIELDS = [
  { name: "caller_name", label: gettext("Caller's name"), max: 60 },
  { name: "patient_name", label: gettext("Patient's name"), max: 60 },
  { name: "patient_sex", label: gettext("Sex"), kind: "sex" },
  { name: "patient_age", label: gettext("Age"), kind: "number", min: 0, max: 150 },
  { name: "patient_count", label: gettext("Patients"), kind: "number", min: 1, max: 150 },
  { name: "address_building", label: gettext("Building"), max: 30, group: "where" },
  { name: "address_unit", label: gettext("Entrance"), max: 30, group: "where" },
  { name: "address_floor", label: gettext("Floor"), max: 30, group: "where" },
  { name: "address_room", label: gettext("Room"), max: 30, group: "where" },
  { name: "access_notes", label: gettext("Access (gate code, lift, who meets the crew)"), max: 500, wide: true },
  { name: "hazards", label: gettext("Hazards (dog, violence, gas, fire...)"), max: 500, wide: true },
  { name: "notes", label: gettext("Dispatcher notes"), kind: "notes", max: 4000 },
];
const BY_NAME = new Map(FIELDS.map((f) => [f.name, f]));

function control(field, id) {
  const common = `id="${id}-${field.name}" name="${field.name}" data-detail="${field.name}"`;
  if (field.kind === "sex") {
    return `<select ${common}><option value="">—</option><option value="M">${gettext("male")}</option>` +
      `<option value="F">${gettext("female")}</option></select>`;
  }
  if (field.kind === "number") return `<input ${common} type="number" inputmode="numeric" min="${field.min}" max="${field.max}" step="1">`;
  if (field.kind === "notes") return `<textarea ${common} rows="3" maxlength="${field.max}"></textarea>`;
  return `<input ${common} maxlength="${field.max}" autocomplete="off">`;
}

function cell(field, id) {
  const size = field.kind === "number" || field.kind === "sex" ? "narrow" : field.wide ? "wide" : field.kind === "notes" ? "full" : "";
  return `<label class="detail-field ${size}" for="${id}-${field.name}">${escapeHtml(field.label)}${control(field, id)}</label>`;
}

// The value as the API takes it; undefined when the typed value cannot be sent (with why).
function valueOf(element, field) {
  if (field.kind !== "number") return { value: element.value.trim() };
  if (element.value.trim() === "") {
    return field.min === 0 ? { value: null } : { error: interpolate(gettext("%(field)s: at least %(min)s."), { field: field.label, min: field.min }, true) };
  }
  const n = Number(element.value);
  if (!Number.isInteger(n) || n < field.min || n > field.max) {
    return { error: interpolate(gettext("%(field)s must be a whole number from %(least)s to %(most)s."), { field: field.label, least: field.min, most: field.max }, true) };
  }
  return { value: n };
}

const shown = (value) => (value == null ? "" : String(value));

export class DetailsEditor {
  // `incident()` is the record the fields belong to (null before there is one); `ensure()` opens
  // it on the first thing typed (it is called at once, so the record is the one on screen when
  // the field was left, and answers a promise of it); `saved(incident)` hears each answer.
  constructor(container, { id, incident, ensure, saved }) {
    this.container = container;
    this.incident = incident;
    this.ensure = ensure || (async () => incident());
    this.saved = saved || (() => {});
    this.queue = Promise.resolve();
    this.pending = new Map(); // field -> the value sent and not yet answered
    const main = FIELDS.filter((f) => !f.group && !f.wide && f.kind !== "notes");
    const where = FIELDS.filter((f) => f.group === "where");
    const wide = FIELDS.filter((f) => f.wide);
    const notes = FIELDS.filter((f) => f.kind === "notes");
    container.innerHTML = `<div class="details-grid">
        <div class="details-row">${main.map((f) => cell(f, id)).join("")}</div>
        <div class="details-row">${where.map((f) => cell(f, id)).join("")}</div>
        <div class="details-row">${wide.map((f) => cell(f, id)).join("")}</div>
        <div class="details-row">${notes.map((f) => cell(f, id)).join("")}</div></div>
      <p class="details-state muted" aria-live="polite"></p>`;
    this.state = container.querySelector(".details-state");
    container.addEventListener("change", (event) => {
      const name = event.target.dataset?.detail;
      if (name) this.save([name]);
    });
    container.addEventListener("keydown", (event) => {
      if (!event.target.dataset?.detail || event.isComposing) return;
      if (event.key === "Enter" && event.target.tagName === "TEXTAREA" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.save([event.target.dataset.detail]);
      } else if (event.key === "Enter" && event.target.tagName !== "TEXTAREA") {
        // Enter saves and moves on, as Tab does: it never submits the form around (a unit is
        // sent by Enter on the intake, never from a details field).
        event.preventDefault();
        event.stopPropagation();
        const fields = this.elements();
        const next = fields[fields.indexOf(event.target) + 1];
        this.save([event.target.dataset.detail]);
        next?.focus();
      }
    });
  }

  elements() {
    return [...this.container.querySelectorAll("[data-detail]")];
  }

  element(name) {
    return this.container.querySelector(`[data-detail="${name}"]`);
  }

  // Show the record's values, except in a field being typed in or waiting for its answer.
  fill(incident, { editable = true } = {}) {
    for (const el of this.elements()) {
      const name = el.dataset.detail;
      el.disabled = !editable;
      if (!incident || el === document.activeElement || this.pending.has(name) || el.dataset.dirty) continue;
      el.value = shown(incident[name]);
    }
  }

  clear() {
    for (const el of this.elements()) { el.value = ""; delete el.dataset.dirty; el.disabled = false; }
    this.pending.clear();
    this.state.textContent = "";
    this.state.className = "details-state muted";
  }

  // Whether anything typed here differs from the record (the intake asks before discarding).
  typed() {
    const incident = this.incident();
    return this.elements().some((el) => el.value.trim() !== shown(incident?.[el.dataset.detail]).trim());
  }

  // While the intake asks whether to discard the call, leaving a field (the question takes the
  // focus) must not open a record: what was typed waits, marked, for the answer.
  hold(held) {
    this.held = held;
  }

  save(names) {
    if (this.held) {
      for (const name of names) this.element(name).dataset.dirty = "1";
      return this.queue;
    }
    const body = {};
    for (const name of names) {
      const el = this.element(name);
      const { value, error } = valueOf(el, BY_NAME.get(name));
      if (error) { this.say(error, true); el.dataset.dirty = "1"; return this.queue; }
      if (this.pending.has(name) && this.pending.get(name) === value) continue; // on its way
      const incident = this.incident();
      if (!this.pending.has(name) && shown(incident?.[name]).trim() === shown(value)) { delete el.dataset.dirty; continue; }
      body[name] = value;
    }
    if (!Object.keys(body).length) return this.queue;
    for (const [name, value] of Object.entries(body)) { this.pending.set(name, value); this.element(name).dataset.dirty = "1"; }
    this.say(gettext("Saving…"));
    const record = this.ensure();
    record.catch(() => {}); // answered in the queue below
    // One at a time, in order: a later value must not be overtaken by an earlier one.
    this.queue = this.queue.then(async () => {
      try {
        const incident = await record;
        const answer = await post(`/api/incidents/${incident.id}/details`, body);
        for (const name of Object.keys(body)) {
          if (this.pending.get(name) === body[name]) this.pending.delete(name);
          const el = this.element(name);
          if (el && shown(answer[name]) === shown(valueOf(el, BY_NAME.get(name)).value)) delete el.dataset.dirty;
        }
        this.saved(answer);
        this.say(`✓ ${gettext("Details saved")}`);
      } catch (error) {
        for (const name of Object.keys(body)) if (this.pending.get(name) === body[name]) this.pending.delete(name);
        this.say(errorText(error), true);
      }
    });
    return this.queue;
  }

  // Save whatever is typed and not yet saved (before the intake closes or a unit is sent).
  flush() {
    const names = this.elements().filter((el) => el.dataset.dirty || el === document.activeElement).map((el) => el.dataset.detail);
    return names.length ? this.save(names) : this.queue;
  }

  say(text, error = false) {
    this.state.textContent = text;
    this.state.className = `details-state ${error ? "error" : "muted"}`;
  }

  focus() {
    this.elements().find((el) => !el.disabled)?.focus();
  }
}

// One line of what is filled in, for the folded intake section and the crew's summary.
export function detailsSummary(incident) {
  if (!incident) return "";
  const sex = { M: gettext("male"), F: gettext("female") }[incident.patient_sex] || "";
  const patient = [incident.patient_name, sex, incident.patient_age != null ? interpolate(gettext("%(age)s y"), { age: incident.patient_age }, true) : ""].filter(Boolean).join(" ");
  const where = ["address_building", "address_unit", "address_floor", "address_room"].map((n) => incident[n]).filter(Boolean).join(" / ");
  return [patient, where, incident.hazards ? `⚠ ${incident.hazards}` : ""].filter(Boolean).join(" · ");
}
