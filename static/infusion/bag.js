// A bag's page: its panel (state, progress, actions) and its custody timeline, pharmacy → transport →
// ward → bedside → infusing → done, each step with when, where and who (/api/infusion/bags/<id>/timeline/).

import { ApiError, el, fill, getJSON, ml, rows, when } from "./api.js";
import { BagPanel } from "./bagpanel.js";

const config = JSON.parse(document.getElementById("infusion-config").textContent);
const root = document.getElementById("infusion-bag");

const PHASES = {
  registered: "pharmacy", dispensed: "transport", arrived_ward: "ward", left_ward: "transport",
  at_bedside: "bedside", left_bedside: "ward", started: "infusing", paused: "infusing", resumed: "infusing",
  rate_changed: "infusing", completed: "done", discontinued: "done", returned: "done", wasted: "done",
  alarm: "alarm", alarm_cleared: "ward",
};
const WORDS = {
  registered: "Registered in pharmacy", dispensed: "Dispensed (in transport)", arrived_ward: "Arrived on the ward",
  left_ward: "Left the ward", at_bedside: "Arrived at the bedside", left_bedside: "Left the bedside",
  started: "Infusion started", paused: "Paused", resumed: "Resumed", rate_changed: "Rate changed",
  completed: "Completed", discontinued: "Discontinued", returned: "Returned to pharmacy", wasted: "Wasted",
  alarm: "Alarm", alarm_cleared: "Alarm cleared",
};

const panel = new BagPanel(root.querySelector(".ib-panel"), {
  config, wardId: config.ward, showPageLink: false, onChanged: () => timeline(),
});

const name = (value) => (value && typeof value === "object" ? value.name || value.username || value.code : value) || "";

function step(event) {
  const place = event.zone_name || name(event.zone) || "";
  const who = event.user_name || name(event.user) || "";
  const details = [
    event.rate_ml_h ? `${ml(event.rate_ml_h)} mL/h` : "",
    event.from_status && event.to_status ? `${event.from_status.replaceAll("_", " ")} → ${event.to_status.replaceAll("_", " ")}` : "",
  ].filter(Boolean).join(" · ");
  const kind = event.data?.kind ? ` · ${event.data.kind}` : "";
  return el("li", { class: `ib-step p-${PHASES[event.action] || "ward"}`, "data-action": event.action },
    el("div", { class: "ib-when" }, when(event.at)),
    el("div", { class: "ib-what" }, (event.action_label || WORDS[event.action] || event.action) + kind),
    el("div", {}, [place ? `at ${place}` : "", who ? `by ${who}` : "by the system"].filter(Boolean).join(" · ")),
    details ? el("div", { class: "sub" }, details) : null,
    event.note ? el("p", { class: "ib-note" }, event.note) : null);
}

async function timeline() {
  const list = root.querySelector(".ib-steps");
  try {
    const events = rows(await getJSON(fill(config.urls.timeline, { bag: config.bag })));
    list.replaceChildren(...(events.length ? events.map(step) : [el("li", { class: "ib-empty" }, "No steps recorded yet.")]));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) location.assign(`${config.urls.login}?next=${encodeURIComponent(location.pathname)}`);
    list.replaceChildren(el("li", { class: "ib-refusal", role: "alert" }, `The timeline could not be loaded: ${error.message}`));
  }
  list.setAttribute("aria-busy", "false");
}

panel.open(config.bag);
timeline();
