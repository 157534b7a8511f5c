// The details of one marker (a side panel; a bottom sheet on narrow screens) and its trail over the
// last hour, drawn on the map.

import { ago, clock, el, fill, getJSON, words } from "./util.js";

export class DetailsPanel {
  /** aside: .fm-panel; floorMap draws the trail; zoneName(id); now() in server time; onClose(). */
  constructor(aside, { urls, canTrail, floorMap, zoneName, now, floorId, onClose }) {
    Object.assign(this, { aside, urls, canTrail, floorMap, zoneName, now, floorId, onClose });
    this.title = aside.querySelector("h2");
    this.facts = aside.querySelector("dl");
    this.trailNote = aside.querySelector(".fm-trail-note");
    this.fix = null;
    this.record = null; // the tracked object's record (asset status, number), once fetched
    aside.querySelector(".fm-close").addEventListener("click", () => this.close());
  }

  get tag() {
    return this.fix?.tag ?? null;
  }

  async open(fix) {
    this.fix = fix;
    this.record = null;
    this.title.textContent = fix.name || `Tag ${fix.tag}`;
    this.aside.hidden = false;
    this.render();
    this.loadTrail(fix.tag);
    if (fix.object !== null) {
      try {
        const record = await getJSON(fill(this.urls.object, { object: fix.object }));
        if (this.fix?.tag === fix.tag) {
          this.record = record;
          this.render();
        }
      } catch (error) {
        console.warn("floor map: no details for object", fix.object, error);
      }
    }
  }

  /** The marker moved or was seen again: refresh what changed. */
  update(fix) {
    if (fix.tag !== this.tag) return;
    this.fix = fix;
    this.render();
  }

  close() {
    this.fix = null;
    this.aside.hidden = true;
    this.floorMap.clearTrail();
    this.onClose();
  }

  render() {
    const { fix, record } = this;
    if (!fix) return;
    const asset = record?.asset;
    const seenAt = Date.parse(fix.seen_at);
    const rows = [
      ["Kind", words(fix.kind) || "unassigned tag"],
      ["Category", words(fix.category)],
      ["Status", asset ? words(asset.status) : ""],
      ["Asset no.", asset?.asset_number],
      ["Tag", fix.tag],
      ["Room", fix.zone === null ? "not in a room" : this.zoneName(fix.zone)],
      ["Accuracy", `± ${fix.accuracy_m.toFixed(1)} m`],
      ["Last seen", `${ago(seenAt, this.now())} (${clock(seenAt)})`],
      ["Moving", fix.stationary ? "no, standing still" : "yes"],
    ].filter(([, value]) => value);
    this.facts.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  }

  async loadTrail(tag) {
    this.floorMap.clearTrail();
    if (!this.canTrail) {
      this.trailNote.textContent = "Trail: not shown for your role.";
      return;
    }
    this.trailNote.textContent = "Trail: loading…";
    try {
      const trail = await getJSON(fill(this.urls.trail, { tag }));
      if (tag !== this.tag) return;
      const here = trail.points.filter((point) => point.floor === this.floorId());
      this.floorMap.trail(here);
      this.trailNote.textContent = describeTrail(trail.points.length, here);
      this.aside.dataset.trailPoints = String(here.length);
    } catch (error) {
      if (tag === this.tag) this.trailNote.textContent = `Trail: could not be loaded (${error.message}).`;
    }
  }
}

function describeTrail(total, here) {
  if (!total) return "Trail: no recorded positions in the last hour.";
  const since = clock(Date.parse(here[0]?.seen_at));
  const elsewhere = total - here.length;
  const other = elsewhere ? `; ${elsewhere} on other floors` : "";
  return here.length
    ? `Trail: ${here.length} positions on this floor since ${since}${other}.`
    : `Trail: all ${total} positions of the last hour are on other floors.`;
}
