// One bag's panel: what it is, for whom, how far along, and the actions its status allows (from the
// page config's table, which the server reads off InfusionBag.TRANSITIONS). Actions that change the
// infusion ask first: a rate for start / change rate, a note for discontinue / waste, a confirmation for
// complete / return. A refusal (HTTP 409) is shown with the server's reason and the bag is re-read,
// since another nurse may just have changed it.

import { ApiError, alarmWords, duration, el, fill, getJSON, ml, postJSON, when } from "./api.js";

const DONE_WORDS = {
  start: "Started", resume: "Resumed", pause: "Paused", rate: "Rate changed", complete: "Completed",
  discontinue: "Discontinued", return: "Returned to pharmacy", waste: "Recorded as wasted",
};

/** The bag as the panel and the board need it, whatever nesting the API uses for progress and patient. */
export function bagView(raw) {
  const progress = raw.progress || raw;
  const patient = raw.patient && typeof raw.patient === "object" ? raw.patient : null;
  return {
    id: raw.id,
    status: raw.status,
    drug: raw.drug,
    concentration: raw.concentration || "",
    volumeMl: raw.volume_ml,
    rateMlH: raw.rate_ml_h,
    orderedRateMlH: raw.ordered_rate_ml_h,
    infusedMl: progress.infused_ml,
    remainingMl: progress.remaining_ml,
    minutesRemaining: progress.minutes_remaining,
    fraction: progress.fraction ?? (raw.volume_ml ? (progress.infused_ml || 0) / raw.volume_ml : 0),
    lot: raw.lot || "",
    expiresAt: raw.expires_at,
    tagId: raw.tag_id || raw.tag || "",
    patientName: patient ? patient.name || [patient.family_name, patient.given_name].filter(Boolean).join(", ") : "",
    patientMrn: patient ? patient.mrn : raw.patient_mrn || "",
    bedName: patient?.bed_name || raw.bed_name || "",
    wardId: raw.ward ?? raw.ward_id ?? null,
    wardName: raw.ward_name || "",
    alarms: (raw.alarms || []).map((alarm) => (typeof alarm === "string" ? alarm : alarm.kind)),
    openAlerts: raw.open_alerts || [], // {id, kind, severity, state, title}
    startedAt: raw.started_at,
  };
}

/** The progress bar: infused of volume, red when little is left. */
export function progressBar(bag, { lowMinutes = 15 } = {}) {
  const fraction = Math.min(1, Math.max(0, Number(bag.fraction) || 0));
  const low = bag.minutesRemaining !== null && bag.minutesRemaining !== undefined && bag.minutesRemaining <= lowMinutes
    && bag.status === "infusing";
  const inner = el("span", { class: `ib-bar-inner${low ? " is-low" : ""}` });
  inner.style.width = `${(fraction * 100).toFixed(1)}%`;
  return el("span", {
    class: "ib-bar-outer", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(bag.volumeMl ?? 100),
    "aria-valuenow": String(bag.infusedMl ?? 0), "aria-label": `${ml(bag.infusedMl)} of ${ml(bag.volumeMl)} mL infused`,
  }, inner);
}

export class BagPanel {
  /**
   * root: the panel element (header h2 + .ib-panel-body); config: the page config (urls, csrf, actions,
   * allowed, statuses); onChanged(bag) after an action went through; wardId: the board's ward, to warn
   * when a scanned bag belongs to another ward.
   */
  constructor(root, { config, onChanged = () => {}, wardId = null, showPageLink = true }) {
    Object.assign(this, { root, config, onChanged, wardId, showPageLink });
    this.body = root.querySelector(".ib-panel-body");
    this.title = root.querySelector("h2");
    this.bag = null;
    this.asking = null; // the action whose question is open
    this.message = null; // {kind: "refusal" | "done", text}
    this.busy = false;
  }

  async open(bagId, { message = null } = {}) {
    this.message = message;
    try {
      this.show(await getJSON(fill(this.config.urls.bag, { bag: bagId })), { keepMessage: true });
    } catch (error) {
      this.fail(error instanceof ApiError && error.status === 404 ? "This bag no longer exists." : error.message);
    }
  }

  /** Show a bag already read (from the scan answer). */
  show(raw, { keepMessage = false } = {}) {
    this.bag = bagView(raw);
    if (!keepMessage) this.message = null;
    this.asking = null;
    this.render();
  }

  fail(text) {
    this.bag = null;
    this.root.hidden = false;
    this.title.textContent = "Bag";
    this.body.replaceChildren(el("p", { class: "ib-refusal", role: "alert" }, text));
  }

