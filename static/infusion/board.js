// The ward infusion board: one card per bed (patient, bag, progress, time left, rate, state, alarms).
// It re-reads /api/infusion/wards/<id>/board/ every few seconds, and listens to the alert stream
// (static/alerts/alert_feed.js over ws/alerts/) so an alarm turns its bed card red at once, with a tone.
// Scanning a bag's tag (a handheld scanner types it and presses Enter) opens the bag's panel.
// Page config (infusion-config): infusion/views.py.

import { alarmWords, ApiError, clock, duration, el, fill, getJSON, ml, postJSON } from "./api.js";
import { BagPanel, bagView, progressBar, statusWords } from "./bagpanel.js";

const config = JSON.parse(document.getElementById("infusion-config").textContent);
const root = document.getElementById("infusion-board");
const $ = (selector) => root.querySelector(selector);
const OPEN = new Set(["new", "acknowledged"]);
const OFFLINE_AFTER = 4; // failed reconnects before the indicator says offline
const CONN_WORDS = {
  connecting: "Alerts: connecting…", live: "Alerts: live", reconnecting: "Alerts: reconnecting…",
  offline: "Alerts: offline · retrying", "logged-out": "Logged out: reload to log in",
  forbidden: "Alerts: not allowed", unavailable: "Alerts: unavailable (board refreshes every few seconds)",
};

let board = null; // the last board answer
let lastOkAt = Date.now();
let lastError = "";
const alerts = new Map(); // open alerts of the stream, by id
const closed = new Set(); // ids the stream said were resolved or cancelled (a board read may lag behind)
const cards = new Map(); // bed id -> {node, signature}
const panel = new BagPanel($(".ib-panel"), { config, wardId: config.ward.id, onChanged: () => refresh() });
$(".ib-panel .ib-close").addEventListener("click", () => panel.close());

// ---- the board: poll, draw ----

async function refresh() {
  try {
    board = await getJSON(fill(config.urls.board, { ward: config.ward.id }));
    lastOkAt = Date.now();
    lastError = "";
    draw();
  } catch (error) {
    lastError = error.message;
    if (error instanceof ApiError && error.status === 401) loggedOut();
    if (!board) $(".ib-grid").replaceChildren(el("p", { class: "ib-refusal", role: "alert" },
      `The ward could not be loaded: ${error.message}`));
  }
  staleness();
}

function staleness() {
  const silentS = Math.round((Date.now() - lastOkAt) / 1000);
  const stale = silentS > config.stale_after_s;
  const banner = $(".ib-stale");
  banner.hidden = !stale;
  if (stale) banner.textContent = `Not updated for ${silentS} s${lastError ? ` (${lastError})` : ""}: `
    + "the figures shown may be out of date. Retrying.";
  $(".ib-grid").classList.toggle("is-stale", stale);
  $(".ib-updated").textContent = board ? `updated ${clock(lastOkAt)}` : "";
}

function beds() {
  return board?.beds || [];
}

function bagsOf(bed) {
  return (bed.bags || (bed.bag ? [bed.bag] : [])).map(bagView);
}

/** The open alarms of a bed, most severe first: the stream's alerts about its bags (or raised at this bed),
 * then those the board read reports that the stream has not told about (a dead socket still leaves the
 * card red, and each can still be acknowledged). */
function alarmsOf(bed, bags) {
  const bagIds = new Set(bags.map((bag) => String(bag.id)));
  const streamed = [...alerts.values()].filter((alert) =>
    (alert.subject_type === "bag" && bagIds.has(String(alert.subject_id)))
    || (alert.zone === bed.id && String(alert.kind).startsWith("infusion.")));
  // an alert raised at this bed about another bed's bag: say so, rather than repeat the other card's words
  const here = (alert) => (alert.subject_type === "bag" && !bagIds.has(String(alert.subject_id))
    ? { ...alert, title: `Another patient's bag is here: ${alert.subject_label || alarmWords(alert.kind)}` } : alert);
  const ids = new Set(streamed.map((alert) => alert.id));
  const kinds = new Set(streamed.map((alert) => alert.kind));
  const read = bags.flatMap((bag) => bag.openAlerts).filter((alert) => !ids.has(alert.id) && !closed.has(alert.id));
  read.forEach((alert) => kinds.add(alert.kind));
  const bare = [...new Set(bags.flatMap((bag) => bag.alarms))].filter((kind) => !kinds.has(kind))
    .map((kind) => ({ kind, state: "new", title: alarmWords(kind) }));
  return [...streamed.map(here), ...read].sort((a, b) => b.severity - a.severity).concat(bare);
}

