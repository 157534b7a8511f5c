// The console's door list for the floor shown: each controller's state in words (with the egress countdown)
// and, for officers, lock / unlock (hold / release for elevators) and reset. A command is sent at once; the
// row changes when the controller confirms its new state (the floor websocket's "doors" message).

import { doorState } from "../floormap/doors.js";
import { el } from "../floormap/util.js";

const COMMANDS = {
  elevator: [["hold", "Hold"], ["release", "Release"]],
  door: [["lock", "Lock"], ["unlock", "Unlock"]],
};

/** Whether a command would change anything for this row (Lock on a locked door does not). */
function useful(row, command) {
  return {
    lock: !row.locked, unlock: row.locked, hold: !row.held, release: row.held,
    reset: row.forced || row.egress !== "idle",
  }[command];
}

export class DoorList {
  /** section: .sc-doors; command(code, command) -> Promise; now(): server ms. */
  constructor(section, { canCommand, command, now }) {
    Object.assign(this, { section, canCommand, command, now });
    this.body = section.querySelector("tbody");
    this.status = section.querySelector(".sc-door-status");
    this.rows = [];
    this.awaiting = null; // {controller, command, label}: sent, not yet confirmed by the controller's state
  }

  show(rows) {
    this.rows = rows;
    const sent = this.awaiting && rows.find((row) => row.controller === this.awaiting.controller);
    if (sent && !useful(sent, this.awaiting.command)) {
      this.status.textContent = `${this.awaiting.label} confirmed: ${sent.name || sent.controller} is now `
        + `${doorState(sent, this.now())[1]}.`;
      this.awaiting = null;
    }
    this.body.replaceChildren(...rows.map((row) => this.row(row)));
    if (!rows.length) this.body.append(el("tr", {}, el("td", { colspan: "3", class: "sub" }, "No door controllers on this floor.")));
  }

  row(row) {
    const [key, words] = doorState(row, this.now());
    const actions = el("td", { class: "sc-door-actions" });
    if (this.canCommand) {
      const commands = [...COMMANDS[row.kind === "elevator" ? "elevator" : "door"], ["reset", "Reset"]];
      for (const [command, label] of commands) {
        if (command === "reset" && !useful(row, "reset")) continue;
        actions.append(el("button", {
          type: "button", dataset: { command }, disabled: !row.online || !useful(row, command),
          onclick: () => this.send(row, command, label),
        }, label));
      }
    }
    return el("tr", { dataset: { controller: row.controller, state: key } },
      el("td", {}, el("strong", {}, row.name || row.controller), el("br"),
        el("small", { class: "sub" }, row.doors.join(", ") || row.controller)),
      el("td", {}, el("span", { class: `sc-door-badge door-${key}` }, words)),
      actions);
  }

  async send(row, command, label) {
    const name = row.name || row.controller;
    const awaiting = command === "reset" ? null : { controller: row.controller, command, label };
    this.awaiting = awaiting; // the controller's new state may arrive before the answer does
    this.status.textContent = `${label}: sending to ${name}…`;
    try {
      await this.command(row.controller, command);
      if (this.awaiting === awaiting) this.status.textContent = `${label} sent to ${name}; waiting for the controller.`;
    } catch (error) {
      if (this.awaiting === awaiting) this.awaiting = null;
      this.status.textContent = `${label} refused: ${error.message}`;
    }
  }
}
