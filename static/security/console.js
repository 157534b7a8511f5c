// The security console: live alarms (ws/alerts/, alert_feed.js, a tone by severity), the floor map of the
// selected alarm (the floor map's modules: plan, live markers, door states) centred on the infant with its
// last hour's trail growing live, the alarm's detail with acknowledge / resolve, the floor's doors with
// lock / unlock, and Code Pink (banner, call, resolve). The page's JSON config (security-config) says what
// this user may do and where the APIs are.

import { connectAlerts, disableSound, enableSound, soundEnabled } from "../alerts/alert_feed.js";
import { DoorLayer } from "../floormap/doors.js";
import { LiveFeed, frameFixes, learnNames } from "../floormap/live.js";
import { FloorMap } from "../floormap/map.js";
import { MarkerLayer } from "../floormap/markers.js";
import { fill, getJSON } from "../floormap/util.js";
import { AlarmList } from "./alarms.js";
import { apiClient } from "./api.js";
import { CodePinkControls } from "./codepink.js";
import { AlarmDetail } from "./detail.js";
import { DoorList } from "./doorlist.js";

const config = JSON.parse(document.getElementById("security-config").textContent);
const root = document.getElementById("security-console");
const $ = (selector) => root.querySelector(selector);
const api = apiClient(config.csrf);
const STATE_WORDS = {
  connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline, retrying",
  "logged-out": "logged out: reload", forbidden: "not allowed", open: "live", closed: "reconnecting…",
  refused: "not allowed",
};

let floor = null; // the floor shown: /floors/<id>/map.json
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;
const names = new Map(); // tag -> {object, name, kind, category}
const focus = { alert: null, infant: null, tag: null, trail: [] }; // the selected alarm and what it is about

const floorMap = new FloorMap($("#sc-map"), { onZoneClick: () => {} });
const markers = new MarkerLayer(floorMap.map, { onSelect: () => {} });
const doorList = new DoorList($(".sc-doors"), {
  canCommand: config.can.command_doors, now,
  command: (code, command) => api(fill(config.urls.door_command, { code }), { method: "POST", body: { command } }),
});
const doors = new DoorLayer(floorMap, { now, onChange: (rows) => doorList.show(rows) });
const alarms = new AlarmList($(".sc-alarm-list"), { onSelect: (alert) => select(alert) });
const detail = new AlarmDetail($(".sc-detail"), {
  canAnswer: config.can.answer_alerts,
  incidentUrl: (id) => fill(config.urls.incident, { id }),
  act: async (alert, action, note) => {
    const changed = await api(fill(config.urls.alert_action, { alert: alert.id, action }), { method: "POST", body: { note } });
    alarms.upsert(changed);
    alarms.render();
    return changed;
  },
});
const codePink = new CodePinkControls(root, {
  config, api, scope: () => (floor ? `floor:${floor.id}` : null),
  infant: () => (focus.infant ? { id: focus.infant.id, name: focus.infant.name } : null),
  onChange: () => {},
});

function indicate(selector, label, state) {
  const badge = $(selector);
  badge.dataset.state = { open: "live", closed: "reconnecting", refused: "forbidden" }[state] || state;
  badge.textContent = `${label}: ${STATE_WORDS[state] || state}`;
}

const live = new LiveFeed({
  url: (id) => fill(config.urls.socket, { floor: id }),
  staleAfterMs: config.stale_after_s * 1000,
  onMessage: receive,
  onState: (state) => indicate(".sc-map-conn", "Map", state),
  onStale: (seconds) => {
    const banner = $(".sc-stale");
    banner.hidden = seconds === null;
    if (seconds !== null) banner.textContent = `No live positions for ${seconds} s: the map may be out of date.`;
  },
});

function receive(message) {
  if (message.at) clockOffsetMs = Date.parse(message.at) - Date.now();
  if (message.type === "snapshot") {
    learnNames(message.fixes, names);
    markers.replace(message.fixes);
  } else if (message.type === "positions") {
    const fixes = frameFixes(message, names);
    markers.update(fixes);
    markers.remove(message.left || []);
    const mine = fixes.find((fix) => fix.tag === focus.tag);
    if (mine) extendTrail(mine);
  } else if (message.type === "doors") {
    doors.update(message);
    return;
  } else {
    return;
  }
  markers.age(now(), config.old_after_s * 1000);
  if (focus.tag) markers.highlight(markers.get(focus.tag) ? [focus.tag] : []);
}

async function showFloor(id) {
  const entry = config.floors.find((f) => f.id === id);
  if (!entry) return false;
  if (floor?.id === id) return true;
  floor = await getJSON(entry.data_url);
  markers.clear();
  floorMap.show(floor);
  doors.load(id);
  live.open(id);
  $(".sc-floor").value = String(id);
  return true;
}

// ---- the selected alarm: detail, the infant, the map centred on it, the trail ----

