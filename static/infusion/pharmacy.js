// The pharmacy screen (infusion/views.py: pharmacy). The label form: a handheld scanner types the bag's tag and
// presses Enter, and the cursor moves on to the patient (the form is not sent half filled); the line under the
// patient says whom the MRN or name typed picks out among the admitted patients (the <datalist>), as the server
// will. The queue is re-read every few seconds (/infusion/pharmacy/queue/, rows drawn by the server) and the
// bags ticked for dispensing stay ticked.

import { clock } from "./api.js";

const config = JSON.parse(document.getElementById("pharmacy-config").textContent);
const root = document.getElementById("pharmacy");
const $ = (selector) => root.querySelector(selector);

// ---- the label form ----

const form = $(".ph-form");
const tagInput = form.elements.namedItem("tag_id");
const patientInput = form.elements.namedItem("patient");
const patients = [...document.querySelectorAll("#ph-patients option")].map((option) => ({
  mrn: option.value, label: option.textContent.trim(), words: `${option.value} ${option.textContent}`.toLowerCase(),
}));

function normalTag(raw) {
  return raw.replace(/[\s:-]/g, "").toUpperCase(); // as the readers report ids: "e2:80:11…" -> "E28011…"
}

/** The admitted patients `text` picks out: the one with this MRN, else those whose line holds every word. */
function matching(text) {
  const typed = text.trim();
  if (!typed) return [];
  const exact = patients.filter((patient) => patient.mrn === typed);
  if (exact.length) return exact;
  const words = typed.toLowerCase().replaceAll(",", " ").split(/\s+/).filter(Boolean);
  return patients.filter((patient) => words.every((word) => patient.words.includes(word)));
}

function echo() {
  const line = $("#ph-patient-echo");
  const found = matching(patientInput.value);
  line.classList.toggle("is-found", found.length === 1);
  line.classList.toggle("is-unsure", found.length !== 1 && patientInput.value.trim() !== "");
  if (!patientInput.value.trim()) line.textContent = "";
  else if (found.length === 1) line.textContent = `→ ${found[0].label} (MRN ${found[0].mrn})`;
  else if (found.length > 1) line.textContent = `${found.length} admitted patients match: keep typing or choose from the list`;
  else line.textContent = "No admitted patient matches";
}

tagInput.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  event.preventDefault(); // the scanner's Enter ends the tag, not the form
  tagInput.value = normalTag(tagInput.value);
  if (tagInput.value) patientInput.focus();
});
patientInput.addEventListener("input", echo);
echo();
// back with a refusal: the cursor goes where the problem is; otherwise the scanner's field is ready
(form.querySelector(".has-error input") || tagInput).focus();

// ---- the queue ----

const box = $("#ph-queue");
let lastHtml = null;
let lastOkAt = Date.now();
let lastError = "";

function ticked() {
  return new Set([...box.querySelectorAll("input[name=bag]:checked")].map((input) => input.value));
}

function wireQueue(keep = new Set()) {
  const boxes = [...box.querySelectorAll("input[name=bag]")];
  const all = box.querySelector(".ph-all");
  const selected = box.querySelector(".ph-dispense-selected");
  boxes.forEach((input) => { input.checked = keep.has(input.value); });
  const update = () => {
    const count = boxes.filter((input) => input.checked).length;
    if (selected) {
      selected.disabled = count === 0;
      selected.textContent = count ? `Dispense selected (${count})` : "Dispense selected";
    }
    if (all) all.checked = count > 0 && count === boxes.length;
  };
  boxes.forEach((input) => input.addEventListener("change", update));
  all?.addEventListener("change", () => { boxes.forEach((input) => { input.checked = all.checked; }); update(); });
  const fresh = new URLSearchParams(location.search).get("labelled");
  box.querySelector(`.ph-waiting tr[data-bag="${fresh}"]`)?.classList.add("is-new");
  update();
}

async function refresh() {
  if (box.querySelector(":active")) return; // never swap the rows under a button being pressed
  try {
    const response = await fetch(config.urls.queue, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.redirected && new URL(response.url).pathname === config.urls.login) {
      throw new Error("you are logged out: reload the page to log in again");
    }
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
    const html = await response.text();
    if (html !== lastHtml) {
      const keep = ticked();
      box.innerHTML = html;
      wireQueue(keep);
      lastHtml = html;
    }
    lastOkAt = Date.now();
    lastError = "";
  } catch (error) {
    lastError = error instanceof TypeError ? "the server cannot be reached" : error.message;
  }
  staleness();
}

function staleness() {
  const silentS = Math.round((Date.now() - lastOkAt) / 1000);
  const banner = $(".ib-stale");
  banner.hidden = silentS <= config.stale_after_s;
  if (!banner.hidden) banner.textContent = `The queue has not been updated for ${silentS} s (${lastError || "no answer"}). Retrying.`;
  $(".ib-updated").textContent = `queue updated ${clock(lastOkAt)}`;
}

wireQueue();
staleness();
setInterval(refresh, config.poll_every_s * 1000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