function draw() {
  const grid = $(".ib-grid");
  grid.setAttribute("aria-busy", "false");
  grid.querySelector(".ib-loading, .ib-refusal")?.remove();
  if (!beds().length) {
    grid.replaceChildren(el("p", { class: "ib-empty" }, "This ward has no beds in its floor file."));
    return;
  }
  const seen = new Set();
  let previous = null;
  let running = 0;
  let alarmed = 0;
  for (const bed of beds()) {
    const bags = bagsOf(bed);
    const alarms = alarmsOf(bed, bags);
    running += bags.filter((bag) => ["infusing", "paused"].includes(bag.status)).length;
    alarmed += alarms.length ? 1 : 0;
    const signature = JSON.stringify([bed, alarms.map((a) => [a.id, a.state, a.kind, a.title])]);
    let entry = cards.get(bed.id);
    if (!entry || entry.signature !== signature) {
      const node = card(bed, bags, alarms);
      if (entry) entry.node.replaceWith(node);
      entry = { node, signature };
      cards.set(bed.id, entry);
    }
    if (entry.node.previousElementSibling !== previous || !entry.node.isConnected) {
      if (previous) previous.after(entry.node);
      else grid.prepend(entry.node);
    }
    previous = entry.node;
    seen.add(bed.id);
  }
  const others = (board.other_bags || []).map(bagView);
  if (others.length) {
    const signature = JSON.stringify(board.other_bags);
    let entry = cards.get("other");
    if (!entry || entry.signature !== signature) {
      const node = elsewhereCard(others);
      if (entry) entry.node.replaceWith(node);
      entry = { node, signature };
      cards.set("other", entry);
    }
    if (!entry.node.isConnected || entry.node.previousElementSibling !== previous) previous.after(entry.node);
    seen.add("other");
  }
  for (const [id, entry] of cards) if (!seen.has(id)) { entry.node.remove(); cards.delete(id); }
  const summary = $(".ib-summary");
  summary.replaceChildren(`${beds().length} beds · ${running} infusion${running === 1 ? "" : "s"} running · `,
    el("b", { class: alarmed ? "alarm" : "" }, `${alarmed} bed${alarmed === 1 ? "" : "s"} in alarm`));
}

function card(bed, bags, alarms) {
  const patient = bed.patient;
  const main = bags.find((bag) => ["infusing", "paused"].includes(bag.status)) || bags[0];
  const state = !patient ? "empty" : !main ? "idle" : main.status === "infusing" ? "infusing"
    : main.status === "paused" ? "paused" : ["on_ward", "at_bedside", "dispensed"].includes(main.status) ? "waiting" : "idle";
  const unacknowledged = alarms.some((alarm) => alarm.state === "new");
  const node = el("article", {
    class: `ib-bed${alarms.length ? " is-alarm" : ""}${unacknowledged ? " is-unacknowledged" : ""}`,
    "data-bed": bed.id, "data-code": bed.code, "data-state": state, "aria-label": bed.name,
  },
  el("header", {}, el("h2", {}, bed.name),
    main ? el("span", { class: `ib-state s-${main.status}` }, statusWords(config.statuses, main.status)) : null),
  patient ? el("p", { class: "ib-patient" }, patientName(patient), " ", el("small", {}, `MRN ${patient.mrn}`))
    : el("p", { class: "ib-patient sub" }, "Empty bed"),
  ...bags.map((bag) => bagButton(bag)),
  patient && !bags.length ? el("p", { class: "sub" }, "No infusion.") : null,
  alarms.length ? el("ul", { class: "ib-alarms", "aria-label": "alarms" }, ...alarms.map(alarmItem)) : null,
  config.can_manage_patients ? manageButtons(bed) : null);
  return node;
}

