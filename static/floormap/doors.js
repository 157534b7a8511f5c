// Door states on the floor map: every door a controller locks is drawn over its line in the colour of the
// controller's state (locked, unlocked, open, forced, held open, egress pending with its countdown, offline).
// Rows come from GET /api/security/doors/?floor=<id> when a floor is shown, then from the floor websocket's
// "doors" messages ({"type": "doors", "floor_id", "doors": [rows]}, docs/doors.md). A user who may not see
// doors (the API says 403) gets no layer.

import { getJSON } from "./util.js";

const DOORS_URL = "/api/security/doors/";

/** What one controller row shows, the most urgent first: [state key, words]. nowMs: server time. */
export function doorState(row, nowMs = Date.now()) {
  if (!row.online) return ["offline", "offline"];
  if (row.forced) return ["forced", "forced open"];
  if (row.held_open) return ["held-open", "held open"];
  if (row.egress === "pending") {
    if (!row.release_at) return ["egress", "egress pending"];
    const leftS = Math.max(0, Math.ceil((Date.parse(row.release_at) - nowMs) / 1000));
    return ["egress", `egress pending: releases in ${leftS} s`];
  }
  if (row.egress === "released") return ["released", "released by delayed egress"];
  if (row.kind === "elevator") return row.held ? ["held", "elevators held"] : ["unlocked", "elevators free"];
  if (row.open) return ["open", "open"];
  return row.locked ? ["locked", "locked"] : ["unlocked", "unlocked"];
}

export class DoorLayer {
  /** floorMap: the FloorMap the doors are drawn on; onChange(rows) after each update; now(): server ms. */
  constructor(floorMap, { url = DOORS_URL, onChange = () => {}, now = () => Date.now() } = {}) {
    Object.assign(this, { floorMap, url, onChange, now });
    this.layer = L.layerGroup().addTo(floorMap.map);
    this.rows = new Map(); // controller code -> row
    this.floorId = null;
    setInterval(() => this.tick(), 1000);
  }

  /** The floor shown changed (after floorMap.show): fetch its doors. */
  async load(floorId) {
    this.floorId = floorId;
    this.rows.clear();
    this.layer.clearLayers();
    try {
      const rows = await getJSON(this.url, { floor: floorId });
      if (floorId === this.floorId) this.update({ floor_id: floorId, doors: rows });
    } catch (error) {
      if (error.status !== 403) console.warn("doors: not loaded", error);
    }
  }

  /** A "doors" message: the floor's rows now (a message of another floor is ignored). */
  update(message) {
    if (message.floor_id !== this.floorId) return;
    this.rows = new Map(message.doors.map((row) => [row.controller, row]));
    this.draw();
    this.onChange([...this.rows.values()]);
  }

  get(code) {
    return this.rows.get(code);
  }

  draw() {
    this.layer.clearLayers();
    const lines = new Map((this.floorMap.floor?.doors || []).map((door) => [door.code, door]));
    for (const row of this.rows.values()) {
      const [key, words] = doorState(row, this.now());
      for (const code of row.doors) {
        const door = lines.get(code);
        if (!door) continue;
        const line = L.polyline(door.line.map(([x, y]) => [y, x]), { className: `fm-door-state door-${key}` })
          .bindTooltip(`${door.name}: ${words}`, { sticky: true, className: "fm-name" })
          .addTo(this.layer);
        const element = line.getElement();
        if (element) Object.assign(element.dataset, { door: code, controller: row.controller, state: key });
      }
    }
  }

  /** Egress countdowns tick on their own between messages. */
  tick() {
    if ([...this.rows.values()].some((row) => row.egress === "pending")) {
      this.draw();
      this.onChange([...this.rows.values()]);
    }
  }
}
