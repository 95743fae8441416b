// Question-driven triage (分级) on the dispatcher console, run client-side from the protocols
// that GET /api/triage/protocols returns. Keys 1-9 pick an answer, Backspace goes back.
// Outcomes with telephone CPR show a 110/min metronome, an elapsed timer and a compression count;
// the coaching can outlive the triage (takeCpr: the console docks it after dispatch).
"use strict";
import { gettext, interpolate, pgettext } from "./shared.js";

// The pane's own words, in the page's language (Django's JavaScript catalogue).
const WORDS = {
  choose: gettext("Choose the chief complaint"),
  filter: gettext("Type the complaint (e.g. chest, 胸痛)"),
  noMatch: gettext("No matching complaint"),
  change: gettext("Change complaint"),
  back: gettext("Back"),
  keys: gettext("Keys 1-9 pick an answer · Backspace goes back"),
  asked: gettext("Asked"),
  capability: gettext("Unit needed"),
  hospital: gettext("Take to"),
  nearest: gettext("Nearest suitable hospital"),
  tell: gettext("Tell the caller"),
  start: gettext("Start beat"),
  resume: gettext("Resume beat"),
  stop: gettext("Pause beat"),
  beatKey: gettext("M starts or pauses the beat"),
  busy: gettext("Another caller's CPR coaching is still running: end it before starting this one."),
  elapsed: gettext("CPR time"),
  compressions: gettext("Compressions"),
  cycle: (n) => interpolate(gettext("Cycle %(n)s"), { n }, true),
  rate: gettext("110 per minute"),
  breathsOption: gettext("30:2 rescue-breath prompts"),
  breathsNow: gettext("Give 2 rescue breaths"),
  swap: gettext("2 minutes: swap rescuers if someone can take over"),
  noAudio: gettext("No sound available: follow the flashing beat"),
  // The outcome's own wording of the priorities ("I级 危重" in Chinese), hence the context.
  priority: {
    1: pgettext("triage outcome", "I Critical"),
    2: pgettext("triage outcome", "II Emergency"),
    3: pgettext("triage outcome", "III Urgent"),
    4: pgettext("triage outcome", "IV Non-urgent"),
  },
  capabilities: {
    als: gettext("Advanced life support (ALS)"),
    bls: gettext("Basic life support (BLS)"),
    negative_pressure: gettext("Negative-pressure ambulance"),
    neonatal: gettext("Neonatal transport (incubator)"),
    defib: gettext("Defibrillator"),
    ventilator: gettext("Ventilator"),
    bariatric: gettext("Bariatric stretcher"),
  },
  hospitals: {
    chest_pain: gettext("Chest pain centre"),
    stroke: gettext("Stroke centre"),
    trauma: gettext("Trauma centre"),
    maternal: gettext("Maternal critical care centre"),
    neonatal: gettext("Neonatal critical care centre"),
    pci: gettext("PCI (cath lab)"),
    ct: gettext("CT"),
    burns: gettext("Burns unit"),
    paediatric: gettext("Paediatrics"),
  },
};

const BPM = 110;
const CYCLE = 30; // compressions per cycle (30:2)
const BREATHS_PAUSE_S = 4; // time for two rescue breaths before compressions resume
const SWAP_EVERY_S = 120;

// Start triage in `container`. `protocols` is the list from GET /api/triage/protocols.
// Options: lang (the page's; "en" picks the protocols' `_en` texts), onOutcome(result), protocol
// (a code to start with, else the complaint picker), suggest(text) -> Promise of protocol codes
// (pinyin search on the server; see serverSuggest). Returns a controller: choose(code), back(),
// reset(), takeCpr(), destroy(). Whoever replaces the pane's triage must destroy() the old
// controller: it removes every listener the controller added, so a replaced one can never
// answer a key press again.
export function startTriage(container, protocols, { lang = "zh-hans", onOutcome, protocol, suggest } = {}) {
  const triage = new Triage(container, protocols, { lang, onOutcome, suggest });
  if (protocol) triage.choose(protocol);
  else triage.render();
  return triage;
}

