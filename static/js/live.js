// The live socket every screen uses: reconnects with backoff and resumes from the last
// event number it saw, so a dropped connection or a restarted server loses nothing.
"use strict";
import { gettext } from "./shared.js";

export class LiveSocket {
  // `onIncidents(rows, seq)`: a screen that gives it asks for incident rows (the console: what
  // /api/incidents/<id> answers, read by the server once for every console after events about
  // them; `seq`, the last event the rows show; dispatch/core/fanout.py).
  constructor({ after = 0, onEvent, onPositions, onResync, onState, onIncidents }) {
    this.cursor = after;
    this.onEvent = onEvent || (() => {});
    this.onIncidents = onIncidents;
    this.onPositions = onPositions || (() => {});
    this.onResync = onResync || (() => location.reload());
    this.onState = onState || (() => {});
    this.attempt = 0;
    this.connect();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/live/?after=${this.cursor}${this.onIncidents ? "&rows=1" : ""}`;
  }

  connect() {
    this.onState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.onState("live"); };
    ws.onmessage = (msg) => this.handle(JSON.parse(msg.data));
    ws.onclose = (ev) => {
      if (ev.code === 4401) { this.onState("signed-out"); return; }
      this.onState("reconnecting");
      // Backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 10 s.
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  take(event) {
    if (event.seq > this.cursor) {
      this.cursor = event.seq;
      this.onEvent(event);
    }
  }

  handle(message) {
    switch (message.type) {
      case "event":
        this.take(message.event);
        break;
      case "events": // several that came close together, in order
        message.events.forEach((event) => this.take(event));
        break;
      case "cursor":
        this.cursor = Math.max(this.cursor, message.seq);
        break;
      case "positions":
        this.onPositions(message.units);
        break;
      case "incidents":
        this.onIncidents?.(message.incidents, message.seq);
        break;
      case "resync":
        this.onResync(message.seq);
        break;
      case "error":
        this.onState("error", message.reason);
        break;
    }
  }
}

// The connection's state in words on `element` (its class says it in colour).
export function showConnectionState(element) {
  const labels = {
    connecting: gettext("Connecting…"),
    live: gettext("Live"),
    reconnecting: gettext("Reconnecting… (nothing is lost)"),
    "signed-out": gettext("Signed out"),
    error: gettext("Connection error"),
  };
  return (state) => {
    element.textContent = labels[state] || state;
    element.className = `conn conn-${state}`;
  };
}
