// The console's alarm list: the security alerts (kind "security.*") addressed to this user, open ones first,
// the most severe and newest on top. Fed by ws/alerts/ (alert_feed.js): the snapshot replaces the list, each
// change updates one alarm; a closed alarm leaves the list unless it is the one selected.

import { alertMerge } from "../alerts/alert_feed.js";
import { el } from "../floormap/util.js";
import { clockTime } from "./api.js";

export const OPEN = new Set(["new", "acknowledged"]);

export const isSecurity = (alert) => alert.kind.startsWith("security.");

/** "Nursery, Maternity 2 East" */
export function where(alert) {
  return [alert.zone_name, alert.ward_name].filter(Boolean).join(", ");
}

function order(a, b) {
  return Number(OPEN.has(b.state)) - Number(OPEN.has(a.state)) || b.severity - a.severity
    || (b.raised_at || "").localeCompare(a.raised_at || "") || b.id - a.id;
}

export class AlarmList {
  /** list: the <ol>; onSelect(alert) when one is clicked. */
  constructor(list, { onSelect }) {
    Object.assign(this, { list, onSelect });
    this.alarms = new Map(); // id -> alert
    this.selected = null;
  }

  replace(alerts) {
    this.alarms = new Map(alerts.filter(isSecurity).map((alert) => [alert.id, alert]));
    if (this.selected !== null && !this.alarms.has(this.selected.id)) this.alarms.set(this.selected.id, this.selected);
    this.render();
  }

  /** One alert changed: merged into the list (alertMerge: an older answer adds its timeline only); returns the
   *  merged alert (null for another kind). */
  upsert(alert) {
    if (!isSecurity(alert)) return null;
    const merged = alertMerge(this.alarms.get(alert.id), alert);
    if (OPEN.has(merged.state) || this.selected?.id === merged.id) this.alarms.set(merged.id, merged);
    else this.alarms.delete(merged.id);
    if (this.selected?.id === merged.id) this.selected = merged;
    return merged;
  }

  get(id) {
    return this.alarms.get(id);
  }

  get openCount() {
    return [...this.alarms.values()].filter((alert) => OPEN.has(alert.state)).length;
  }

  select(alert) {
    this.selected = alert;
    this.render();
  }

  render(flashId = null) {
    const shown = [...this.alarms.values()].sort(order);
    this.list.replaceChildren(...shown.map((alert) => this.row(alert, flashId)));
    if (!shown.length) this.list.append(el("li", { class: "sc-empty" }, "No open alarms."));
  }

  row(alert, flashId) {
    const place = where(alert);
    const button = el("button", {
      type: "button", class: `sc-alarm state-${alert.state}`, dataset: { id: String(alert.id), kind: alert.kind },
      "aria-pressed": this.selected?.id === alert.id ? "true" : "false", onclick: () => this.onSelect(alert),
    },
    el("span", { class: `sev sev-${alert.severity}` }, alert.severity_label),
    el("strong", {}, alert.title),
    el("small", {}, [alert.subject_label, place].filter(Boolean).join(" · ") || alert.kind),
    el("span", { class: "sc-alarm-meta" }, el("span", { class: `badge ${alert.state}` }, alert.state),
      ` ${clockTime(alert.raised_at)}`, alert.escalation_level ? ` · escalated ×${alert.escalation_level}` : ""));
    if (alert.id === flashId) button.classList.add("flash");
    return el("li", {}, button);
  }
}