// Start or pause the beat of the telephone CPR session (the one running or handed over, else the
// one on screen). False when there is no CPR coaching to act on.
export function toggleCprBeat() {
  const panel = cprHolder || cprShown;
  if (!panel) return false;
  panel.toggleBeat();
  return true;
}

// A suggest function for startTriage that asks the server (which also matches pinyin).
export function serverSuggest(url = "/api/triage/suggest") {
  return async (text) => {
    const response = await fetch(`${url}?q=${encodeURIComponent(text)}`, { credentials: "same-origin" });
    return response.ok ? (await response.json()).map((p) => p.code) : [];
  };
}

class Triage {
  constructor(container, protocols, { lang, onOutcome, suggest }) {
    this.container = container;
    this.protocols = protocols;
    this.byCode = new Map(protocols.map((p) => [p.code, p]));
    this.en = lang === "en"; // the protocols' own texts come in both languages (`_en` fields)
    this.t = WORDS;
    this.onOutcome = onOutcome || (() => {});
    this.suggest = suggest;
    this.protocol = null;
    this.answers = [];
    this.query = "";
    this.cpr = null;
    // Every listener this object adds goes with this signal: destroy() removes them all at once.
    this.listening = new AbortController();
    this.signal = this.listening.signal;
    container.classList.add("triage");
    if (!container.hasAttribute("tabindex")) container.tabIndex = -1;
    container.addEventListener("keydown", (event) => this.key(event), { signal: this.signal });
  }

  // The text in the console's language, falling back to Chinese where English is missing.
  say(obj, key) {
    return (this.en && obj[`${key}_en`]) || obj[key] || "";
  }

  choose(code) {
    const protocol = this.byCode.get(code);
    if (!protocol) throw new Error(`Unknown triage protocol ${code}`);
    this.protocol = protocol;
    this.answers = [];
    this.render();
  }

  answer(index) {
    this.answers.push(index);
    const where = this.walk();
    this.render();
    if (where.outcome) this.onOutcome(this.result(where));
  }

  back() {
    if (this.answers.length) this.answers.pop();
    else this.protocol = null;
    this.render();
  }

  goTo(step) {
    this.answers = this.answers.slice(0, step);
    this.render();
  }

  reset() {
    this.protocol = null;
    this.answers = [];
    this.query = "";
    this.render();
  }

  destroy() {
    this.listening.abort();
    this.stopCpr();
    this.container.replaceChildren();
  }

  // The telephone CPR coaching on screen, handed over to outlive this triage (its beat, clock and
  // count keep going): when the beat was ever started, or `always` (the unit was just sent, so
  // coaching comes next). Null when there is none, or another caller's coaching holds the one
  // session. The taker shows `element` with `title` and `steps` and calls end() when done.
  takeCpr({ always = false } = {}) {
    const cpr = this.cpr;
    if (!cpr || !(cpr.started || always) || !cpr.claim()) return null;
    this.cpr = null;
    return cpr;
  }

  // Follow the answers from the start: the path so far and the next question or the outcome.
  walk() {
    const { start, questions } = this.protocol;
    const path = [];
    let id = start;
    for (const index of this.answers) {
      const question = questions[id];
      const answer = question.answers[index];
      path.push({ id, question, answer, index });
      if (answer.outcome) return { path, outcome: answer.outcome };
      id = answer.next;
    }
    return { path, id, question: questions[id] };
  }

  result({ path, outcome }) {
    return {
      protocol: this.protocol.code,
      priority: outcome.priority,
      capability: outcome.capability,
      hospital_capability: outcome.hospital_capability || null,
      instruction: outcome.instruction || null,
      answers: [...this.answers],
      path: path.map((s) => ({ question: s.id, text: s.question.text, answer: s.index, label: s.answer.label })),
    };
  }

  key(event) {
    if (event.isComposing || event.keyCode === 229 || event.altKey || event.ctrlKey || event.metaKey) return;
    const inField = event.target.closest("input, textarea, select, [contenteditable]");
    if (/^[1-9]$/.test(event.key) && (!inField || event.target === this.filterInput)) {
      const button = this.container.querySelector(`[data-key="${event.key}"]`);
      if (button) {
        event.preventDefault();
        button.click();
      }
    } else if (event.key === "Backspace" && !inField && !this.cpr?.running) {
      // While the metronome runs a stray Backspace must not throw away the CPR screen.
      event.preventDefault();
      if (this.protocol) this.back();
    }
  }

