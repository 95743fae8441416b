// The console and the city map on a second screen (a second window of the same browser) agree on
// the incident in view: the console says which incident it shows on a BroadcastChannel, and a map
// page that follows centres on it. A map opened later says hello and is told the incident at once.
"use strict";

const CHANNEL = "dispatch120-selection";

function channel() {
  return "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
}

// ---------------------------------------------------------------- the console's side

let consoleSide = null;
let selected = null;

export function setUpSecondScreen(button, mapUrl) {
  consoleSide = channel();
  if (consoleSide) {
    consoleSide.onmessage = (event) => {
      if (event.data?.type === "hello" && selected != null) consoleSide.postMessage({ type: "selected", incident: selected });
    };
  }
  // A window of its own (not a tab), so it can be moved to the second screen; the same one again
  // on the next click.
  button.addEventListener("click", () => window.open(mapUrl, "dispatch120-map", "popup,width=1400,height=900"));
}

export function announceSelection(incidentId) {
  selected = incidentId;
  consoleSide?.postMessage({ type: "selected", incident: incidentId });
}

// ---------------------------------------------------------------- the map's side

export function followSelection(onSelected) {
  const map = channel();
  if (!map) return false;
  map.onmessage = (event) => {
    if (event.data?.type === "selected") onSelected(event.data.incident);
  };
  map.postMessage({ type: "hello" });
  return true;
}
