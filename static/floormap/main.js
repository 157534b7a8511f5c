// The live floor map page: wires the map, the markers, the websocket, search, nearest and the details
// panel together. The page's JSON config (floormap-config) names the floors and the API paths.

import { DoorLayer } from "./doors.js";
import { LiveFeed, frameFixes, learnNames } from "./live.js";
import { FloorMap } from "./map.js";
import { MarkerLayer } from "./markers.js";
import { DetailsPanel } from "./panel.js";
import { ResultsList } from "./results.js";
import { NearestForm, wireSearch } from "./search.js";
import { fill, getJSON } from "./util.js";

const TICK_MS = 5000;
const RETRYING = new Set(["connecting", "reconnecting", "offline"]);
const STATE_WORDS = {
  connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline · retrying",
  "logged-out": "Logged out: reload to log in", forbidden: "Not allowed on this floor",
};

const config = JSON.parse(document.getElementById("floormap-config").textContent);
const root = document.getElementById("floormap");
const $ = (selector) => root.querySelector(selector);

let floor = null; // the floor shown: /floors/<id>/map.json
let clockOffsetMs = 0; // server clock - this tablet's clock, from each message's "at"
let pendingPick = null; // a result picked on another floor, pulsed once that floor's snapshot is in
const names = new Map(); // tag -> {object, name, kind, category}: frames carry them only now and then
const now = () => Date.now() + clockOffsetMs;
const floorId = () => floor?.id ?? config.floor;

const floorMap = new FloorMap($("#fm-map"), { onZoneClick: (zone) => chooseRoom(zone.id) });
const doors = new DoorLayer(floorMap, { now });
const markers = new MarkerLayer(floorMap.map, { onSelect: (fix) => select(fix) });
const panel = new DetailsPanel($(".fm-panel"), {
  urls: config.urls, canTrail: config.can_trail, floorMap, now, floorId,
  zoneName: (id) => floorMap.zone(id)?.name ?? `zone ${id}`,
  onClose: () => markers.select(null),
});
const results = new ResultsList($(".fm-results"), {
  now, floorId, onPick: (item) => pick(item), onClear: () => {
    markers.highlight([]);
    floorMap.clearPulses();
  },
});
const listed = (title, items) => {
  results.show(title, items);
  markers.highlight(items.filter((item) => item.floor === floorId()).map((item) => item.tag));
};
const failed = (title, error) => results.message(title, error.status ? `The server said no (HTTP ${error.status}).`
  : error.message);
const nearest = new NearestForm($(".fm-nearest"), {
  url: config.urls.nearest, show: listed, fail: failed, onRoom: (id) => floorMap.choose(id),
});
wireSearch($(".fm-search"), { url: config.urls.search, show: listed, fail: failed, clear: () => results.clear() });

const live = new LiveFeed({
  url: (id) => fill(config.urls.socket, { floor: id }),
  staleAfterMs: config.stale_after_s * 1000,
  onMessage: receive,
  onState: (state) => {
    if (state === "logged-out") location.assign(`${config.urls.login}?next=${encodeURIComponent(location.pathname)}`);
    const indicator = $(".fm-conn");
    indicator.dataset.state = state;
    indicator.textContent = STATE_WORDS[state];
  },
  onStale: (seconds) => {
    const banner = $(".fm-stale");
    banner.hidden = seconds === null;
    if (seconds !== null) {
      const down = RETRYING.has(live.state) ? " The connection is down; reconnecting." : "";
      banner.textContent = `No live data for ${seconds} s: the positions shown may be out of date.${down}`;
    }
  },
});

function receive(message) {
  if (message.at) clockOffsetMs = Date.parse(message.at) - Date.now();
  if (message.type === "snapshot") {
    learnNames(message.fixes, names);
    markers.replace(message.fixes);
    if (pendingPick) pulseIfMissing(pendingPick);
    pendingPick = null;
  } else if (message.type === "positions") {
    markers.update(frameFixes(message, names));
    markers.remove(message.left || []);
  } else if (message.type === "doors") {
    doors.update(message);
    return;
  } else if (message.type === "heartbeat") {
    $(".fm-conn").title = `pipeline lag ${Number(message.lag_s).toFixed(1)} s`;
    return;
  } else {
    return;
  }
  const selected = panel.tag && markers.get(panel.tag);
  if (selected) panel.update(selected);
  markers.age(now(), config.old_after_s * 1000);
  $(".fm-count").textContent = `${markers.size} on this floor`;
}

function select(fix) {
  markers.select(fix.tag);
  panel.open(fix);
}

function chooseRoom(zoneId) {
  nearest.choose(zoneId);
  floorMap.choose(zoneId);
}

async function pick(item) {
  if (item.floor === null) return;
  if (item.floor !== floorId()) {
    pendingPick = item;
    await showFloor(item.floor);
  } else {
    pulseIfMissing(item);
  }
  markers.highlight([item.tag]);
  floorMap.focus(item.x_m, item.y_m);
}

function pulseIfMissing(item) {
  floorMap.clearPulses();
  if (!markers.get(item.tag)) floorMap.pulse(item.x_m, item.y_m); // seen too long ago for the live layer
}

async function showFloor(id, { push = true } = {}) {
  const entry = config.floors.find((f) => f.id === id);
  if (!entry) return;
  try {
    floor = await getJSON(entry.data_url);
  } catch (error) {
    const banner = $(".fm-stale");
    banner.hidden = false;
    banner.textContent = `Could not load ${entry.name} (${error.message}).`;
    return;
  }
  if (panel.tag) panel.close();
  markers.clear();
  floorMap.show(floor);
  doors.load(id);
  nearest.setRooms(floor.zones);
  live.open(id);
  for (const link of root.querySelectorAll(".fm-floors a")) {
    if (Number(link.dataset.floor) === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $(".fm-status h1").textContent = floor.name;
  document.title = `${floor.name} · live map · hospital_iot`;
  $(".fm-count").textContent = "";
  if (push && location.pathname !== entry.url) history.pushState({ floor: id }, "", entry.url);
}

root.querySelector(".fm-floors").addEventListener("click", (event) => {
  const link = event.target.closest("a[data-floor]");
  if (!link || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  showFloor(Number(link.dataset.floor));
});
window.addEventListener("popstate", (event) => showFloor(event.state?.floor ?? config.floor, { push: false }));
window.addEventListener("resize", () => floorMap.refit());
setInterval(() => {
  markers.age(now(), config.old_after_s * 1000);
  results.render();
  panel.render();
}, TICK_MS);

history.replaceState({ floor: config.floor }, "");
showFloor(config.floor, { push: false });
