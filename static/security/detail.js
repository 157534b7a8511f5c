// The selected alarm on the console: what and where, the infant it is about (mother, ward, band, escort, last
// place), acknowledge / resolve with a note, and the alarm's timeline.

import { el, words } from "../floormap/util.js";
import { clockTime } from "./api.js";
import { where } from "./alarms.js";

const ALLOWED = { new: ["acknowledge", "resolve"], acknowledged: ["resolve"] };

export class AlarmDetail {
  /** section: .sc-detail; act(alert, action, note) -> Promise of the changed alert. */
  constructor(section, { canAnswer, act, incidentUrl }) {
    Object.assign(this, { section, canAnswer, act, incidentUrl });
    this.alert = null;
    this.$ = (selector) => section.querySelector(selector);
    section.querySelector(".sc-actions").hidden = !canAnswer;
    section.querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", () => this.answer(button)));
  }

  show(alert) {
    this.alert = alert;
    this.section.hidden = false;
    this.section.dataset.id = String(alert.id);
    this.section.dataset.state = alert.state;
    this.$(".sc-detail-title").textContent = alert.title;
    this.showFacts(alert);
    this.$(".sc-detail-message").textContent = alert.message || "";
    const incident = alert.data?.code_pink_id;
    this.$(".sc-detail-links").replaceChildren(
      ...(incident ? [el("a", { href: this.incidentUrl(incident) }, `Code Pink ${incident}: timeline and report`)] : []));
    const allowed = this.canAnswer ? ALLOWED[alert.state] || [] : [];
    this.section.querySelectorAll("button[data-action]").forEach((button) => {
      button.disabled = !allowed.includes(button.dataset.action);
    });
    this.$(".sc-detail-error").textContent = "";
    this.$(".sc-timeline").replaceChildren(...(alert.timeline || []).map((event) => {
      const parts = [words(event.action)];
      if (event.audience) parts.push(`→ ${event.audience}`);
      if (event.user) parts.push(`by ${event.user}`);
      const item = el("li", {}, el("span", { class: "when" }, clockTime(event.at)), ` ${parts.join(" ")}`);
      if (event.note) item.append(el("br"), el("em", {}, event.note));
      return item;
    }));
  }

  /** The one line of what and where (alone after a "moved": the rest of the alarm is as it was). */
  showFacts(alert) {
    this.alert = alert;
    const facts = [alert.severity_label, where(alert), `raised ${clockTime(alert.raised_at)}`];
    if (alert.acknowledged_by) facts.push(`acknowledged by ${alert.acknowledged_by}`);
    if (alert.resolved_by) facts.push(`${alert.state} by ${alert.resolved_by}`);
    if (!alert.condition_active) facts.push("condition cleared");
    this.$(".sc-detail-facts").textContent = facts.filter(Boolean).join(" · ");
  }

  /** The infant the alarm is about (a row of /api/security/infants/<id>/), or null. */
  showInfant(infant, note = "") {
    const card = this.$(".sc-infant");
    card.hidden = !infant && !note;
    const facts = this.$(".sc-infant dl");
    if (!infant) {
      facts.replaceChildren(el("dt", {}, "Infant"), el("dd", {}, note));
      return;
    }
    const place = infant.place;
    const rows = [
      ["Infant", infant.name],
      ["Tag", infant.tag],
      ["Mother", infant.mother?.name || "no mother tag"],
      ["Ward", infant.ward.name],
      ["State", infant.state_label],
      ["Strap", infant.strap],
      ["Battery", infant.battery_pct === null ? "unknown" : `${infant.battery_pct} %`],
      ["Escort", infant.escort ? `to ${infant.escort.destination} until ${clockTime(infant.escort.expires_at)}` : "none"],
      ["Last place", place ? `${place.zone_name || "no room"}, ${place.floor_name} at ${clockTime(place.seen_at)}`
        : "not located on your floors"],
    ];
    facts.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  }

  setTrailNote(text) {
    this.$(".sc-trail-note").textContent = text;
  }

  async answer(button) {
    const note = this.$(".sc-note");
    button.disabled = true;
    try {
      const alert = await this.act(this.alert, button.dataset.action, note.value);
      note.value = "";
      this.show(alert);
    } catch (error) {
      this.$(".sc-detail-error").textContent = error.message;
      button.disabled = false;
    }
  }
}
