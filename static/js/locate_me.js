// The caller's page: ask the phone for its position at once (one tap less for someone in
// distress), post it with its accuracy to this page's own address, and say what happened.
"use strict";

const root = document.getElementById("locate");
const status = document.getElementById("status");
const button = document.getElementById("share");

function say(key, values = {}) {
  status.textContent = root.dataset[key].replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
  status.className = `status status-${key}`;
}

async function send(position) {
  say("sending");
  const { latitude, longitude, accuracy } = position.coords;
  const response = await fetch(location.pathname, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ lat: latitude, lon: longitude, accuracy_m: accuracy, measured_at: new Date(position.timestamp).toISOString() }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    if (response.status === 410) { status.textContent = body.error; status.className = "status status-failed"; button.hidden = true; return; }
    throw new Error(body.error || response.statusText);
  }
  say("sent", { m: Math.round(accuracy) });
  button.hidden = true;
  root.dataset.state = "sent";
}

function locate() {
  if (!navigator.geolocation) { say("unsupported"); return; }
  say("asking");
  button.disabled = true;
  navigator.geolocation.getCurrentPosition(
    (position) => send(position).catch(() => say("failed")).finally(() => { button.disabled = false; }),
    (error) => { say(error.code === error.PERMISSION_DENIED ? "denied" : "unavailable"); button.disabled = false; },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 },
  );
}

button.addEventListener("click", locate);
locate();
