// The floor under the markers: Leaflet in CRS.Simple with floor metres as coordinates (lat = y, lng = x),
// the calibrated plan image, zone outlines with their names, doors, and (for some roles) readers.

const LABEL_CHAR_PX = 7.5; // a room name's width per character, and its height, at the labels' 12 px font
const LABEL_HEIGHT_PX = 18;
const FOCUS_PX_PER_M = 24; // zoom in at least this far when showing a search result
const ll = ([x, y]) => [y, x];

export class FloorMap {
  /** element: the map's container; onZoneClick(zone) when a room is tapped. */
  constructor(element, { onZoneClick }) {
    this.onZoneClick = onZoneClick;
    this.map = L.map(element, {
      crs: L.CRS.Simple, minZoom: -2, maxZoom: 6, zoomSnap: 0.25, zoomDelta: 0.5, wheelPxPerZoomLevel: 90,
      attributionControl: false, zoomControl: true, tapTolerance: 20, bounceAtZoomLimits: false,
    });
    this.base = L.layerGroup().addTo(this.map); // everything of the floor below the markers
    this.labels = L.layerGroup().addTo(this.map);
    this.trails = L.layerGroup().addTo(this.map); // the selected marker's last hour
    this.pulses = L.layerGroup().addTo(this.map); // where something without a live marker was last seen
    this.zones = new Map(); // id -> {zone, layer}
    this.labelled = []; // {element, minPxPerM}: a room's name shows once it fits inside the room
    this.map.on("zoomend", () => this.toggleLabels());
    // once the user moves the map (drag, wheel, pinch, +/-, double tap, keys), a resize no longer refits it
    const touch = () => { this.touched = true; };
    this.map.on("dragstart", touch);
    for (const name of ["wheel", "dblclick", "keydown"]) element.addEventListener(name, touch, { passive: true });
    element.addEventListener("touchstart", (event) => event.touches.length > 1 && touch(), { passive: true });
    this.map.zoomControl.getContainer().addEventListener("click", touch);
  }

  /** Draw a floor (the JSON of /floors/<id>/map.json) and frame it. */
  show(floor) {
    this.floor = floor;
    this.base.clearLayers();
    this.labels.clearLayers();
    this.trails.clearLayers();
    this.pulses.clearLayers();
    this.zones.clear();
    this.labelled = [];
    this.touched = false; // the user has not panned or zoomed this floor yet
    const extent = L.latLngBounds([0, 0], [floor.height_m, floor.width_m]);
    // the view first: Leaflet renders vector layers (and gives them their elements) once the map has one
    this.map.setMaxBounds(null);
    this.map.setMinZoom(-2);
    this.map.invalidateSize();
    this.map.fitBounds(extent, { padding: [12, 12], animate: false });
    this.map.setMinZoom(this.map.getZoom() - 1);
    this.map.setMaxBounds((floor.plan ? L.latLngBounds(floor.plan.bounds) : extent).pad(0.25));
    if (floor.plan) {
      L.imageOverlay(floor.plan.url, floor.plan.bounds, { className: "fm-plan", alt: `plan of ${floor.name}` })
        .addTo(this.base);
    }
    floor.zones.forEach((zone) => this.addZone(zone));
    for (const door of floor.doors) {
      L.polyline(door.line.map(ll), { className: door.is_exit ? "fm-door fm-exit" : "fm-door", interactive: false })
        .addTo(this.base);
    }
    for (const reader of floor.readers) {
      L.circleMarker([reader.y_m, reader.x_m], { radius: 4, className: `fm-reader ${reader.kind}` })
        .bindTooltip(`${reader.name} (${reader.code})`).addTo(this.base);
    }
    this.toggleLabels();
  }

  addZone(zone) {
    const outline = zone.kind === "ward";
    const layer = L.polygon(zone.rings.map((ring) => ring.map(ll)), {
      className: `fm-zone kind-${zone.kind}`, interactive: !outline, weight: outline ? 2 : 1.5,
      dashArray: outline ? "6 6" : null, fill: !outline,
    }).addTo(this.base);
    layer.getElement().dataset.code = zone.code;
    if (!outline) {
      layer.bindTooltip(zone.name, { sticky: true, className: "fm-name" });
      layer.on("click", () => this.onZoneClick(zone));
    }
    if (zone.label) {
      const label = L.tooltip({ permanent: true, direction: "center", className: "fm-label", interactive: false })
        .setLatLng(ll(zone.label)).setContent(zone.name).addTo(this.labels);
      const xs = zone.rings[0].map(([x]) => x);
      const ys = zone.rings[0].map(([, y]) => y);
      const widthM = Math.max(...xs) - Math.min(...xs);
      const heightM = Math.max(...ys) - Math.min(...ys);
      const minPxPerM = Math.max((zone.name.length * LABEL_CHAR_PX + 8) / widthM, LABEL_HEIGHT_PX / heightM);
      this.labelled.push({ element: label.getElement(), minPxPerM });
    }
    this.zones.set(zone.id, { zone, layer });
  }

  toggleLabels() {
    const pxPerM = this.map.getZoomScale(this.map.getZoom(), 0); // CRS.Simple: 1 px per metre at zoom 0
    for (const { element, minPxPerM } of this.labelled) element?.classList.toggle("is-shown", pxPerM >= minPxPerM);
  }

  /** Frame the whole floor again (after a resize), unless the user has moved the map themselves. */
  refit() {
    this.map.invalidateSize();
    if (this.floor && !this.touched) {
      this.map.fitBounds([[0, 0], [this.floor.height_m, this.floor.width_m]], { padding: [12, 12], animate: false });
    }
  }

  zone(id) {
    return this.zones.get(id)?.zone;
  }

  /** Outline the room chosen for "nearest" (null: none). */
  choose(zoneId) {
    for (const [id, { layer }] of this.zones) layer.getElement()?.classList.toggle("is-chosen", id === zoneId);
  }

  /** Pan (and zoom in if needed) to a point in metres. */
  focus(x_m, y_m) {
    this.touched = true;
    const zoom = Math.max(this.map.getZoom(), Math.log2(FOCUS_PX_PER_M));
    this.map.flyTo([y_m, x_m], Math.min(zoom, this.map.getMaxZoom()), { duration: 0.6 });
  }

  /** A pulsing ring where something was last seen that has no live marker on this floor. */
  pulse(x_m, y_m) {
    const icon = L.divIcon({ className: "fm-ghost", iconSize: [44, 44], iconAnchor: [22, 22] });
    L.marker([y_m, x_m], { icon, interactive: false }).addTo(this.pulses);
  }

  clearPulses() {
    this.pulses.clearLayers();
  }

  /** A trail (points in metres on this floor, oldest first), replacing the one shown. */
  trail(points) {
    this.trails.clearLayers();
    if (!points.length) return;
    const line = points.map((p) => [p.y_m, p.x_m]);
    L.polyline(line, { className: "fm-trail", interactive: false }).addTo(this.trails);
    L.circleMarker(line[0], { radius: 6, className: "fm-trail-start", interactive: false }).addTo(this.trails);
  }

  clearTrail() {
    this.trails.clearLayers();
  }
}
