// Live markers: one per tag, an icon per kind with a name tooltip, an accuracy circle in metres,
// a smooth glide to each new position, greyed when not seen for a while, pulsing when highlighted.

import { iconSvg, look } from "./icons.js";

const GLIDE_MS = 800;
const JUMP_M = 25; // farther than this (or with the page hidden): no glide, just move

const latLng = (fix) => L.latLng(fix.y_m, fix.x_m); // CRS.Simple: lat = y metres, lng = x metres

export class MarkerLayer {
  /** map: a Leaflet map in floor metres; onSelect(fix) when a marker is tapped. */
  constructor(map, { onSelect }) {
    this.map = map;
    this.onSelect = onSelect;
    this.halos = L.layerGroup().addTo(map);
    this.icons = L.layerGroup().addTo(map);
    this.entries = new Map(); // tag id -> {fix, marker, halo, glide}
    this.hits = new Set(); // highlighted tags
    this.selected = null; // the tag whose details are open
  }

  /** A snapshot: exactly these fixes, as they are (markers of tags not in it go). */
  replace(fixes) {
    const keep = new Set(fixes.map((fix) => fix.tag));
    this.remove([...this.entries.keys()].filter((tag) => !keep.has(tag)));
    for (const fix of fixes) {
      const entry = this.entries.get(fix.tag);
      if (entry) this.move(entry, fix);
      else this.add(fix);
    }
  }

  /** New positions; a fix older than the one shown (a late frame) is ignored. */
  update(fixes) {
    for (const fix of fixes) {
      const entry = this.entries.get(fix.tag);
      if (!entry) this.add(fix);
      else if (Date.parse(fix.seen_at) >= Date.parse(entry.fix.seen_at)) this.move(entry, fix);
    }
  }

  remove(tags) {
    for (const tag of tags) {
      const entry = this.entries.get(tag);
      if (!entry) continue;
      cancelAnimationFrame(entry.glide);
      this.icons.removeLayer(entry.marker);
      this.halos.removeLayer(entry.halo);
      this.entries.delete(tag);
    }
  }

  clear() {
    this.remove([...this.entries.keys()]);
  }

  get(tag) {
    return this.entries.get(tag)?.fix;
  }

  get size() {
    return this.entries.size;
  }

  add(fix) {
    const colour = look(fix)[1];
    const icon = L.divIcon({ className: "fm-marker", html: iconSvg(fix), iconSize: [44, 44], iconAnchor: [22, 22] });
    const marker = L.marker(latLng(fix), { icon, keyboard: true, riseOnHover: true })
      .bindTooltip(fix.name || `tag ${fix.tag}`, { direction: "top", offset: [0, -20], className: "fm-name" })
      .on("click", () => this.onSelect(this.entries.get(fix.tag).fix));
    const halo = L.circle(latLng(fix), {
      radius: fix.accuracy_m, color: colour, weight: 1, opacity: 0.6, fillOpacity: 0.12, interactive: false,
      className: "fm-halo",
    });
    this.halos.addLayer(halo);
    this.icons.addLayer(marker);
    const element = marker.getElement();
    element.dataset.tag = fix.tag;
    element.dataset.kind = fix.category || fix.kind || "tag";
    element.setAttribute("aria-label", fix.name || `tag ${fix.tag}`);
    this.entries.set(fix.tag, { fix, marker, halo, glide: 0 });
    this.mark(fix.tag);
  }

  /** Apply the highlight and selection classes to one tag's marker. */
  mark(tag) {
    const { marker } = this.entries.get(tag);
    const element = marker.getElement();
    element?.classList.toggle("is-hit", this.hits.has(tag));
    element?.classList.toggle("is-selected", this.selected === tag);
    marker.setZIndexOffset(this.hits.has(tag) || this.selected === tag ? 1000 : 0);
  }

  move(entry, fix) {
    entry.fix = fix;
    entry.halo.setRadius(fix.accuracy_m);
    cancelAnimationFrame(entry.glide);
    const from = entry.marker.getLatLng();
    const to = latLng(fix);
    if (document.hidden || from.distanceTo(to) > JUMP_M || from.equals(to)) {
      this.place(entry, to);
      return;
    }
    const start = performance.now();
    const step = (now) => {
      const t = Math.min(1, (now - start) / GLIDE_MS);
      const k = 1 - (1 - t) ** 3; // ease out
      this.place(entry, L.latLng(from.lat + (to.lat - from.lat) * k, from.lng + (to.lng - from.lng) * k));
      entry.glide = t < 1 ? requestAnimationFrame(step) : 0;
    };
    entry.glide = requestAnimationFrame(step);
  }

  place(entry, at) {
    entry.marker.setLatLng(at);
    entry.halo.setLatLng(at);
  }

  /** Grey the markers not seen for longer than oldAfterMs (nowMs: server time). */
  age(nowMs, oldAfterMs) {
    for (const { fix, marker, halo } of this.entries.values()) {
      const old = nowMs - Date.parse(fix.seen_at) > oldAfterMs;
      marker.getElement()?.classList.toggle("is-old", old);
      halo.getElement()?.classList.toggle("is-old", old);
    }
  }

  /** Pulse these tags' markers (and only these); [] stops every pulse. */
  highlight(tags) {
    this.hits = new Set(tags);
    for (const tag of this.entries.keys()) this.mark(tag);
  }

  /** Mark the tag whose details are open (null: none). */
  select(tag) {
    this.selected = tag;
    for (const other of this.entries.keys()) this.mark(other);
  }
}