async function select(alert) {
  focus.alert = alert;
  focus.infant = null;
  focus.tag = null;
  focus.trail = [];
  alarms.select(alert);
  detail.show(alert);
  detail.showInfant(null);
  detail.setTrailNote("");
  floorMap.clearTrail();
  floorMap.clearPulses();
  refreshDetail(alert);
  if (alert.subject_type === "infant" && alert.subject_id) {
    try {
      focus.infant = await api(fill(config.urls.infant, { infant: alert.subject_id }));
      focus.tag = focus.infant.tag || null;
      detail.showInfant(focus.infant);
    } catch (error) {
      detail.showInfant(null, `not shown (${error.message})`);
    }
  }
  if (focus.alert?.id !== alert.id) return;
  const latest = focus.alert; // it may have moved while the infant was fetched
  const place = focus.infant?.place;
  const floorId = latest.floor ?? place?.floor ?? floor?.id;
  if (floorId && floorId !== floor?.id && !(await showFloor(floorId))) return;
  centre(latest, place);
  if (focus.tag) loadTrail(focus.tag);
}

/** The alarm shown at once, then again with its timeline (GET /api/alerts/<id>/). */
function refreshDetail(alert) {
  detail.show(alert);
  api(fill(config.urls.alert, { alert: alert.id })).then((full) => {
    if (focus.alert?.id === full.id) detail.show(alarms.upsert(full) || full);
  }).catch((error) => console.warn("alarm details", error));
}

function centre(alert, place) {
  const marker = focus.tag ? markers.get(focus.tag) : null;
  markers.highlight(marker ? [focus.tag] : []);
  markers.select(marker ? focus.tag : null);
  const point = marker || (place && place.floor === floor?.id ? place : null)
    || (alert.x_m !== null && alert.y_m !== null ? alert : null);
  if (!point) return;
  floorMap.focus(point.x_m, point.y_m);
  if (!marker) floorMap.pulse(point.x_m, point.y_m); // no live marker: where it was last seen
}

async function loadTrail(tag) {
  if (!config.can.trail) {
    detail.setTrailNote("Trail: not shown for your role.");
    return;
  }
  try {
    const trail = await getJSON(fill(config.urls.trail, { tag }));
    if (tag !== focus.tag) return;
    focus.trail = trail.points.filter((point) => point.floor === floor?.id);
    floorMap.trail(focus.trail);
    detail.setTrailNote(focus.trail.length
      ? `Trail: ${focus.trail.length} positions in the last hour on this floor, growing live.`
      : "Trail: no recorded positions on this floor in the last hour.");
  } catch (error) {
    detail.setTrailNote(`Trail: could not be loaded (${error.message}).`);
  }
}

function extendTrail(fix) {
  focus.trail.push({ x_m: fix.x_m, y_m: fix.y_m, floor: floor.id, seen_at: fix.seen_at });
  floorMap.trail(focus.trail);
}

// ---- alarms live ----

/** The selected alarm moved with its infant: the map follows it (to the alarm's floor if it changed floor). */
async function follow(alert) {
  if (alert.floor && alert.floor !== floor?.id) {
    if (!(await showFloor(alert.floor)) || focus.alert?.id !== alert.id) return;
    if (focus.tag) loadTrail(focus.tag);
  }
  floorMap.clearPulses();
  centre(alert, null);
}

function alarmsChanged(alert, message) {
  const merged = alarms.upsert(alert);
  if (!merged) return;
  alarms.render(message.action === "raised" || message.action === "escalated" ? merged.id : null);
  if (message.action === "moved") { // only the place changed: no sound, no count, no reload of the timeline
    if (focus.alert?.id === merged.id) {
      focus.alert = merged;
      detail.showFacts(merged);
      follow(merged);
    }
    return;
  }
  $(".sc-count").textContent = `${alarms.openCount} open`;
  if (focus.alert?.id === merged.id) refreshDetail(merged);
  if (merged.kind === "security.code_pink" || merged.kind === "security.door_forced") codePink.refresh();
  if (message.sound && !focus.alert) select(merged); // the first loud alarm takes the empty console
}

connectAlerts({
  onStatus: (state) => indicate(".sc-alerts-conn", "Alarms", state),
  onSnapshot: (alerts) => {
    alarms.replace(alerts);
    $(".sc-count").textContent = `${alarms.openCount} open`;
  },
  onAlert: alarmsChanged,
  onReminder: (alert, message) => alarmsChanged(alert, { ...message, action: "escalated" }),
});

const soundButton = $(".sc-sound");
const soundLabel = () => {
  soundButton.setAttribute("aria-pressed", soundEnabled() ? "true" : "false");
  soundButton.textContent = soundEnabled() ? "Sound on" : "Enable sound";
};
soundButton.addEventListener("click", () => {
  if (soundEnabled()) disableSound(); else enableSound();
  soundLabel();
});
soundLabel();

$(".sc-floor").addEventListener("change", (event) => showFloor(Number(event.target.value)));
// the map's box changes with the layout (the banner, the header wrapping, a resized window): Leaflet must know
new ResizeObserver(() => floorMap.refit()).observe($("#sc-map"));
setInterval(() => markers.age(now(), config.old_after_s * 1000), 5000);
setInterval(() => codePink.refresh(), 30000);

codePink.refresh();
if (config.floor !== null) showFloor(config.floor);
