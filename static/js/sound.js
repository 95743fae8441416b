// Sounds made with the Web Audio API (no files to ship): a distinct pattern per kind, so a
// dispatcher can tell a new incident from a confirmation without looking.
"use strict";

const PATTERNS = {
  incident: [[880, 0.12], [0, 0.06], [880, 0.12], [0, 0.06], [1175, 0.2]],
  call: [[660, 0.3], [0, 0.15], [660, 0.3]],
  notice: [[523, 0.15], [784, 0.25]],
  // A crew's message to the ER board: two quick high notes, unlike a new notice's rising pair.
  message: [[988, 0.1], [0, 0.05], [988, 0.1]],
  dispatched: [[784, 0.08], [1047, 0.12]],
  alert: [[440, 0.2], [330, 0.2], [440, 0.2], [330, 0.2]],
  // The console's alarm list (console-alarms.js): three sharp high beeps and a low one, unlike
  // any other, repeated by repeatChime until every alarm is acknowledged.
  alarm: [[1319, 0.1], [0, 0.05], [1319, 0.1], [0, 0.05], [1319, 0.1], [0, 0.12], [587, 0.35]],
};

let context = null;

export function chime(kind = "notice", volume = 0.2) {
  try {
    context = context || new AudioContext();
    // Created before the first tap, the context starts suspended: resume it once there was one.
    if (context.state === "suspended") context.resume();
    let at = context.currentTime + 0.02;
    for (const [frequency, seconds] of PATTERNS[kind] || PATTERNS.notice) {
      if (frequency) {
        const osc = context.createOscillator();
        const gain = context.createGain();
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(volume, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + seconds);
        osc.connect(gain).connect(context.destination);
        osc.start(at);
        osc.stop(at + seconds);
      }
      at += seconds;
    }
    document.dispatchEvent(new CustomEvent("chime", { detail: kind })); // lets tests and screens see it
  } catch {
    /* no audio device: the screen still shows everything */
  }
}

// One chime now and again every `seconds` until the returned function is called (one repeater
// per kind: asking again while it runs keeps the one there is).
const repeaters = new Map();

export function repeatChime(kind, seconds = 5, volume = 0.25) {
  if (!repeaters.has(kind)) {
    chime(kind, volume);
    repeaters.set(kind, setInterval(() => chime(kind, volume), seconds * 1000));
  }
  return () => stopChime(kind);
}

export function stopChime(kind) {
  clearInterval(repeaters.get(kind));
  repeaters.delete(kind);
}
