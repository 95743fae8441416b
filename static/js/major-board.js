// The casualty board of one major incident (templates/major_board.html): casualties by START tag
// and where they are, the hospitals and what each gets, the units, the situation report. Live:
// any event of this incident (a casualty registered on a tablet, a unit's status, an ER's
// acknowledgement) reads the picture again; a new casualty chimes. Dispatchers also register
// casualties radioed in (keys R, Y, G, B), plan and accept the distribution, keep the report, and
// set the scene on its map: the staging point by a click, the access route by clicking its points
// or as the road route from the staging point to the scene (drawn by major-map.js, as on the
// console's, the city map's and the crews' tablets' maps).
"use strict";
import {
  $, answer, csrfToken, escapeHtml, getJSON, gettext, interpolate, oneReadAtATime, postJSON, typing,
} from "./shared.js";
import { CityMap } from "./citymap.js";
import { LiveSocket, showConnectionState } from "./live.js";
import { MajorLayer, STAGING_GLYPH, simplifiedRoute } from "./major-map.js";
import { chime } from "./sound.js";

const config = JSON.parse($("major-config").textContent);
const TAGS = ["red", "yellow", "green", "black"];
const TAG_LABEL = {
  red: gettext("Red, immediate"), yellow: gettext("Yellow, delayed"),
  green: gettext("Green, minor"), black: gettext("Black, dead or expectant"),
};
// In the table, where space is short: the tag's colour and one word.
const TAG_SHORT = { red: gettext("Red tag"), yellow: gettext("Yellow tag"), green: gettext("Green tag"), black: gettext("Black tag") };
const WHERE_LABEL = {
  at_scene: gettext("At the scene"), transporting: gettext("In an ambulance"), at_hospital: gettext("At hospital"),
};
const SITREP_FIELDS = ["exact_location", "incident_type", "hazards", "access", "casualties_reported", "casualty_notes", "services"];
let picture = config.picture;
let proposal = null;
let sitrepDirty = false;

function levelLabel(value) {
  return config.levels.find((l) => l.value === value)?.label || String(value);
}

function showError(id, message) {
  $(id).textContent = message || "";
  $(id).hidden = !message;
}

function renderHead() {
  $("major-level").textContent = levelLabel(picture.level);
  $("major-level").className = `major-level level-${picture.level}`;
  $("major-title").textContent = `${picture.incident_number} · ${picture.sitrep.incident_type || "—"}`;
  const by = picture.declared_by || interpolate(gettext("the rule: %(rule)s"), { rule: picture.rule }, true);
  $("major-declared").textContent = interpolate(gettext("Declared %(at)s by %(by)s"), {
    at: new Date(picture.declared_at).toLocaleString(), by,
  }, true);
  const down = picture.status !== "active";
  $("major-stood-down").hidden = !down;
  for (const id of ["register-form", "plan-box", "stand-down", "send-box"]) $(id).hidden = down || !config.may_dispatch;
}

function renderTiles() {
  for (const tag of TAGS) {
    const c = picture.counts[tag] || { total: 0 };
    $(`tile-${tag}`).innerHTML = `<h3>${escapeHtml(TAG_LABEL[tag])}</h3>
      <p class="big">${c.total}</p>
      <p class="sub">${escapeHtml(interpolate(gettext("scene %(s)s · ambulance %(a)s · hospital %(h)s"), {
        s: c.at_scene || 0, a: c.transporting || 0, h: c.at_hospital || 0 }, true))}</p>`;
  }
}

function renderCasualties() {
  const rows = [...picture.casualties].sort((a, b) => TAGS.indexOf(a.tag) - TAGS.indexOf(b.tag) || a.id - b.id);
  $("casualty-count").textContent = rows.length;
  $("casualty-empty").hidden = rows.length > 0;
  $("casualty-rows").innerHTML = rows.map((c) => `
    <tr data-id="${c.id}" class="where-${c.where}">
      <td>${escapeHtml(c.tag_number)}</td>
      <td>${config.may_dispatch && picture.status === "active" && c.where === "at_scene"
        ? `<select class="retag tag-${c.tag}" data-id="${c.id}" aria-label="${escapeHtml(gettext("Re-triage"))}">${TAGS.map((t) => `<option value="${t}"${t === c.tag ? " selected" : ""}>${escapeHtml(TAG_SHORT[t])}</option>`).join("")}</select>`
        : `<span class="chip tag-${c.tag}">${escapeHtml(TAG_SHORT[c.tag])}</span>`}</td>
      <td>${escapeHtml(WHERE_LABEL[c.where] || c.where)}</td>
      <td>${escapeHtml(c.unit || "—")}</td>
      <td>${escapeHtml(c.hospital_name || (c.tag === "black" ? "—" : gettext("not yet")))}</td>
      <td>${c.acknowledged_at ? `<span class="acked" title="${escapeHtml(gettext("acknowledged"))}">✓</span>` : c.hospital ? escapeHtml(gettext("not acknowledged")) : ""}</td>
    </tr>`).join("");
}