/** Bags of this ward whose patient lies in no bed of it now (moved or discharged): still to be dealt with. */
function elsewhereCard(bags) {
  return el("article", { class: "ib-bed", "data-bed": "other", "data-state": "waiting" },
    el("header", {}, el("h2", {}, "Not at a bed of this ward")),
    el("p", { class: "sub" }, "The patient moved or was discharged: return or reassign these bags."),
    ...bags.map((bag) => bagButton(bag, { withPatient: true })));
}

function patientName(patient) {
  return patient.name || [patient.family_name, patient.given_name].filter(Boolean).join(", ");
}

function bagButton(bag, { withPatient = false } = {}) {
  const running = ["infusing", "paused"].includes(bag.status);
  const low = bag.status === "infusing" && bag.minutesRemaining !== null && bag.minutesRemaining !== undefined
    && bag.minutesRemaining <= 15;
  return el("button", { type: "button", class: "ib-bag", "data-bag": bag.id, onclick: () => panel.open(bag.id),
    "aria-label": `${bag.drug}: open the bag` },
  el("span", { class: "ib-drug" }, bag.drug, bag.concentration ? el("span", { class: "sub" }, ` ${bag.concentration}`) : null),
  withPatient ? el("span", {}, `For ${bag.patientName} · MRN ${bag.patientMrn}`) : null,
  progressBar(bag),
  el("span", { class: "ib-figures" },
    el("span", {}, `${ml(bag.infusedMl)} / ${ml(bag.volumeMl)} mL`),
    running ? el("span", { class: `ib-left${low ? " is-low" : ""}` }, `${duration(bag.minutesRemaining)} left`) : null,
    bag.rateMlH && running ? el("span", {}, `${ml(bag.rateMlH)} mL/h`) : null,
    !running ? el("span", { class: "sub" }, statusWords(config.statuses, bag.status)) : null));
}

function alarmItem(alarm) {
  const acknowledged = alarm.state === "acknowledged";
  const by = acknowledged && alarm.acknowledged_by ? ` by ${alarm.acknowledged_by}` : "";
  return el("li", { class: `ib-alarm${acknowledged ? " is-acknowledged" : ""}`, "data-kind": alarm.kind,
    "data-alert": alarm.id ?? "", role: alarm.state === "new" ? "alert" : null },
  el("span", {}, alarm.title || alarmWords(alarm.kind),
    el("small", {}, acknowledged ? `Acknowledged${by}` : alarm.message || alarmWords(alarm.kind))),
  alarm.id && alarm.state === "new"
    ? el("button", { type: "button", onclick: (event) => acknowledge(alarm, event.currentTarget) }, "Acknowledge") : null);
}

async function acknowledge(alarm, button) {
  button.disabled = true;
  try {
    const answer = await postJSON(fill(config.urls.acknowledge, { alert: alarm.id }), { note: "" }, config.csrf);
    if (answer && answer.id) take(answer);
    draw();
  } catch (error) {
    button.disabled = false;
    button.closest(".ib-alarm").querySelector("small").textContent = `Not acknowledged: ${error.message}`;
  }
}

function manageButtons(bed) {
  const open = (name, values) => () => openForm(name, values);
  return el("footer", {}, ...(bed.patient
    ? [el("button", { type: "button", class: "ib-secondary", onclick: open("transfer", { patient: bed.patient.mrn }) }, "Transfer"),
      el("button", { type: "button", class: "ib-secondary", onclick: open("discharge", { patient: bed.patient.mrn }) }, "Discharge")]
    : [el("button", { type: "button", class: "ib-secondary", onclick: open("admit", { bed: bed.id }) }, "Admit here")]));
}

// ---- alerts: the stream (static/alerts/alert_feed.js, which also plays the tone) ----

function take(alert) {
  if (OPEN.has(alert.state)) {
    alerts.set(alert.id, alert);
    closed.delete(alert.id);
  } else {
    alerts.delete(alert.id);
    closed.add(alert.id);
  }
}