  render() {
    this.stopCpr();
    this.filterInput = null;
    let view;
    if (!this.protocol) view = this.pickerView();
    else {
      const where = this.walk();
      view = where.outcome ? this.outcomeView(where) : this.questionView(where);
    }
    // Keep the keyboard where the dispatcher is: move focus only when it was already in the
    // triage pane (an answer was just picked), never steal it from the caller or place fields.
    // Never onto the CPR start button: an Enter pressed out of habit to dispatch would start
    // the beat instead (M starts it on purpose).
    const hadFocus = this.container.contains(document.activeElement);
    this.container.replaceChildren(view);
    if (!hadFocus) return;
    (this.filterInput || this.container).focus({ preventScroll: true });
  }

  // --- Views ---------------------------------------------------------------------------------

  pickerView() {
    const list = el("div", { class: "triage-answers" });
    this.filterInput = el("input", {
      type: "search",
      class: "triage-filter",
      placeholder: this.t.filter,
      value: this.query,
      autocomplete: "off",
    });
    const input = this.filterInput;
    const signal = this.signal;
    input.addEventListener("input", () => {
      this.query = input.value;
      this.fillPicker(list);
    }, { signal });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing) list.querySelector("button")?.click();
    }, { signal });
    this.fillPicker(list);
    return el("section", { class: "triage-picker" }, el("h3", {}, this.t.choose), this.filterInput, list);
  }

  // The complaints matching what was typed, best first, at once (Chinese, pinyin, initials or
  // English: see rank), so Enter always picks what the list shows first. A server suggestion
  // can only add complaints below them, never reorder the list under the dispatcher's Enter.
  async fillPicker(list) {
    const query = normalize(this.query);
    const found = rank(this.protocols, query);
    this.showProtocols(list, found);
    if (!query || !this.suggest) return;
    try {
      const codes = await this.suggest(query);
      if (normalize(this.query) !== query) return; // the dispatcher typed on
      const more = codes.map((c) => this.byCode.get(c)).filter((p) => p && !found.includes(p));
      if (more.length) this.showProtocols(list, [...found, ...more]);
    } catch {
      // The local match already shows; the server search is a bonus.
    }
  }

  showProtocols(list, protocols) {
    const buttons = protocols.map((p, i) =>
      choice(i, this.say(p, "name"), () => this.choose(p.code), this.signal, this.en ? p.name : p.name_en),
    );
    list.replaceChildren(...(buttons.length ? buttons : [el("p", { class: "triage-muted" }, this.t.noMatch)]));
  }

  questionView({ path, id, question }) {
    const answers = question.answers.map((a, i) => choice(i, this.say(a, "label"), () => this.answer(i), this.signal));
    const hint = this.say(question, "hint");
    return el(
      "section",
      { class: "triage-question", "data-question": id },
      this.header(),
      this.pathView(path),
      el("h3", { class: "triage-text" }, this.say(question, "text")),
      hint ? el("p", { class: "triage-hint" }, hint) : "",
      el("div", { class: "triage-answers" }, ...answers),
      el("p", { class: "triage-muted triage-keys" }, this.t.keys),
    );
  }

  outcomeView(where) {
    const { outcome } = where;
    const hospital = outcome.hospital_capability;
    const instruction = outcome.instruction && this.protocol.instructions?.[outcome.instruction];
    return el(
      "section",
      { class: "triage-outcome" },
      this.header(),
      this.pathView(where.path),
      el("p", { class: `triage-priority triage-p${outcome.priority}` }, this.t.priority[outcome.priority]),
      el(
        "dl",
        { class: "triage-needs" },
        el("dt", {}, this.t.capability),
        el("dd", {}, this.t.capabilities[outcome.capability] || outcome.capability),
        el("dt", {}, this.t.hospital),
        el("dd", {}, hospital ? this.t.hospitals[hospital] || hospital : this.t.nearest),
      ),
      instruction ? this.instructionView(instruction) : "",
    );
  }

  header() {
    const back = button(this.t.back, "triage-back", () => this.back(), this.signal);
    const change = button(this.t.change, "triage-change", () => this.reset(), this.signal);
    const actions = el("span", { class: "triage-actions" }, back, change);
    return el("header", { class: "triage-header" }, el("h2", {}, this.say(this.protocol, "name")), actions);
  }

  pathView(path) {
    if (!path.length) return "";
    const items = path.map((step, i) => {
      const item = el(
        "li",
        {},
        el("span", { class: "triage-q" }, this.say(step.question, "text")),
        el("b", { class: "triage-a" }, this.say(step.answer, "label")),
      );
      item.addEventListener("click", () => this.goTo(i), { signal: this.signal });
      return item;
    });
    return el("ol", { class: "triage-path", "aria-label": this.t.asked }, ...items);
  }

  instructionView(instruction) {
    const steps = this.en && instruction.steps_en?.length ? instruction.steps_en : instruction.steps;
    const title = this.say(instruction, "title");
    return el(
      "section",
      { class: "triage-instruction" },
      el("h3", {}, `${this.t.tell}: ${title}`),
      instruction.cpr ? this.cprView(title, steps) : "",
      el("ol", { class: "triage-steps" }, ...steps.map((s) => el("li", {}, s))),
    );
  }

  cprView(title, steps) {
    this.cpr = new CprPanel(this.t, { title, steps });
    return this.cpr.element;
  }

  stopCpr() {
    this.cpr?.destroy();
    this.cpr = null;
  }
}