function renderHospitals() {
  const hospitals = picture.hospitals;
  $("hospital-empty").hidden = hospitals.length > 0;
  const most = Math.max(1, ...hospitals.map((h) => Object.values(h.tags).reduce((a, b) => a + b, 0)));
  $("hospital-bars").innerHTML = hospitals.map((h) => {
    const total = Object.values(h.tags).reduce((a, b) => a + b, 0);
    const parts = TAGS.filter((t) => h.tags[t]).map((t) =>
      `<span class="bar tag-${t}" style="width:${(100 * h.tags[t]) / most}%" title="${escapeHtml(TAG_LABEL[t])}: ${h.tags[t]}">${h.tags[t]}</span>`).join("");
    return `<div class="hospital-row"><span class="name">${escapeHtml(h.name || "?")}</span>
      <span class="bars">${parts}</span>
      <span class="muted">${escapeHtml(interpolate(gettext("%(n)s patients, %(a)s acknowledged"), { n: total, a: h.acknowledged }, true))}</span></div>`;
  }).join("");
}

function renderUnits() {
  $("unit-count").textContent = picture.units.length;
  $("unit-list").innerHTML = picture.units.length
    ? picture.units.map((u) => `<li>${u.command ? `<b class="command">${escapeHtml(gettext("command"))}</b> ` : ""}${escapeHtml(u.unit)} <span class="muted">${escapeHtml(config.unit_status[u.status] || u.status)}</span></li>`).join("")
    : `<li class="empty">${escapeHtml(gettext("No unit sent yet."))}</li>`;
}

function renderSitrep() {
  const form = $("sitrep-form");
  $("sitrep-level").innerHTML = config.levels.map((l) => `<option value="${l.value}"${l.value === picture.level ? " selected" : ""}>${escapeHtml(l.label)}</option>`).join("");
  if (!sitrepDirty) {
    for (const name of SITREP_FIELDS) form.elements[name].value = picture.sitrep[name] ?? "";
  }
  for (const el of form.elements) el.disabled = !config.may_dispatch || picture.status !== "active";
}

// ---------------------------------------------------------------- the scene map

const scene = { city: null, layer: null, mode: null, route: [], fitted: false };

function sceneHint(text, isError = false) {
  $("scene-hint").textContent = text || "";
  $("scene-hint").className = `scene-hint ${isError ? "form-error" : "muted"}`;
}

async function startSceneMap() {
  $("legend-staging").textContent = STAGING_GLYPH;
  try {
    scene.city = new CityMap($("scene-map"), {
      labels: { demo_attribution: gettext("Demo city: fictional roads"), osm_attribution: gettext("Roads © OpenStreetMap contributors") },
      staleSeconds: 120,
      onMapClick: sceneClick,
    });
    scene.layer = new MajorLayer(scene.city.map);
    await scene.city.start();
  } catch (err) {
    // No roads to draw: the scene, the staging point and the route still show, and can be set.
    sceneHint(interpolate(gettext("The map could not load: %(error)s"), { error: err.message }, true), true);
    if (!scene.layer) return;
  }
  renderScene();
}

function renderScene() {
  if (!scene.layer) return;
  scene.layer.draw([picture]);
  if (!scene.fitted) { scene.fitted = true; scene.layer.fit(picture); }
  const acting = config.may_dispatch && picture.status === "active";
  $("scene-tools").hidden = !acting;
  const drawing = scene.mode === "route";
  for (const id of ["scene-save", "scene-undo"]) $(id).hidden = !drawing;
  $("scene-cancel").hidden = !scene.mode;
  for (const id of ["scene-staging", "scene-route", "scene-road"]) $(id).hidden = !!scene.mode;
  $("scene-road").disabled = !picture.staging_point || !picture.scene;
  $("scene-save").disabled = scene.route.length < 2;
  $("scene-map").classList.toggle("picking", !!scene.mode);
  if (!acting && scene.mode) endSceneMode();
}

function sceneMode(mode) {
  scene.mode = mode;
  scene.route = [];
  scene.layer?.drawDraft();
  sceneHint(mode === "staging" ? gettext("Click the map where the ambulances are to wait.")
    : gettext("Click the access route's points in order, from where ambulances turn off towards the scene; then save it."));
  renderScene();
}

function endSceneMode(hint = "") {
  scene.mode = null;
  scene.route = [];
  scene.layer?.drawDraft();
  sceneHint(hint);
  renderScene();
}

