// Signing out, from the tablet or from any page in the same browser. The sign-out answers with
// Clear-Site-Data (dispatch/core/privacy.py), which wipes this site's storage: the tablet's
// outbox (tablet-queue.js) with it. So before the sign-out goes, what waits is sent; what still
// cannot be sent (no network) is the crew's to decide in our own dialog: stay signed in (it is
// sent once the network is back) or sign out and lose it, knowingly. With nothing waiting, the
// sign-out goes at once, and the tablet's copies (tablet-sw.js) go with it even if the server
// cannot be reached to clear them.
// templates/base.html loads this module on every signed-in page; tablet.js hands it its outbox.
"use strict";
import { escapeHtml, gettext, interpolate } from "./shared.js";
import { OUTBOX_PREFIX, Outbox } from "./tablet-queue.js";

const SEND_MS = 12000; // how long a sign-out waits for the send before it asks
const FORM = "form[action$='/logout/']";

let tabletOutbox = null;

// The tablet page's own outbox: sent through it, so its screen stays in step.
export function useOutbox(outbox) {
  tabletOutbox = outbox;
}

function waitingOps() {
  const ops = [];
  for (let n = 0; n < localStorage.length; n++) {
    const key = localStorage.key(n);
    if (!key?.startsWith(OUTBOX_PREFIX)) continue;
    try { ops.push(...JSON.parse(localStorage.getItem(key) || "[]")); } catch { /* not ours to read */ }
  }
  return ops;
}

// Patient data must not stay on the tablet after its crew has left it: the copies go here too,
// not only through Clear-Site-Data, which never arrives when the server is out of reach.
async function forgetCopies() {
  try {
    const registration = await navigator.serviceWorker?.getRegistration("/tablet/");
    registration?.active?.postMessage({ type: "forget" });
  } catch { /* no worker */ }
  try {
    if (window.caches) for (const name of await caches.keys()) if (name.startsWith("tablet-")) await caches.delete(name);
  } catch { /* nothing kept */ }
}

// Only the signed-in user's outbox can be sent (the server takes no one else's); the others'
// are counted, since the sign-out would wipe them too.
async function sendWaiting(user) {
  const mine = tabletOutbox || (user && localStorage.getItem(OUTBOX_PREFIX + user) ? new Outbox(user) : null);
  if (!mine?.pending().length) return;
  await Promise.race([mine.flush(), new Promise((resolve) => setTimeout(resolve, SEND_MS))]);
}

// The dialog's look, fetched now: when it is needed the network may be gone (the tablet's worker
// keeps this copy for a tablet that starts offline).
const css = document.createElement("link");
css.rel = "stylesheet";
css.href = new URL("../css/tablet-signout.css", import.meta.url).href;
document.head.append(css);

function dialog() {
  let box = document.getElementById("signout-dialog");
  if (box) return box;
  box = document.createElement("dialog");
  box.id = "signout-dialog";
  box.className = "signout-dialog";
  box.setAttribute("aria-labelledby", "signout-title");
  document.body.append(box);
  return box;
}

function showSending(box, count) {
  box.innerHTML = `<p id="signout-title" class="signout-sending" role="status">${escapeHtml(
    interpolate(gettext("Sending %(count)s waiting record(s) before signing out…"), { count }, true))}</p>`;
  if (!box.open) box.showModal();
}

const tapped = (op) => (op.client_time ? new Date(op.client_time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false }) : "");

function askText(box, ops) {
  const count = ops.length;
  box.querySelector("#signout-title").textContent = interpolate(gettext("%(count)s record(s) not yet sent"), { count }, true);
  box.querySelector(".signout-list").innerHTML = ops.map((op) => `<li><time>${escapeHtml(tapped(op))}</time> ${escapeHtml(op.label || op.kind)}</li>`).join("");
  box.querySelector(".signout-lose").textContent = interpolate(gettext("Sign out anyway and lose %(count)s"), { count }, true);
}

// Resolves "stay", "lose" (sign out and lose them) or "sent" (the network came back meanwhile
// and everything went: the sign-out the crew asked for goes on).
function ask(box, ops) {
  box.innerHTML = `<form method="dialog" class="signout-form">
      <h2 id="signout-title"></h2>
      <p>${escapeHtml(gettext("There is no network. Signing out now deletes them from this tablet: they never reach the control room."))}</p>
      <ol class="signout-list"></ol>
      <p class="muted">${escapeHtml(gettext("Stay signed in and they are sent by themselves when the network is back."))}</p>
      <div class="signout-buttons">
        <button type="button" class="t-button signout-stay">${escapeHtml(gettext("Stay signed in"))}</button>
        <button type="button" class="t-button signout-lose"></button>
      </div></form>`;
  askText(box, ops);
  if (!box.open) box.showModal();
  box.querySelector(".signout-stay").focus();
  return new Promise((resolve) => {
    let shown = ops.length;
    const watch = setInterval(() => {
      const left = waitingOps();
      if (!left.length) finish("sent");
      else if (left.length !== shown) { shown = left.length; askText(box, left); }
    }, 1000);
    const finish = (answer) => {
      clearInterval(watch);
      box.onclose = null;
      if (box.open) box.close();
      resolve(answer);
    };
    box.onclose = () => finish("stay"); // Esc: the safe answer
    box.querySelector(".signout-stay").onclick = () => finish("stay");
    box.querySelector(".signout-lose").onclick = () => finish("lose");
  });
}

let busy = false;

async function signOut(form) {
  if (busy) return;
  busy = true;
  const box = waitingOps().length ? dialog() : null;
  try {
    if (box) {
      showSending(box, waitingOps().length);
      await sendWaiting(form.dataset.user);
      const left = waitingOps();
      if (left.length) {
        const answer = await ask(box, left);
        if (answer === "stay") return; // nothing changes: the outbox keeps trying
        if (answer === "lose") {
          tabletOutbox?.discard();
          for (const key of Object.keys(localStorage)) if (key.startsWith(OUTBOX_PREFIX)) localStorage.removeItem(key);
        }
      } else if (box.open) {
        box.close();
      }
    }
    await forgetCopies();
    form.dataset.checked = "1";
    form.submit();
  } finally {
    busy = false;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches(FORM) || form.dataset.checked) return;
  event.preventDefault();
  signOut(form);
}, true);
