// The tablet's service worker (served as /tablet/sw.js, so it controls the tablet page only).
// The page and what it last read stay on the tablet: a crew whose tablet restarts in a tunnel or
// a hospital basement still sees its job, and its taps wait in the outbox (tablet-queue.js) until
// the network is back. Network first, always: online the crew sees the server's state, never an
// old copy; a copy is served only when the server cannot be reached, marked X-Tablet-Copy so the
// page says it is offline. Writes never pass through here: the outbox owns them.
// (docs/architecture.md, "Offline tablet".)
//
// The copies hold patient data, so they are kept no longer than they are needed:
// - they are the signed-in user's only. Each copy is stamped with who was signed in when it was
//   read (a digest of the CSRF cookie, which Django renews at every sign-in; the session cookie
//   itself is HttpOnly and out of a worker's reach) and is served only while the same sign-in
//   holds: a second crew member signing in on this tablet is never shown the first one's job,
//   even offline, and the first one's copies are deleted. Without the Cookie Store API there is
//   no telling who is signed in, and no personal copy is served;
// - the job and patient answers (/api/) go when the crew's shift ends (the page says so: message
//   "shift-ended") and whenever the worker starts or serves and finds them older than a shift
//   (the crew's sign-in lifetime, settings.SESSION_HOURS_BY_ROLE, from the page's config);
// - everything goes at sign-out (message "forget", and Clear-Site-Data from the server).
//
// Cache-Control: no-store. The API answers say no-store (dispatch/core/privacy.py), which keeps
// them out of the browser's HTTP cache and any proxy. It does not govern Cache Storage: the
// worker puts the answer there itself (cache.put ignores caching headers), deliberately, under
// the rules above, which the HTTP cache could not keep. A copy served back keeps its no-store, so
// nothing downstream keeps it either. (tests/crew/test_tablet_signout_browser.py reads a job
// offline from an answer that said no-store.)
"use strict";

const PARAMS = new URL(self.location.href).searchParams;
const USER = PARAMS.get("user") || "";
const CACHE = `tablet-${USER}`;
const SHIFT_MS = Math.max(0, Number(PARAMS.get("hours")) || 0) * 3600 * 1000;
const TIMEOUT_MS = 6000;
// What the tablet reads: its page, files and words (the JavaScript catalogue), its job, messages,
// units, routes and roads.
const KEPT = [
  /^\/tablet\/$/,
  /^\/static\//,
  /^\/jsi18n\/$/,
  /^\/api\/crew\/(assignment|messages|units)$/,
  /^\/api\/crew\/assignments\/\d+(\/recommendation)?$/,
  /^\/api\/roads(\/route)?$/,
];
// Whose copies these are: the page (it names the user) and every answer of the API.
const PERSONAL = [/^\/tablet\/$/, /^\/api\//];
// What a shift's end takes away: the job, the patient, the messages (every answer of the API).
const PATIENT_DATA = /^\/api\//;
const OWNER = "X-Tablet-Owner";
const KEPT_AT = "X-Tablet-Kept";

const personal = (url) => PERSONAL.some((pattern) => pattern.test(new URL(url).pathname));

// Who is signed in now: a digest of the CSRF cookie (null when it cannot be read).
async function signedIn() {
  try {
    const cookie = await self.cookieStore?.get("csrftoken");
    if (!cookie?.value) return null;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(cookie.value));
    return [...new Uint8Array(digest)].slice(0, 16).map((b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    return null;
  }
}

const expired = (copy) => !(Date.now() - Number(copy.headers.get(KEPT_AT) || 0) < SHIFT_MS);

// Delete the copies `drop(request, copy)` names, in every tablet cache.
async function forget(drop) {
  for (const name of await caches.keys()) {
    if (!name.startsWith("tablet-")) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const copy = await cache.match(request);
      if (!copy || (await drop(request, copy))) await cache.delete(request);
    }
  }
}

const forgetPatientData = () => forget((request) => PATIENT_DATA.test(new URL(request.url).pathname));

// What nobody may be shown any more: another sign-in's copies, and patient data older than a shift.
async function sweep() {
  const owner = await signedIn();
  await forget((request, copy) =>
    (personal(request.url) && copy.headers.get(OWNER) !== owner) ||
    (PATIENT_DATA.test(new URL(request.url).pathname) && expired(copy)));
}

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Another crew member signed in on this tablet: the previous one's copies go.
    for (const name of await caches.keys()) if (name.startsWith("tablet-") && name !== CACHE) await caches.delete(name);
    await sweep();
    await self.clients.claim();
  })());
});

// Any start of the worker (a tablet switched on, a page opened) looks at what it keeps.
const started = sweep().catch(() => {});