async function saveScene(body, done) {
  try {
    picture = { ...picture, ...(await postJSON(`/api/major/${picture.id}/scene`, body)) };
    endSceneMode(done);
    render();
  } catch (err) {
    sceneHint(err.message, true);
  }
}

function sceneClick(latlng) {
  const point = [latlng.lng, latlng.lat];
  if (scene.mode === "staging") {
    scene.layer.drawDraft({ staging: point });
    saveScene({ staging_point: { lon: point[0], lat: point[1] } }, gettext("Staging point saved."));
  } else if (scene.mode === "route" && scene.route.length < 200) {
    scene.route.push(point);
    scene.layer.drawDraft({ route: scene.route });
    renderScene();
  }
}

function saveRoute() {
  if (scene.route.length < 2) return;
  saveScene({ access_route: scene.route.map(([lon, lat]) => ({ lon, lat })) }, gettext("Access route saved."));
}

// The fastest road from the staging point to the scene, as the access route.
async function roadRoute() {
  const [from, to] = [picture.staging_point, picture.scene];
  if (!from || !to) return;
  sceneHint(gettext("Asking the router…"));
  try {
    const q = `from_lon=${from[0]}&from_lat=${from[1]}&to_lon=${to[0]}&to_lat=${to[1]}`;
    const route = await getJSON(`/api/roads/route?${q}`);
    const points = simplifiedRoute(route.coordinates);
    if (points.length < 2) throw new Error(gettext("The staging point is at the scene: no route to draw."));
    await saveScene({ access_route: points.map(([lon, lat]) => ({ lon, lat })) },
      interpolate(gettext("Road route saved: %(km)s km, about %(min)s min."), {
        km: (route.metres / 1000).toFixed(1), min: Math.max(1, Math.round(route.seconds / 60)) }, true));
  } catch (err) {
    sceneHint(err.message, true);
  }
}

function render() {
  renderHead();
  renderTiles();
  renderCasualties();
  renderHospitals();
  renderUnits();
  renderSitrep();
  renderScene();
  $("major").dataset.ready = "1";
  $("major").dataset.casualties = String(picture.casualties.length);
}

const reread = oneReadAtATime(async () => {
  const fresh = await getJSON(`/api/major/${picture.id}`);
  const before = picture.casualties.length;
  picture = fresh;
  render();
  if (fresh.casualties.length > before) chime("notice", 0.3);
});

