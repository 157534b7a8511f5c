// The alert page: a filterable list from /api/alerts/, kept live over ws/alerts/ (alert_feed.js), with
// acknowledge / resolve / cancel and a note, and each alert's timeline.
import { alertMerge, connectAlerts, disableSound, enableSound, soundEnabled } from "./alert_feed.js";

const page = document.getElementById("alert-page");
const rows = document.getElementById("alert-rows");
const filters = document.getElementById("alert-filters");
const banner = document.getElementById("alert-banner");
const live = document.getElementById("alert-live");
const soundButton = document.getElementById("alert-sound");
const detail = document.getElementById("alert-detail");
const canChange = page.dataset.canChange === "1";
const csrf = page.querySelector("input[name=csrfmiddlewaretoken]").value;
const OPEN = new Set(["new", "acknowledged"]);
const ALLOWED = { new: ["acknowledge", "resolve", "cancel"], acknowledged: ["resolve", "cancel"] };

const alerts = new Map(); // id -> alert, the rows shown
let selectedId = null;

function el(tag, { text = "", cls = "", attrs = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (cls) node.className = cls;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

function where(alert) {
  return [alert.zone_name, alert.ward_name].filter(Boolean).join(", ") || (alert.floor ? `floor ${alert.floor}` : "");
}

function query() {
  const data = new FormData(filters);
  const params = new URLSearchParams();
  for (const [name, value] of data.entries()) if (value !== "") params.append(name, value);
  return params;
}

function matches(alert) {
  const params = query();
  const open = params.get("open");
  if (open === "1" && !OPEN.has(alert.state)) return false;
  if (open === "0" && OPEN.has(alert.state)) return false;
  const severity = params.get("severity_min");
  if (severity && alert.severity < Number(severity)) return false;
  const audience = params.get("audience");
  if (audience && !alert.audiences.includes(audience)) return false;
  const kind = params.get("kind");
  if (kind) {
    if (kind.endsWith("*") || kind.endsWith(".")) {
      if (!alert.kind.startsWith(kind.replace(/\*$/, ""))) return false;
    } else if (alert.kind !== kind) return false;
  }
  return true;
}

function row(alert) {
  const state = el("td", {}, [el("span", { text: alert.state, cls: `badge ${alert.state}` })]);
  if (!alert.condition_active && OPEN.has(alert.state)) state.append(" ", el("span", { text: "cleared", cls: "cleared" }));
  const title = el("td", {}, [el("strong", { text: alert.title })]);
  if (alert.occurrences > 1) title.append(` ×${alert.occurrences}`);
  title.append(el("br"), el("span", { text: `${alert.kind} · ${alert.subject_label || alert.subject_type + " " + alert.subject_id}`, cls: "sub" }));
  const tr = el("tr", { cls: `row ${alert.state} ${OPEN.has(alert.state) ? "" : "closed"}`, attrs: { "data-id": alert.id } }, [
    el("td", {}, [el("span", { text: alert.severity_label, cls: `sev sev-${alert.severity}` })]),
    title,
    el("td", { text: where(alert) }),
    el("td", { text: when(alert.raised_at) }),
    state,
    el("td", { text: alert.escalation_level ? `escalated ×${alert.escalation_level}` : "", cls: "sub" }),
  ]);
  if (alert.id === selectedId) tr.classList.add("selected");
  tr.addEventListener("click", () => select(alert.id));
  return tr;
}

function render(flashId = null) {
  const shown = [...alerts.values()].filter(matches)
    .sort((a, b) => (b.raised_at || "").localeCompare(a.raised_at || "") || b.id - a.id);
  rows.replaceChildren(...shown.map(row));
  if (!shown.length) rows.append(el("tr", { cls: "empty" }, [el("td", { text: "No alerts.", attrs: { colspan: "6" } })]));
  if (flashId !== null) rows.querySelector(`tr[data-id="${flashId}"]`)?.classList.add("flash");
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

async function load() {
  const params = query();
  params.set("limit", "500");
  try {
    const body = await api(`/api/alerts/?${params}`);
    alerts.clear();
    for (const alert of body.results) alerts.set(alert.id, alert);
    render();
  } catch (error) {
    rows.replaceChildren(el("tr", {}, [el("td", { text: `Could not load alerts: ${error.message}`, cls: "error", attrs: { colspan: "6" } })]));
  }
}

async function select(id) {
  selectedId = id;
  render();
  const alert = alertMerge(alerts.get(id), await api(`/api/alerts/${id}/`));
  alerts.set(alert.id, alert);
  showDetail(alert);
}

function facts(alert) {
  const parts = [alert.severity_label, alert.kind, where(alert), `raised ${when(alert.raised_at)}`, `to ${alert.audiences.join(", ")}`];
  if (alert.acknowledged_by) parts.push(`acknowledged by ${alert.acknowledged_by}`);
  if (alert.resolved_by) parts.push(`${alert.state} by ${alert.resolved_by}`);
  if (!alert.condition_active) parts.push(`condition cleared ${when(alert.condition_cleared_at)}`);
  return parts.filter(Boolean).join(" · ");
}

function showDetail(alert) {
  detail.hidden = false;
  detail.dataset.id = alert.id;
  document.getElementById("detail-title").textContent = alert.title;
  document.getElementById("detail-facts").textContent = facts(alert);
  document.getElementById("detail-message").textContent = alert.message;
  document.getElementById("detail-error").textContent = "";
  const allowed = canChange ? (ALLOWED[alert.state] || []) : [];
  for (const button of detail.querySelectorAll("button[data-action]")) button.disabled = !allowed.includes(button.dataset.action);
  document.getElementById("detail-actions").hidden = !canChange;
  const timeline = document.getElementById("detail-timeline");
  timeline.replaceChildren(...(alert.timeline || []).map((event) => {
    const parts = [event.action.replace("_", " ")];
    if (event.audience) parts.push(`→ ${event.audience}`);
    if (event.user) parts.push(`by ${event.user}`);
    const item = el("li", {}, [el("span", { text: when(event.at), cls: "when" }), ` ${parts.join(" ")}`]);
    if (event.note) item.append(el("br"), el("em", { text: event.note }));
    return item;
  }));
}

detail.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = Number(detail.dataset.id);
  const note = document.getElementById("detail-note");
  button.disabled = true;
  try {
    const alert = await api(`/api/alerts/${id}/${button.dataset.action}/`, { method: "POST", body: JSON.stringify({ note: note.value }) });
    note.value = "";
    alerts.set(alert.id, alert);
    render();
    showDetail(alert);
  } catch (error) {
    document.getElementById("detail-error").textContent = error.message;
    button.disabled = false;
  }
});

function showBanner(alert, text) {
  banner.textContent = `${text}: ${alert.title}${where(alert) ? " — " + where(alert) : ""}`;
  banner.hidden = false;
  banner.onclick = () => { banner.hidden = true; select(alert.id); };
}

function updateSoundButton() {
  const on = soundEnabled();
  soundButton.setAttribute("aria-pressed", on ? "true" : "false");
  soundButton.textContent = on ? "Sound on" : "Enable sound";
}

soundButton.addEventListener("click", () => {
  if (soundEnabled()) disableSound(); else enableSound();
  updateSoundButton();
});
filters.addEventListener("change", load);
filters.addEventListener("submit", (event) => { event.preventDefault(); load(); });

connectAlerts({
  onStatus(state) {
    live.textContent = { open: "● live", closed: "○ reconnecting…", refused: "not allowed" }[state];
    live.className = `live-dot ${state === "open" ? "on" : "off"}`;
    if (state === "open") load(); // catch up on whatever changed while disconnected
  },
  onAlert(alert, message) {
    alerts.set(alert.id, { ...(alerts.get(alert.id) || {}), ...alert });
    render(message.action === "raised" || message.action === "escalated" ? alert.id : null);
    const shown = detail.dataset.id === String(alert.id) && !detail.hidden;
    if (message.action === "moved") { // only its place changed: no banner, no reload (the timeline is as it was)
      if (shown) document.getElementById("detail-facts").textContent = facts(alert);
      return;
    }
    if (message.sound) showBanner(alert, message.action === "escalated" ? "Escalated" : "New alert");
    if (shown) select(alert.id);
    updateSoundButton();
  },
  onReminder(alert) {
    alerts.set(alert.id, { ...(alerts.get(alert.id) || {}), ...alert });
    render(alert.id);
    showBanner(alert, "Still unacknowledged");
  },
});
updateSoundButton();
