// The console's dialogs of choices: standing a unit down, redirecting it, sending another unit
// instead, reopening an incident. One at a time, keyboard first: 1-9 pick a choice, Enter
// confirms, Esc cancels. The change is made from inside the dialog, which stays open with the
// server's refusal (in the user's language) until it is accepted or cancelled.
"use strict";
import { $, escapeHtml, gettext } from "./shared.js";

const dialog = () => $("choice-dialog");

// Shown when the server refuses the input itself (422 "invalid"): its field names are the API's,
// so the words come from here.
export function errorText(error) {
  if (error?.code === "invalid") return gettext("The server refused what was typed as not valid: check it and try again.");
  return error?.message || String(error);
}

// Open the dialog and resolve with what `apply` answered, or null when cancelled.
// choices: [{ value, label, note?, disabled?, checked? (chosen already: Enter takes it) }]; text: { label, required?, maxlength?, placeholder? } or null;
// need: "choice" (a choice), "either" (a choice or the text), "both" (a choice and the text).
export function chooseIn({ title, intro = "", choices = [], text = null, need = "choice", confirm, apply }) {
  const box = dialog();
  const listId = "choice-list";
  box.innerHTML = `<form class="choice-form" novalidate>
      <h2>${escapeHtml(title)}</h2>
      ${intro ? `<p class="intro">${intro}</p>` : ""}
      ${choices.length ? `<ol class="choices" id="${listId}" role="radiogroup" aria-label="${escapeHtml(title)}">${choices.map((c, i) => `
        <li><label class="${c.disabled ? "disabled" : ""}"><input type="radio" name="choice" value="${i}" ${c.disabled ? "disabled" : ""}${c.checked && !c.disabled ? " checked" : ""}>
          ${i < 9 ? `<kbd>${i + 1}</kbd>` : "<span class='kbd-space'></span>"} <span class="choice-label">${escapeHtml(c.label)}</span>
          ${c.note ? `<small class="muted">${escapeHtml(c.note)}</small>` : ""}</label></li>`).join("")}</ol>` : ""}
      ${text ? `<label class="choice-text">${escapeHtml(text.label)}
        <input name="text" maxlength="${text.maxlength || 200}" placeholder="${escapeHtml(text.placeholder || "")}" autocomplete="off"></label>` : ""}
      <p class="error" role="alert"></p>
      <div class="row dialog-buttons">
        <button type="button" class="cancel">${gettext("Cancel")} <kbd>Esc</kbd></button>
        <button type="submit" class="primary">${escapeHtml(confirm)} <kbd>Enter</kbd></button>
      </div></form>`;
  const form = box.querySelector("form");
  const radios = [...form.querySelectorAll("input[name=choice]")];
  const input = form.elements.text;
  const error = form.querySelector(".error");
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      if (box.open) box.close();
      if (opener?.isConnected) opener.focus({ preventScroll: true });
      resolve(value);
    };
    // The close event comes a moment later: the next dialog of the same action may already be open.
    box.onclose = () => { if (!box.open) finish(null); };
    form.querySelector(".cancel").onclick = () => finish(null);
    form.addEventListener("keydown", (event) => {
      // A digit picks a choice, unless the dispatcher is typing the text.
      if (event.target !== input && /^[1-9]$/.test(event.key) && !event.altKey && !event.ctrlKey && !event.metaKey) {
        const radio = radios[Number(event.key) - 1];
        if (radio && !radio.disabled) { radio.checked = true; radio.focus(); error.textContent = ""; }
        event.preventDefault();
      }
    });
    form.onsubmit = async (event) => {
      event.preventDefault();
      const picked = radios.find((r) => r.checked);
      const choice = picked ? choices[Number(picked.value)] : null;
      const typed = input ? input.value.trim() : "";
      const missing = (need === "choice" && !choice) || (need === "either" && !choice && !typed)
        || (need === "both" && (!choice || !typed));
      if (missing) {
        error.textContent = need === "either" ? gettext("Choose one, or type it.")
          : !choice && choices.length ? gettext("Choose one first (keys 1-9).") : gettext("Type the reason.");
        ((!choice && radios.find((r) => !r.disabled)) || input)?.focus();
        return;
      }
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        finish(await apply({ choice, text: typed }));
      } catch (failure) {
        error.textContent = errorText(failure);
        submit.disabled = false;
      }
    };
    box.showModal();
    (radios.find((r) => r.checked) || radios.find((r) => !r.disabled) || input || form.querySelector("button[type=submit]"))?.focus();
  });
}

// The reason a unit is stood down: the common ones, in the page's language (that is what the
// record and every timeline then say), or the dispatcher's own words.
export const STAND_DOWN_REASONS = [
  gettext("Caller cancelled"),
  gettext("Patient taken to hospital by other means"),
  gettext("Another unit is closer"),
  gettext("Repeat call: already being handled"),
  gettext("No patient found at the scene"),
  gettext("Unit fault or accident on the way"),
];

export const REOPEN_REASONS = [
  gettext("Caller rang back: the patient needs help"),
  gettext("Closed by mistake"),
  gettext("Not a duplicate after all"),
];

// Combine a common reason and the dispatcher's words into the one line the record keeps.
export function reasonLine(choice, text) {
  return [choice?.label, text].filter(Boolean).join(": ").slice(0, 200);
}
