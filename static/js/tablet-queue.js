// The tablet's outbox. Every write is stored in localStorage first, with a fresh idempotency
// key and the time of the tap, then sent in order through POST /api/crew/sync. A connection
// that drops mid-request is harmless: the same keys are sent again and the server applies each
// operation once. A refused operation leaves the queue (it would be refused again forever) and
// is handed to onRefused so the crew sees why.
"use strict";
import { csrfToken } from "./shared.js";

const RETRY_MS = 4000;
const MAX_BATCH = 200; // the server's limit per sync
const SYNC_MS = 20000;
// Every tablet user's outbox is one localStorage entry under this prefix. Signing out clears the
// site's storage (Clear-Site-Data), so tablet-signout.js counts them all before it lets a sign-out go.
export const OUTBOX_PREFIX = "d120.tablet.outbox.";

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

export class Outbox {
  constructor(user, { onChange, onApplied, onRefused, onNetwork } = {}) {
    this.storageKey = `${OUTBOX_PREFIX}${user}`;
    this.onChange = onChange || (() => {});
    this.onApplied = onApplied || (() => {});
    this.onRefused = onRefused || (() => {});
    this.onNetwork = onNetwork || (() => {});
    this.items = this.load();
    this.running = null; // the send under way: a promise that settles when it has ended
    this.again = false;
    this.timer = null;
    window.addEventListener("online", () => this.flush());
  }

  load() {
    try { return JSON.parse(localStorage.getItem(this.storageKey) || "[]"); } catch { return []; }
  }

  save() {
    localStorage.setItem(this.storageKey, JSON.stringify(this.items));
    this.onChange(this.items);
  }

  // One user action: kind and data as POST /api/crew/sync takes them; `label` is what the
  // waiting list shows. Returns the stored operation.
  add(kind, data, label) {
    const op = { key: newKey(), kind, client_time: new Date().toISOString(), data, label };
    this.items.push(op);
    this.save();
    this.flush();
    return op;
  }

  pending(kind) {
    return this.items.filter((op) => !kind || op.kind === kind);
  }

  retryLater() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), RETRY_MS);
  }

  // Send what waits, in order. The promise settles when this send has ended, sent or not: a
  // caller that must know (signing out) awaits it; a flush asked during a send joins it.
  flush() {
    if (this.running) { this.again = true; return this.running; }
    if (!this.items.length) return Promise.resolve();
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.sendBatch(this.items.slice(0, MAX_BATCH));
        } while ((this.again || this.sentAll) && this.items.length && !this.stalled);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  // Drop everything waiting, for good (the crew chose to sign out and lose it).
  discard() {
    clearTimeout(this.timer);
    this.items = [];
    localStorage.removeItem(this.storageKey);
    this.onChange(this.items);
  }

  async sendBatch(batch) {
    this.sentAll = false;
    this.stalled = true;
    let response;
    try {
      response = await fetch("/api/crew/sync", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ operations: batch.map(({ key, kind, client_time, data }) => ({ key, kind, client_time, data })) }),
        signal: AbortSignal.timeout(SYNC_MS), // a hung send is resent later with the same keys
      });
    } catch {
      this.onNetwork(false);
      this.retryLater();
      return;
    }
    this.onNetwork(true, response.status);
    let body = null;
    try { body = await response.json(); } catch { /* a proxy's error page */ }
    if (!response.ok || !body?.results) {
      // Signed out, a server or proxy fault: keep everything and try again.
      this.retryLater();
      return;
    }
    const done = new Set();
    for (const result of body.results) {
      const op = batch.find((o) => o.key === result.key);
      if (!op) continue;
      if (result.ok) {
        done.add(op.key);
        this.onApplied(op, result);
      } else if (result.status >= 500) {
        break; // "not applied; send it again": keep it and what follows, in order
      } else {
        done.add(op.key);
        this.onRefused(op, result);
      }
    }
    this.items = this.items.filter((op) => !done.has(op.key));
    this.save();
    this.stalled = done.size < batch.length;
    this.sentAll = !this.stalled;
    if (this.stalled) this.retryLater();
  }
}