function concernsThisWard(alert) {
  if (alert.ward === config.ward.id) return true;
  const bedIds = new Set(beds().map((bed) => bed.id));
  const bagIds = new Set(beds().flatMap((bed) => bagsOf(bed).map((bag) => String(bag.id))));
  return bedIds.has(alert.zone) || (alert.subject_type === "bag" && bagIds.has(String(alert.subject_id)));
}

function soundButton(feed) {
  const button = $(".ib-sound");
  const show = () => {
    const on = feed.soundEnabled();
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Sound on" : "Sound off";
  };
  button.hidden = false;
  button.addEventListener("click", () => {
    if (feed.soundEnabled()) feed.disableSound();
    else feed.enableSound(); // a tap: browsers allow sound from here on
    show();
  });
  window.addEventListener("pointerdown", () => setTimeout(show), { once: true }); // the feed unlocks audio on it
  show();
}

function setConn(state) {
  const indicator = $(".ib-conn");
  indicator.dataset.state = state;
  indicator.textContent = CONN_WORDS[state] || `Alerts: ${state}`;
}

function onAlert(alert) {
  if (!alert || alert.id === undefined) return;
  take(alert); // the feed plays the tone for new HIGH / CRITICAL alerts (message.sound)
  if (concernsThisWard(alert)) draw();
}

function onReminder(alert) {
  if (alert && alert.id !== undefined) onAlert(alert);
}

async function listen() {
  let feed;
  try {
    feed = await import("../alerts/alert_feed.js");
  } catch (error) {
    console.warn("infusion board: no alert stream", error);
    setConn("unavailable");
    $(".ib-sound").hidden = true;
    return;
  }
  let attempts = 0;
  feed.connectAlerts({
    onAlert,
    onReminder,
    onSnapshot: (list) => { // on every (re)connect: the user's open alerts
      attempts = 0;
      alerts.clear();
      for (const alert of list) take(alert);
      setConn("live");
      if (board) draw();
    },
    onStatus: (status) => {
      if (status === "closed") setConn(++attempts >= OFFLINE_AFTER ? "offline" : "reconnecting");
      if (status === "refused") setConn("forbidden"); // a 401 on the board's next read sends to the login
    },
  });
  soundButton(feed);
}

function loggedOut() {
  location.assign(`${config.urls.login}?next=${encodeURIComponent(location.pathname)}`);
}

// ---- scanning a bag ----

function wireScan() {
  const form = $(".ib-scan");
  const input = form.querySelector("input");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const tag = input.value.replace(/[\s:-]/g, "").toUpperCase(); // as the readers report ids: "AC:23:3f…" -> "AC233F…"
    if (!tag) return;
    try {
      panel.show(await getJSON(fill(config.urls.scan, { tag })));
      input.value = "";
    } catch (error) {
      panel.fail(error instanceof ApiError && error.status === 404
        ? `No bag carries tag ${tag}. Check the label, or ask pharmacy whether the bag was registered.`
        : `The bag could not be found: ${error.message}`);
    }
    input.select();
  });
  input.focus();
}

// ---- the charge nurse's patient forms (<dialog>s, posted to the server) ----

function openForm(name, values = {}) {
  const dialog = document.getElementById(`ib-form-${name}`);
  if (!dialog) return;
  for (const [field, value] of Object.entries(values)) {
    const input = dialog.querySelector(`[name="${name}-${field}"]`);
    if (input) input.value = String(value);
  }
  dialog.showModal();
  dialog.querySelector("input:not([type=hidden]), select")?.focus();
}

function wireForms() {
  root.querySelectorAll("[data-form]").forEach((button) => {
    button.addEventListener("click", () => openForm(button.dataset.form));
  });
  root.querySelectorAll(".ib-dialog").forEach((dialog) => {
    dialog.querySelectorAll("[data-close]").forEach((button) => button.addEventListener("click", () => dialog.close()));
    if (dialog.dataset.open) { // came back with errors: show them where the nurse left off
      dialog.showModal();
      dialog.querySelector(".has-error input, .has-error select")?.focus();
    }
  });
  $(".ib-ward-switch")?.addEventListener("change", (event) => {
    if (event.target.value) location.assign(event.target.value);
  });
}

wireForms();
wireScan();
listen();
refresh();
setInterval(refresh, config.poll_every_s * 1000);
setInterval(staleness, 1000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