// --- Telephone CPR ---------------------------------------------------------------------------

// One telephone CPR session at a time (one dispatcher, one headset, one caller to coach): the
// panel whose beat was started or that was handed over holds it until it is ended. The panel
// last put on screen is what the M key acts on when no session is held.
let cprHolder = null;
let cprShown = null;
const cprSessions = new EventTarget(); // "released" when the held session ends

class CprPanel {
  constructor(t, { title = "", steps = [] } = {}) {
    this.t = t;
    this.title = title;
    this.steps = steps;
    this.listening = new AbortController(); // its own: the panel may outlive the triage
    this.count = 0;
    this.elapsedMs = 0;
    this.startedAt = null;
    this.metronome = new Metronome(BPM, () => this.beat());
    this.beatDot = el("span", { class: "cpr-beat", "aria-hidden": "true" });
    this.countView = el("span", { class: "cpr-count" }, "0");
    this.cycleView = el("span", { class: "cpr-cycle" }, t.cycle(1));
    this.timeView = el("span", { class: "cpr-time" }, "00:00");
    this.prompt = el("p", { class: "cpr-prompt", role: "status" });
    this.toggle = button(t.start, "cpr-toggle", () => this.toggleBeat(), this.listening.signal);
    this.breaths = el("input", { type: "checkbox", class: "cpr-breaths" });
    this.keyHint = el("span", { class: "cpr-key triage-muted" }, t.beatKey);
    this.element = el(
      "div",
      { class: "cpr", "data-state": "ready" },
      el(
        "div",
        // The count changes twice a second: not for a screen reader to read out each time.
        { class: "cpr-dials", "aria-live": "off" },
        this.beatDot,
        dial(t.compressions, el("span", {}, this.countView, ` / ${CYCLE}`), this.cycleView),
        dial(t.elapsed, this.timeView),
        dial("", el("span", { class: "cpr-rate" }, t.rate)),
      ),
      el(
        "div",
        { class: "cpr-controls" },
        this.toggle,
        el("label", {}, this.breaths, t.breathsOption),
        this.keyHint,
      ),
      this.prompt,
    );
    cprShown = this;
    // Another caller's coaching holds the session: this one waits until that one ends.
    this.showBusy();
    cprSessions.addEventListener("released", () => this.showBusy(), { signal: this.listening.signal });
  }

  get running() {
    return this.startedAt !== null;
  }

  // The beat was started at least once: coaching is under way even while it is paused.
  get started() {
    return this.startedAt !== null || this.elapsedMs > 0;
  }

  get busy() {
    return cprHolder !== null && cprHolder !== this;
  }

