// What every page script shares: the element lookup, HTML escaping, the page's words (Django's
// JavaScript catalogue), times in the centre's time zone, priority labels, JSON over fetch with
// the CSRF token, and the server's catalogue of event kinds.
"use strict";

export const $ = (id) => document.getElementById(id);

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// An element's HTML is set again only when it changed: setting it replaces the buttons inside,
// and a tap that lands while they are being replaced is lost. Boards read themselves again on
// every event (an acknowledgement's own event follows its answer by a moment, a socket's resync
// follows the first read), mostly to find nothing changed.
const drawn = new WeakMap();
export function redraw(element, html) {
  if (drawn.get(element) === html) return;
  element.innerHTML = html;
  drawn.set(element, html);
}

// Whether a key pressed on this element is typed into it. A radio, a checkbox or a button takes
// no text, so a shortcut pressed after clicking one (a board filter, say) still works.
const KEYLESS_INPUTS = ["radio", "checkbox", "button", "submit", "reset"];
export function typing(target) {
  if (target.tagName === "INPUT") return !KEYLESS_INPUTS.includes(target.type);
  return ["TEXTAREA", "SELECT"].includes(target.tagName) || Boolean(target.isContentEditable);
}

// ---------------------------------------------------------------- words

// The page's language (templates/base.html sets it from Django's LocaleMiddleware).
export const LANG = document.documentElement.lang || "zh-hans";

// /jsi18n/ (loaded by templates/base.html before any module) defines django.gettext and the rest
// in the page's language. Without it (a tablet offline that never kept a copy) the page still
// works, in English: the message ids are the English text.
const catalogue = globalThis.django?.gettext ? globalThis.django : null;

export const gettext = catalogue ? catalogue.gettext : (msgid) => msgid;
export const ngettext = catalogue ? catalogue.ngettext : (singular, plural, count) => (count === 1 ? singular : plural);
export const pgettext = catalogue ? catalogue.pgettext : (context, msgid) => msgid;
// Named placeholders only: interpolate(gettext("%(n)s waiting"), { n: 3 }, true).
export const interpolate = catalogue
  ? catalogue.interpolate
  : (format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

export const PRIORITY = {
  1: gettext("I Critical"),
  2: gettext("II Emergency"),
  3: gettext("III Urgent"),
  4: gettext("IV Non-urgent"),
};

export const SEX = { M: gettext("male"), F: gettext("female") };

export const ageText = (age) => interpolate(gettext("%(age)s y"), { age }, true);

// ---------------------------------------------------------------- times

// Intl's locale for the page language: en-GB keeps the 24-hour clock and day-month order.
const INTL_LOCALE = { en: "en-GB", "zh-hans": "zh-CN" }[LANG] || LANG;

// A formatter of times in the centre's time zone (the page config's time_zone, settings.TIME_ZONE),
// whatever the device's own zone is: HH:MM, with `seconds` HH:MM:SS, with `day` the date first.
// It takes a Date or an ISO string.
export function centreTime(timeZone, { seconds = false, day = false } = {}) {
  const format = new Intl.DateTimeFormat(INTL_LOCALE, {
    timeZone,
    ...(day ? { year: "numeric", month: "2-digit", day: "2-digit" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hour12: false,
  });
  return (when) => format.format(when instanceof Date ? when : new Date(when));
}

// ---------------------------------------------------------------- JSON over fetch

// The session cookie goes with every request; a POST carries Django's CSRF token. The API answers
// errors as JSON with a message and a code: the Error carries both (and the HTTP status).
export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1];
  return cookie || document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

export async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.code = body?.code || "";
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function getJSON(url) {
  return answer(await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }));
}

export async function postJSON(url, body = {}) {
  return answer(await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  }));
}

// A read of a screen's picture, one at a time: asked for while one is in flight, it runs exactly
// once more after it (however often it was asked), and that promise is what the asker gets. An
// event that arrives during a read may describe a change the read started too early to see;
// dropping the ask would leave the screen one change behind until the next event, which in a
// quiet minute never comes. `read.busy()`: whether a read is in flight or asked for after it (an
// answer still to come that may predate what the screen learnt meanwhile).
export function oneReadAtATime(readOnce) {
  let running = null;
  let queued = null;
  function read() {
    if (queued) return queued;
    if (running) {
      queued = running.catch(() => {}).then(() => { queued = null; return read(); });
      return queued;
    }
    running = (async () => {
      try { return await readOnce(); } finally { running = null; }
    })();
    return running;
  }
  read.busy = () => Boolean(running || queued);
  return read;
}

// ---------------------------------------------------------------- event kinds

// The server's one catalogue (dispatch/core/event_kinds.py, the `event-kinds` JSON of
// templates/base.html; docs/architecture.md, "The event log and the live socket"):
// KIND.NOTICE_ACKNOWLEDGED is "notice.acknowledged", and each kind's timeline label is in the
// page's language. A name the catalogue lacks throws at once, so a typo
// or a kind the server dropped cannot silently match nothing.
const eventKinds = JSON.parse(document.getElementById("event-kinds")?.textContent || '{"kinds": {}, "labels": {}}');

export const KIND = new Proxy(Object.freeze({ ...eventKinds.kinds }), {
  get(kinds, name) {
    if (typeof name === "string" && /^[A-Z][A-Z_]*$/.test(name) && !(name in kinds)) {
      throw new Error(`No event kind ${name} in the server's catalogue`);
    }
    return kinds[name];
  },
});

export function eventLabel(kind) {
  return eventKinds.labels[kind] || kind;
}
