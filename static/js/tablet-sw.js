// The tablet's service worker (served as /tablet/sw.js, so it controls the tablet page only).
// The page and what it last read stay on the tablet: a crew whose tablet restarts in a tunnel or
// a hospital basement still sees its job, and its taps wait in the outbox (tablet-queue.js) until
// the network is back. Network first, always: online the crew sees the server's state, never an
// old copy; a copy is served only when the server cannot be reached, marked X-Tablet-Copy so the
// page says it is offline. Writes never pass through here: the outbox owns them.
// (docs/architecture.md, "Offline tablet".)
"use strict";

const USER = new URL(self.location.href).searchParams.get("user") || "";
const CACHE = `tablet-${USER}`;
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

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Another crew member signed in on this tablet: the previous one's copies go.
    for (const name of await caches.keys()) if (name.startsWith("tablet-") && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEPT.some((pattern) => pattern.test(url.pathname))) return;
  event.respondWith(networkFirst(request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), TIMEOUT_MS)),
    ]);
    // A redirect is the sign-in page (the session ended): never keep it in place of the tablet.
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const copy = await cache.match(request);
    if (!copy) throw error;
    const headers = new Headers(copy.headers);
    headers.set("X-Tablet-Copy", "1");
    return new Response(await copy.blob(), { status: copy.status, statusText: copy.statusText, headers });
  }
}