self.addEventListener("message", (event) => {
  const work = event.data?.type === "shift-ended" ? forgetPatientData()
    : event.data?.type === "forget" ? forget(() => true)
    : event.data?.type === "sweep" ? sweep()
    : null;
  if (!work) return;
  const done = work.catch(() => {}).then(() => event.ports[0]?.postMessage({ done: event.data.type }));
  event.waitUntil(done);
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEPT.some((pattern) => pattern.test(url.pathname))) return;
  event.respondWith(networkFirst(request));
});

async function networkFirst(request) {
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), TIMEOUT_MS)),
    ]);
    // A redirect is the sign-in page (the session ended): never keep it in place of the tablet.
    if (response.ok && !response.redirected) await keep(request, response.clone());
    return response;
  } catch (error) {
    const copy = await kept(request);
    if (!copy) throw error;
    const headers = new Headers(copy.headers);
    headers.set("X-Tablet-Copy", "1");
    return new Response(await copy.blob(), { status: copy.status, statusText: copy.statusText, headers });
  }
}

// The answer, stamped with who read it and when.
async function keep(request, response) {
  const headers = new Headers(response.headers);
  headers.set(KEPT_AT, String(Date.now()));
  if (personal(request.url)) {
    const owner = await signedIn();
    if (!owner) return; // nobody to tie it to: not kept
    headers.set(OWNER, owner);
  }
  const copy = new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
  await (await caches.open(CACHE)).put(request, copy);
}

// The kept copy of `request` if the one signed in now may be shown it.
async function kept(request) {
  await started;
  const copy = await caches.match(request, { cacheName: CACHE });
  if (!copy || !personal(request.url)) return copy || null;
  const owner = await signedIn();
  if (!owner || copy.headers.get(OWNER) !== owner) {
    await sweep(); // someone else signed in: the previous sign-in's copies go now
    return null;
  }
  if (PATIENT_DATA.test(new URL(request.url).pathname) && expired(copy)) {
    await sweep();
    return null;
  }
  return copy;
}

// --- Crew alerts (Web Push; dispatch/crew/push.py, docs/decisions/0015-crew-alerts.md) -------
// A dispatch reaches the crew even when the tablet page is closed or the screen is off: the push
// service wakes this worker, which shows a notification that stays until it is answered. Every
// word comes in the push message, translated by the server in the crew member's language (a
// worker cannot read the page's catalogue). "Acknowledge" posts the tablet's own acknowledgement
// with the CSRF token read from the cookie, as the page does; when that fails (offline, signed
// out, already acknowledged by a colleague) the tablet opens on the job instead.

self.addEventListener("push", (event) => {
  let alert = null;
  try {
    alert = event.data ? event.data.json() : null;
  } catch {
    alert = null;
  }
  if (!alert || alert.type !== "crew_alert") return;
  event.waitUntil(showAlert(alert));
});

async function showAlert(alert) {
  const words = alert.words || {};
  await self.registration.showNotification(alert.title, {
    body: alert.body,
    tag: alert.tag, // one per assignment: a repeat replaces it, and rings again (renotify)
    renotify: true,
    requireInteraction: true,
    vibrate: [600, 200, 600, 200, 1200],
    timestamp: Date.parse(alert.dispatched_at) || Date.now(),
    data: { url: alert.url, ackUrl: alert.ack_url, assignment: alert.assignment, title: alert.title, words },
    actions: words.acknowledge ? [{ action: "acknowledge", title: words.acknowledge }] : [],
  });
}

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  const data = notification.data || {};
  notification.close();
  event.waitUntil((async () => {
    if (event.action === "acknowledge") {
      const done = await acknowledge(data);
      const words = data.words || {};
      await self.registration.showNotification(data.title || "", {
        body: done ? words.acknowledged : words.ack_failed,
        tag: notification.tag,
        requireInteraction: !done,
        data,
      });
      if (done) return;
    }
    await openTablet(data);
  })());
});

async function acknowledge(data) {
  if (!data.ackUrl) return false;
  try {
    const csrf = (await self.cookieStore?.get("csrftoken"))?.value;
    if (!csrf) return false;
    const response = await fetch(data.ackUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify({ client_time: new Date().toISOString() }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

async function openTablet(data) {
  const target = new URL(data.url || "/tablet/", self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).pathname === target.pathname);
  if (open) {
    await open.focus(); // the page shows the unit's current job itself (its socket catches up)
    return;
  }
  await self.clients.openWindow(target.href);
}

// The push service replaced the subscription (expired keys): subscribe again with the same key
// and tell the server, so the next alert does not go to the old endpoint.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    const key = event.oldSubscription?.options?.applicationServerKey;
    const subscription = event.newSubscription
      || (key && await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
    const csrf = (await self.cookieStore?.get("csrftoken"))?.value;
    if (!subscription || !csrf) return;
    await fetch("/api/crew/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(subscription.toJSON()),
    }).catch(() => {});
  })());
});