async function register(tag) {
  showError("register-error", "");
  const number = $("register-number").value.trim();
  try {
    await postJSON(`/api/major/${picture.id}/casualties`, {
      tag, tag_number: number, client_id: `board-${picture.id}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    });
    $("register-number").value = "";
    await reread();
  } catch (err) {
    showError("register-error", err.message);
  }
}

async function patchJSON(url, body) {
  return answer(await fetch(url, {
    method: "PATCH", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  }));
}

function renderPlan() {
  const names = Object.fromEntries(proposal.by_hospital.map((h) => [h.id, h.name]));
  const hospitals = [...new Set(proposal.allocations.map((a) => a.hospital).filter((h) => h))];
  $("plan-rows").innerHTML = proposal.allocations.map((a) => `
    <tr data-casualty="${a.casualty}">
      <td>${escapeHtml(a.tag_number)}</td>
      <td><span class="chip tag-${a.tag}">${escapeHtml(TAG_SHORT[a.tag])}</span></td>
      <td>${a.hospital
        ? `<select class="plan-to" data-casualty="${a.casualty}">${hospitals.map((h) => `<option value="${h}"${h === a.hospital ? " selected" : ""}>${escapeHtml(names[h] || h)}</option>`).join("")}</select>`
        : escapeHtml(a.reason === "not_carried" ? gettext("not carried") : gettext("no hospital can take this patient: decide"))}</td>
      <td>${a.eta_s === null ? "—" : escapeHtml(interpolate(gettext("%(m)s min"), { m: Math.round(a.eta_s / 60) }, true))}</td>
    </tr>`).join("");
  $("plan-note").textContent = proposal.allocations.length
    ? interpolate(gettext("%(n)s patients to %(h)s hospitals; %(u)s without a hospital."), {
      n: proposal.allocations.filter((a) => a.hospital).length, h: hospitals.length, u: proposal.unplaced }, true)
    : gettext("Every casualty at the scene has a destination already.");
  $("plan-accept").disabled = !proposal.allocations.some((a) => a.hospital);
  $("plan").hidden = false;
}

async function plan() {
  showError("plan-error", "");
  try {
    proposal = await getJSON(`/api/major/${picture.id}/plan`);
    renderPlan();
  } catch (err) {
    showError("plan-error", err.message);
  }
}

async function acceptPlan() {
  const allocations = [...document.querySelectorAll(".plan-to")].map((s) => ({
    casualty: Number(s.dataset.casualty), hospital: Number(s.value),
  }));
  try {
    picture = await postJSON(`/api/major/${picture.id}/allocations`, { allocations });
    proposal = null;
    $("plan").hidden = true;
    render();
  } catch (err) {
    showError("plan-error", err.message);
  }
}

// Many units at once (all or none): the recommendation's free units, ticked, sent in one order.
async function openSend() {
  showError("send-error", "");
  try {
    const answer = await getJSON(`/api/incidents/${picture.incident}/recommendation?limit=30`);
    const free = answer.units.filter((u) => u.dispatchable);
    $("send-rows").innerHTML = free.length
      ? free.map((u) => `<li><label><input type="checkbox" value="${u.id}">
          <b>${escapeHtml(u.call_sign)}</b> ${escapeHtml(config.unit_kind[u.kind] || u.kind)}
          <span class="muted">${u.eta_s === null ? "—" : escapeHtml(interpolate(gettext("%(m)s min"), { m: Math.round(u.eta_s / 60) }, true))}</span></label></li>`).join("")
      : `<li class="empty">${escapeHtml(gettext("No free unit to send."))}</li>`;
    $("send").hidden = false;
  } catch (err) {
    showError("send-error", err.message);
  }
}

async function sendUnits() {
  const units = [...document.querySelectorAll("#send-rows input:checked")].map((box) => Number(box.value));
  if (!units.length) return;
  const body = { units };
  if (!picture.command_unit) body.command_unit = units[0];
  try {
    await postJSON(`/api/incidents/${picture.incident}/dispatch-many`, body);
    $("send").hidden = true;
    await reread();
  } catch (err) {
    showError("send-error", err.message);
  }
}

async function saveSitrep(event) {
  event.preventDefault();
  const form = $("sitrep-form");
  const body = { level: Number(form.elements.level.value) };
  for (const name of SITREP_FIELDS) {
    const value = form.elements[name].value;
    body[name] = name === "casualties_reported" ? (value === "" ? null : Number(value)) : value;
  }
  try {
    await patchJSON(`/api/major/${picture.id}/sitrep`, body);
    sitrepDirty = false;
    $("sitrep-state").textContent = gettext("Saved.");
    await reread();
  } catch (err) {
    $("sitrep-state").textContent = err.message;
  }
}

function wire() {
  for (const button of document.querySelectorAll(".tag-button")) {
    button.addEventListener("click", () => register(button.dataset.tag));
  }
  document.addEventListener("keydown", (event) => {
    if (!config.may_dispatch || typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = { r: "red", y: "yellow", g: "green", b: "black" }[event.key.toLowerCase()];
    if (tag && picture.status === "active") { event.preventDefault(); register(tag); }
  });
  $("casualty-rows").addEventListener("change", async (event) => {
    const select = event.target.closest(".retag");
    if (!select) return;
    try {
      await postJSON(`/api/major/${picture.id}/casualties/${select.dataset.id}/tag`, { tag: select.value });
      await reread();
    } catch (err) {
      showError("register-error", err.message);
    }
  });
  $("send-open").addEventListener("click", openSend);
  $("send-go").addEventListener("click", sendUnits);
  $("send-cancel").addEventListener("click", () => { $("send").hidden = true; });
  $("plan-button").addEventListener("click", plan);
  $("plan-accept").addEventListener("click", acceptPlan);
  $("plan-cancel").addEventListener("click", () => { proposal = null; $("plan").hidden = true; });
  $("sitrep-form").addEventListener("input", () => { sitrepDirty = true; $("sitrep-state").textContent = gettext("Not saved yet."); });
  $("sitrep-form").addEventListener("submit", saveSitrep);
  $("scene-staging").addEventListener("click", () => sceneMode("staging"));
  $("scene-route").addEventListener("click", () => sceneMode("route"));
  $("scene-road").addEventListener("click", roadRoute);
  $("scene-save").addEventListener("click", saveRoute);
  $("scene-undo").addEventListener("click", () => { scene.route.pop(); scene.layer.drawDraft({ route: scene.route }); renderScene(); });
  $("scene-cancel").addEventListener("click", () => endSceneMode());
  $("stand-down").addEventListener("click", async () => {
    if (!confirm(gettext("Stand this major incident down?"))) return;
    try {
      await postJSON(`/api/major/${picture.id}/stand-down`);
      await reread();
    } catch (err) {
      showError("register-error", err.message);
    }
  });
}

render();
wire();
startSceneMap();
const showState = showConnectionState($("conn"));
new LiveSocket({
  after: config.last_seq,
  onEvent: (event) => { if (event.incident === picture.incident) reread(); },
  onResync: () => reread(),
  // On every (re)connect: whatever happened while the socket was down is read at once.
  onState: (state) => { showState(state); if (state === "live") reread(); },
});
