// Code Pink on the console: the banner of every active incident (drills marked), calling one (scope, drill,
// a second "confirm" step that says what will lock) and resolving one with what happened.

import { el, fill } from "../floormap/util.js";
import { clockTime } from "./api.js";

export class CodePinkControls {
  /**
   * root: the console; config: its JSON; api(url, options); scope(): the "floor:<id>" shown;
   * infant(): {id, name} of the infant of the selected alarm, or null; onChange() after a start or resolve.
   */
  constructor(root, { config, api, scope, infant, onChange }) {
    Object.assign(this, { config, api, scope, infant, onChange });
    this.banner = root.querySelector(".sc-codepink");
    this.start = root.querySelector("#sc-start");
    this.resolve = root.querySelector("#sc-resolve");
    this.active = [];
    root.querySelector(".sc-codepink-start")?.addEventListener("click", () => this.openStart());
    this.wireStart();
    this.wireResolve();
  }

  async refresh() {
    try {
      const body = await this.api(`${this.config.urls.code_pinks}?state=active`);
      this.show(body.results || []);
    } catch (error) {
      console.warn("code pinks: not loaded", error);
    }
  }

  show(active) {
    this.active = active;
    this.banner.hidden = !active.length;
    this.banner.replaceChildren(...active.map((incident) => {
      const scope = incident.floor_name || `all of ${incident.building_name}`;
      const line = el("div", { class: `sc-codepink-line${incident.drill ? " is-drill" : ""}`, dataset: { id: String(incident.id) } },
        el("strong", {}, incident.drill ? "CODE PINK DRILL" : "CODE PINK"),
        ` ${scope} · since ${clockTime(incident.started_at)}`,
        incident.infant_name ? ` · infant: ${incident.infant_name}` : "",
        incident.started_by ? ` · called by ${incident.started_by}` : " · started automatically",
        el("a", { href: fill(this.config.urls.incident, { id: incident.id }), class: "button" }, "Timeline"));
      if (this.config.can.resolve_code_pink) {
        line.append(el("button", { type: "button", class: "sc-resolve-open", onclick: () => this.openResolve(incident) },
          "Resolve…"));
      }
      return line;
    }));
  }

  wireStart() {
    if (!this.start) return;
    const form = this.start.querySelector("form");
    const steps = [...form.querySelectorAll(".sc-step")];
    const error = form.querySelector(".error");
    const step = (n) => steps.forEach((s) => { s.hidden = s.dataset.step !== String(n); });
    form.querySelector("[data-next]").addEventListener("click", () => {
      const option = form.elements.scope.selectedOptions[0];
      const drill = form.elements.drill.checked;
      form.querySelector(".sc-confirm-text").textContent = `${drill ? "DRILL: " : ""}This locks every exit of `
        + `${option.dataset.label} and holds its elevators, and alerts every security console.`;
      step(2);
    });
    form.querySelector("[data-back]").addEventListener("click", () => step(1));
    form.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => this.start.close()));
    form.querySelector("[data-confirm]").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      const [kind, id] = form.elements.scope.value.split(":");
      const body = { drill: form.elements.drill.checked, note: form.elements.note.value,
        floor: kind === "floor" ? Number(id) : null, building: kind === "building" ? Number(id) : null,
        infant: form.elements.infant.checked && form.elements.infant.value ? Number(form.elements.infant.value) : null };
      button.disabled = true;
      try {
        await this.api(this.config.urls.code_pink_start, { method: "POST", body });
        this.start.close();
        await this.refresh();
        this.onChange();
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        button.disabled = false;
      }
    });
    this.startStep = step;
  }

  openStart() {
    const form = this.start.querySelector("form");
    form.reset();
    form.querySelector(".error").textContent = "";
    const scope = this.scope();
    if (scope && [...form.elements.scope.options].some((o) => o.value === scope)) form.elements.scope.value = scope;
    const infant = this.infant();
    const box = form.querySelector("[data-infant]");
    box.hidden = !infant;
    form.elements.infant.value = infant ? String(infant.id) : "";
    form.elements.infant.checked = Boolean(infant);
    box.querySelector("span").textContent = infant ? `The missing infant is ${infant.name}` : "";
    this.startStep(1);
    this.start.showModal();
  }

  wireResolve() {
    if (!this.resolve) return;
    const form = this.resolve.querySelector("form");
    form.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => this.resolve.close()));
    form.querySelector("[data-confirm]").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        await this.api(fill(this.config.urls.code_pink_resolve, { id: this.resolving.id }),
          { method: "POST", body: { resolution: form.elements.resolution.value } });
        this.resolve.close();
        await this.refresh();
        this.onChange();
      } catch (failure) {
        form.querySelector(".error").textContent = failure.message;
      } finally {
        button.disabled = false;
      }
    });
  }

  openResolve(incident) {
    this.resolving = incident;
    const form = this.resolve.querySelector("form");
    form.reset();
    form.querySelector(".error").textContent = "";
    form.querySelector(".sc-resolve-what").textContent = `Code Pink${incident.drill ? " drill" : ""} on `
      + `${incident.floor_name || incident.building_name}, since ${clockTime(incident.started_at)}: what it locked `
      + "unlocks and its elevators are released.";
    this.resolve.showModal();
  }
}