  // Take the one session; false when another caller's coaching holds it.
  claim() {
    if (this.busy) return false;
    cprHolder = this;
    return true;
  }

  toggleBeat() {
    if (this.running) this.stop();
    else this.start();
  }

  start() {
    if (this.running || !this.claim()) return;
    this.startedAt = performance.now();
    this.clock = setInterval(() => this.tick(), 250);
    this.say(this.metronome.start() ? "" : this.t.noAudio);
    this.toggle.textContent = this.t.stop;
    this.element.classList.add("cpr-running");
    this.element.dataset.state = "running";
  }

  stop() {
    if (!this.running) return;
    this.metronome.stop();
    clearInterval(this.clock);
    this.elapsedMs += performance.now() - this.startedAt;
    this.startedAt = null;
    this.toggle.textContent = this.t.resume;
    this.element.classList.remove("cpr-running");
    this.element.dataset.state = "paused";
  }

  // The end of this coaching: silence, and the session is free for the next caller.
  destroy() {
    this.stop();
    this.metronome.close();
    this.listening.abort();
    this.element.dataset.state = "ended";
    if (cprShown === this) cprShown = null;
    if (cprHolder === this) {
      cprHolder = null;
      cprSessions.dispatchEvent(new Event("released"));
    }
  }

  end() {
    this.destroy();
  }

  showBusy() {
    const busy = this.busy;
    this.toggle.disabled = busy;
    this.keyHint.hidden = busy; // M acts on the session under way, not on this one
    if (busy) this.say(this.t.busy, "busy");
    else if (this.prompt.dataset.kind === "busy") this.say("");
  }

  beat() {
    this.count += 1;
    // For tests and other screens, as sound.js does for its chimes.
    document.dispatchEvent(new CustomEvent("cpr:beat", { detail: this.count }));
    const inCycle = ((this.count - 1) % CYCLE) + 1;
    this.countView.textContent = String(inCycle);
    this.cycleView.textContent = this.t.cycle(Math.floor((this.count - 1) / CYCLE) + 1);
    this.beatDot.classList.add("on");
    setTimeout(() => this.beatDot.classList.remove("on"), 120);
    if (inCycle === 1 && this.prompt.dataset.kind === "breaths") this.say("");
    if (inCycle === CYCLE && this.breaths.checked) {
      this.metronome.rest(BREATHS_PAUSE_S);
      this.say(this.t.breathsNow, "breaths");
    }
  }

  tick() {
    const seconds = Math.floor((this.elapsedMs + performance.now() - this.startedAt) / 1000);
    this.timeView.textContent = mmss(seconds);
    if (seconds > 0 && seconds % SWAP_EVERY_S === 0) this.say(this.t.swap, "swap");
    else if (this.prompt.dataset.kind === "swap" && seconds % SWAP_EVERY_S >= 10) this.say("");
  }

  say(text, kind = "") {
    this.prompt.textContent = text;
    this.prompt.dataset.kind = kind;
  }
}

// A click at `bpm`, scheduled on the audio clock (setTimeout alone drifts and stutters when the
// tab is busy); `onBeat` runs as each click sounds, for the visible beat and the count.
class Metronome {
  constructor(bpm, onBeat) {
    this.interval = 60 / bpm;
    this.onBeat = onBeat;
    this.ctx = null;
    this.timer = null;
    this.generation = 0;
  }

  // Returns false when the browser has no Web Audio: the beat then runs on timers, silently.
  start() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !this.ctx) this.ctx = new Context();
    this.ctx?.resume();
    this.generation += 1;
    this.next = this.now() + 0.05;
    this.timer = setInterval(() => this.schedule(), 25);
    this.schedule();
    return Boolean(this.ctx);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.generation += 1; // beats already queued for the screen are dropped
  }

  rest(seconds) {
    this.next += seconds;
  }

  close() {
    this.stop();
    this.ctx?.close();
    this.ctx = null;
  }

  now() {
    return this.ctx ? this.ctx.currentTime : performance.now() / 1000;
  }

  schedule() {
    const generation = this.generation;
    while (this.next < this.now() + 0.1) {
      if (this.ctx) this.click(this.next);
      const delay = Math.max(0, (this.next - this.now()) * 1000);
      setTimeout(() => generation === this.generation && this.onBeat(), delay);
      this.next += this.interval;
    }
  }

  click(at) {
    const osc = this.ctx.createOscillator();
    const gain = this.ctx.createGain();
    osc.frequency.value = 1500;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.7, at + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.035);
    osc.connect(gain).connect(this.ctx.destination);
    osc.start(at);
    osc.stop(at + 0.04);
  }
}