  render() {
    const bag = this.bag;
    const { statuses } = this.config;
    this.root.hidden = false;
    this.title.textContent = `${bag.drug}${bag.concentration ? ` ${bag.concentration}` : ""}`;
    const otherWard = this.wardId !== null && bag.wardId !== null && bag.wardId !== this.wardId;
    this.body.replaceChildren(...[
      this.message ? el("p", { class: this.message.kind === "done" ? "ib-done" : "ib-refusal",
        role: this.message.kind === "done" ? "status" : "alert" }, this.message.text) : null,
      otherWard ? el("p", { class: "ib-refusal", role: "alert" },
        `This bag is for a patient of another ward${bag.wardName ? ` (${bag.wardName})` : ""}. Check the label.`) : null,
      el("p", {}, el("span", { class: `ib-state s-${bag.status}` }, statusWords(statuses, bag.status)),
        ...bag.alarms.map((kind) => el("span", { class: "ib-state s-alarm" }, alarmWords(kind)))),
      el("dl", { class: "ib-facts" },
        ...fact("Patient", bag.patientName ? `${bag.patientName} · MRN ${bag.patientMrn}` : bag.patientMrn),
        ...fact("Bed", bag.bedName),
        ...fact("Infused", `${ml(bag.infusedMl)} of ${ml(bag.volumeMl)} mL`),
        ...fact("Time left", ["infusing", "paused"].includes(bag.status) ? duration(bag.minutesRemaining) : ""),
        ...fact("Rate", bag.rateMlH ? `${ml(bag.rateMlH)} mL/h` : ""),
        ...fact("Ordered rate", bag.orderedRateMlH ? `${ml(bag.orderedRateMlH)} mL/h` : ""),
        ...fact("Tag", bag.tagId),
        ...fact("Lot", bag.lot),
        ...fact("Expires", when(bag.expiresAt)),
      ),
      progressBar(bag),
      this.actions(),
      this.asking ? this.question(this.asking) : null,
      this.showPageLink ? el("p", {}, el("a", { href: fill(this.config.urls.bag_page, { bag: bag.id }) },
        "Custody timeline and FHIR record →")) : null,
    ].filter(Boolean));
    this.body.querySelector(".ib-ask input, .ib-ask textarea")?.focus();
  }

  actions() {
    const allowed = this.config.allowed[this.bag.status] || [];
    const buttons = this.config.actions.filter((action) => allowed.includes(action.name)).map((action) => el("button", {
      type: "button", "data-action": action.name, disabled: this.busy,
      class: ["discontinue", "waste"].includes(action.name) ? "ib-danger" : action.asks ? "" : "ib-secondary",
      onclick: () => (action.asks ? this.ask(action) : this.act(action.name, {})),
    }, action.label));
    if (!buttons.length) return el("p", { class: "sub" }, "Nothing more to do with this bag.");
    return el("div", { class: "ib-actions" }, ...buttons);
  }

  ask(action) {
    this.asking = action;
    this.message = null;
    this.render();
  }

  question(action) {
    const bag = this.bag;
    const form = el("form", { class: "ib-ask", "data-asks": action.name });
    const cancel = el("button", { type: "button", class: "ib-secondary", onclick: () => this.ask(null) }, "Cancel");
    if (action.asks === "rate") {
      const start = bag.rateMlH || bag.orderedRateMlH || "";
      const input = el("input", { type: "number", name: "rate_ml_h", min: "0.1", step: "0.1", required: true,
        inputmode: "decimal", value: start, id: "ib-rate" });
      const hint = el("small", { class: "sub" }, bag.orderedRateMlH ? `Ordered: ${ml(bag.orderedRateMlH)} mL/h` : "");
      input.addEventListener("input", () => {
        const differs = bag.orderedRateMlH && Number(input.value) !== Number(bag.orderedRateMlH);
        hint.textContent = bag.orderedRateMlH
          ? `Ordered: ${ml(bag.orderedRateMlH)} mL/h${differs ? " — this differs from the order" : ""}` : "";
      });
      form.append(el("label", { for: "ib-rate" }, "Rate (mL/h)"),
        el("div", { class: "ib-row" }, input, el("button", { type: "submit" }, action.label)), hint, cancel);
    } else if (action.asks === "note") {
      form.append(el("label", { for: "ib-note" }, `${action.label}: why?`),
        el("textarea", { name: "note", id: "ib-note", required: true, maxlength: "1000" }),
        el("div", { class: "ib-row" }, el("button", { type: "submit", class: "ib-danger" }, action.label), cancel));
    } else {
      form.append(el("p", {}, `${action.label} this bag of ${bag.drug}${bag.patientName ? ` for ${bag.patientName}` : ""}?`),
        el("div", { class: "ib-row" }, el("button", { type: "submit" }, `Yes, ${action.label.toLowerCase()}`), cancel));
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const body = {};
      if (data.has("rate_ml_h")) body.rate_ml_h = Number(data.get("rate_ml_h"));
      if (data.has("note")) body.note = String(data.get("note")).trim();
      if (action.asks === "note" && !body.note) {
        form.querySelector("textarea").focus();
        return;
      }
      this.act(action.name, body);
    });
    return form;
  }

  async act(action, body) {
    if (this.busy || !this.bag) return;
    this.busy = true;
    const bagId = this.bag.id;
    this.body.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      const answer = await postJSON(fill(this.config.urls.action, { bag: bagId, action }), body, this.config.csrf);
      this.busy = false;
      const message = { kind: "done", text: `${DONE_WORDS[action] || "Done"} at ${when(new Date().toISOString())}.` };
      if (answer && answer.id === bagId && answer.status) {
        this.message = message;
        this.show(answer, { keepMessage: true });
      } else {
        await this.open(bagId, { message });
      }
      this.onChanged(this.bag);
    } catch (error) {
      this.busy = false;
      await this.open(bagId, { message: { kind: "refusal", text: error.message } });
    }
  }

  close() {
    this.root.hidden = true;
    this.bag = null;
  }
}

/** "on_ward" -> "On the ward" (the model's label, capitalised). */
export function statusWords(statuses, status) {
  const words = statuses[status] || (status || "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fact(label, value) {
  return value ? [el("dt", {}, label), el("dd", {}, value)] : [];
}
