// The search box ("infusion pump", a name, an asset number) and the "nearest available" form.

import { getJSON, rows } from "./util.js";

const TYPE_PAUSE_MS = 350;

/** Search as the user types (after a pause) or submits; show(title, items) or fail(title, error). */
export function wireSearch(form, { url, show, fail, clear }) {
  const input = form.querySelector("input");
  let timer = 0;
  let asked = "";
  const run = async () => {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (q.length < 2) {
      if (!q) clear();
      return;
    }
    try {
      const items = rows(await getJSON(url, { q }));
      if (q === asked) show(`“${q}”`, items);
    } catch (error) {
      if (q === asked) fail(`“${q}”`, error);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    asked = "";
    input.blur(); // closes the on-screen keyboard of a tablet
    run();
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, TYPE_PAUSE_MS);
  });
}

/** The nearest equipment of a category to a room; the room comes from the select or a tap on the map. */
export class NearestForm {
  constructor(form, { url, show, fail, onRoom }) {
    Object.assign(this, { form, url, show, fail, onRoom });
    this.category = form.elements.category;
    this.room = form.elements.zone;
    this.available = form.elements.available;
    this.room.addEventListener("change", () => this.onRoom(Number(this.room.value) || null));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
  }

  /** The rooms of the floor shown, by name (wards excluded: they are not a place to start from). */
  setRooms(zones) {
    const rooms = zones.filter((zone) => zone.kind !== "ward").sort((a, b) => a.name.localeCompare(b.name));
    const first = this.room.options[0];
    this.room.replaceChildren(first, ...rooms.map((zone) => new Option(zone.name, zone.id)));
    this.room.value = "";
  }

  choose(zoneId) {
    this.room.value = zoneId === null ? "" : String(zoneId);
  }

  async run() {
    const zone = this.room.value;
    const label = this.category.selectedOptions[0].textContent;
    if (!zone) {
      this.fail(`Nearest ${label.toLowerCase()}`, new Error("choose a room first: tap it on the map or pick it"));
      return;
    }
    const available = this.available.checked;
    const title = `Nearest ${available ? "available " : ""}${label.toLowerCase()} to ${
      this.room.selectedOptions[0].textContent}`;
    try {
      const params = { category: this.category.value, zone, limit: 5, available: available ? "true" : "" };
      this.show(title, rows(await getJSON(this.url, params)));
    } catch (error) {
      this.fail(title, error);
    }
  }
}
