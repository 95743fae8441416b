// Crew alerts on this tablet (Web Push; dispatch/crew/push.py, docs/decisions/0015-crew-alerts.md).
// A dispatch then rings the tablet through its service worker (tablet-sw.js) even when the page
// is closed or the screen is off. The browser asks the crew's permission only after a tap (the
// "Turn on alerts" button); once granted, every load and every new shift subscribes again and
// tells the server, which keeps one row per endpoint for the crew member and unit on shift.
// The small line in the unit bar says where things stand: on, off, blocked, or not available.
import { $, csrfToken, gettext } from "./shared.js";

const line = $("push-state");
const button = $("push-on");
const WORDS = {
  on: gettext("Crew alerts: on"),
  off: gettext("Crew alerts: off"),
  blocked: gettext("Crew alerts: blocked (allow notifications for this site in the browser)"),
  unsupported: gettext("Crew alerts: not supported by this browser"),
  unavailable: gettext("Crew alerts: by SMS (push not set up at the centre)"),
  "no-shift": gettext("Crew alerts: on once your shift starts"),
  failed: gettext("Crew alerts: off (push service unreachable)"),
};
let publicKey = "";

function show(state) {
  if (!line) return;
  line.textContent = WORDS[state];
  line.dataset.state = state;
  line.classList.toggle("error", state === "blocked" || state === "failed");
  if (button) button.hidden = !["off", "failed"].includes(state);
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options?.applicationServerKey;
  if (!current) return true; // the browser does not say: keep it (the server answers 403 if not)
  const a = new Uint8Array(current);
  const b = keyBytes(key);
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function subscribe() {
  try {
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, publicKey)) {
      await subscription.unsubscribe(); // the centre changed its key: the old one is useless
      subscription = null;
    }
    subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
    const response = await fetch("/api/crew/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    });
    show(response.ok ? "on" : response.status === 409 ? "no-shift" : "failed");
  } catch {
    show(Notification.permission === "denied" ? "blocked" : "failed");
  }
}

async function start() {
  if (!line) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    show("unsupported");
    return;
  }
  try {
    const response = await fetch("/api/crew/push/key", { credentials: "same-origin" });
    const key = response.ok ? await response.json() : null;
    if (!key?.enabled) return show("unavailable");
    publicKey = key.public_key;
  } catch {
    return show("failed");
  }
  if (Notification.permission === "denied") return show("blocked");
  if (Notification.permission === "granted") return subscribe(); // after a reload: quietly again
  show("off");
}

if (button) {
  button.addEventListener("click", async () => {
    const permission = await Notification.requestPermission(); // only ever after this tap
    if (permission === "granted") await subscribe();
    else show(permission === "denied" ? "blocked" : "off");
  });
}

// A new shift (perhaps on another unit) shows the work pane again: subscribe for it.
const work = $("work");
if (work) {
  new MutationObserver(() => {
    if (!work.hidden && publicKey && Notification.permission === "granted") subscribe();
  }).observe(work, { attributes: true, attributeFilter: ["hidden"] });
}

start();
