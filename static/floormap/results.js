// The list under the search and nearest forms: one large button per match, with its room, its floor
// (when not this one), when it was last seen and, for "nearest", how far it is.

import { ago, el, words } from "./util.js";

export class ResultsList {
  /** section: .fm-results; onPick(item) when a match is tapped; onClear() when the list is closed. */
  constructor(section, { onPick, onClear, now, floorId }) {
    Object.assign(this, { section, onPick, onClear, now, floorId });
    this.title = section.querySelector("h2");
    this.list = section.querySelector("ol");
    this.rows = []; // {item, place, li}: the rows shown, with the element holding their "… ago"
    section.querySelector(".fm-clear").addEventListener("click", () => this.clear());
  }

  /** Show matches (search or nearest items of the tracking API). */
  show(title, items) {
    this.title.textContent = `${title}: ${items.length ? `${items.length} found` : "nothing found"}`;
    this.rows = items.map((item) => this.row(item));
    this.list.replaceChildren(...this.rows.map(({ li }) => li));
    this.section.hidden = false;
  }

  message(title, text) {
    this.rows = [];
    this.title.textContent = title;
    this.list.replaceChildren(el("li", { class: "fm-note" }, text));
    this.section.hidden = false;
  }

  clear() {
    this.rows = [];
    this.section.hidden = true;
    this.list.replaceChildren();
    this.onClear();
  }

  /** Re-word the "… ago" of every row (every few seconds; the buttons stay, so a tap is never lost). */
  render() {
    for (const { item, place } of this.rows) place.textContent = this.where(item);
  }

  row(item) {
    const kind = words(item.category) || words(item.kind);
    const what = (item.name || "").toLowerCase().includes(kind.toLowerCase()) ? "" : kind; // "Infusion pump 7"
    const place = el("small", {}, this.where(item));
    const button = el("button", { type: "button", disabled: item.floor === null, onclick: () => this.onPick(item) },
      el("b", {}, item.name || item.tag), what ? el("span", { class: "fm-what" }, ` · ${what}`) : null,
      item.status && item.status !== "available" ? el("span", { class: "fm-status-tag" }, words(item.status)) : null,
      place);
    return { item, place, li: el("li", { dataset: { tag: item.tag || "" } }, button) };
  }

  /** "Room 405 · 4 West · 2 min ago · 12 m" */
  where(item) {
    if (item.floor === null) return "not located yet";
    const parts = [item.zone_name || "no room"];
    if (item.floor !== this.floorId()) parts.push(item.floor_name);
    parts.push(ago(Date.parse(item.seen_at), this.now()));
    if (item.distance_m !== undefined) parts.push(distance(item));
    return parts.join(" · ");
  }
}

function distance(item) {
  const metres = `${Math.round(item.distance_m)} m`;
  if (!item.floors_away) return metres;
  return `${item.floors_away} floor${item.floors_away > 1 ? "s" : ""} away`;
}