// --- Finding a complaint from what the dispatcher types ---------------------------------------

const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const SPLIT = /[\s,;/|()\u3001\uff0c\uff1b\uff08\uff09]+/; // and the full-width , ; ( ) and 、
const TERMS = new WeakMap(); // protocol -> its search words, normalized

function termsOf(protocol) {
  if (!TERMS.has(protocol)) {
    const words = [protocol.name, protocol.name_en, protocol.keywords].join(" ").split(SPLIT);
    TERMS.set(protocol, words.map(normalize).filter(Boolean));
  }
  return TERMS.get(protocol);
}

function normalize(text) {
  return (text || "").normalize("NFKC").toLowerCase().trim().split(/\s+/).filter(Boolean).join(" ");
}

// The protocols matching `query` (normalized), best match first, ties in the protocols' order.
// Everything when nothing is typed.
function rank(protocols, query) {
  if (!query) return protocols;
  return protocols
    .map((p, i) => ({ p, i, score: matchScore(p, query) }))
    .filter((m) => m.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((m) => m.p);
}

// How well a typed text names a protocol, 0 when it does not; the same order of kinds of match as
// the server's (dispatch/triage/protocols.py match_score): the name, a search word, a word the
// text contains, the start of a word, pinyin (full or initials, from the API's `pinyin`), English.
function matchScore(protocol, query) {
  const names = [normalize(protocol.name), normalize(protocol.name_en), protocol.code];
  if (names.includes(query)) return 100;
  const terms = termsOf(protocol);
  if (terms.includes(query)) return 90;
  if (HAN.test(query)) {
    const chinese = terms.filter((t) => HAN.test(t));
    if (chinese.some((t) => t.length > 1 && query.includes(t))) return 80; // 病人胸口痛三小时
    if (chinese.some((t) => t.startsWith(query))) return 75; // still typing: 胸
    return chinese.some((t) => t.includes(query)) ? 70 : 0;
  }
  const squashed = query.replace(/ /g, "");
  if (squashed.length < 2) return protocol.code.startsWith(squashed) || terms.some((t) => t.startsWith(squashed)) ? 10 : 0;
  const own = protocol.name_pinyin || []; // its name's words rank above other search words
  const keys = protocol.pinyin || [];
  if (own.includes(squashed)) return 66;
  if (keys.includes(squashed)) return 65;
  if (own.some((k) => k.startsWith(squashed))) return 63;
  if (keys.some((k) => k.startsWith(squashed))) return 62;
  if (squashed.length >= 3 && keys.some((k) => k.includes(squashed))) return 60;
  const latin = [...terms.filter((t) => !HAN.test(t)), protocol.code];
  if (query.split(" ").every((w) => latin.some((t) => t.startsWith(w)))) return 50;
  return latin.some((t) => t.includes(squashed)) ? 40 : 0;
}

// --- Small helpers ---------------------------------------------------------------------------

function mmss(seconds) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
}

function choice(index, label, onClick, signal, subtitle) {
  const key = index < 9 ? String(index + 1) : "";
  const b = button("", "triage-choice", onClick, signal);
  if (key) b.dataset.key = key;
  b.append(el("kbd", {}, key), el("span", { class: "triage-label" }, label));
  if (subtitle) b.append(el("small", {}, subtitle));
  return b;
}

function dial(label, ...value) {
  return el("div", { class: "cpr-dial" }, el("span", { class: "cpr-dial-label" }, label), ...value);
}

function button(text, className, onClick, signal) {
  const b = el("button", { type: "button", class: className }, text);
  b.addEventListener("click", onClick, { signal });
  return b;
}

// Elements from data with textContent only: protocol texts are admin-edited, never HTML.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "value") node.value = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== "" && c != null));
  return node;
}
