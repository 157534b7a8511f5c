// A running handheld sweep, live: polls the progress API, shows seen / expected and the assets found so far,
// uploads reads files, and finishes or cancels the sweep (the page then reloads to show the report).

import { el } from "../floormap/util.js";

const config = JSON.parse(document.getElementById("audit-config").textContent);
const $ = (id) => document.getElementById(id);

function csrf() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function call(url, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method, body, credentials: "same-origin",
      headers: { Accept: "application/json", ...(method !== "GET" ? { "X-CSRFToken": csrf() } : {}) },
    });
  } catch {
    throw new Error("The server cannot be reached; retrying.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const reason = data && typeof data.detail === "string" ? data.detail
      : data ? Object.values(data).flat().join(" ") : `HTTP ${response.status}`;
    throw new Error(reason);
  }
  return data;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
}

function fillList(list, assets) {
  list.replaceChildren(...assets.map((a) => el("li", { dataset: { asset: a.asset_number } },
    el("b", {}, a.asset_number), ` ${a.category} · ${when(a.seen_at)}`)));
}

function sweepText(sweep) {
  if (!sweep) return config.reader ? "" : "Reads come from uploaded files.";
  if (sweep.error) return `Reader ${sweep.reader || ""}: ${sweep.error}`;
  if (sweep.connected) return `Reader ${sweep.reader} connected: sweep with it now.`;
  return sweep.running ? `Connecting to reader ${sweep.reader}…` : `Reader ${sweep.reader || ""} not connected.`;
}

function show(progress) {
  const percent = progress.expected ? Math.round((100 * progress.found) / progress.expected) : 0;
  $("progress-fill").style.width = `${Math.min(percent, 100)}%`;
  $("progress-text").textContent = `${progress.found} of ${progress.expected} expected found (${percent}%) · `
    + `${progress.unexpected} from elsewhere · ${progress.reads} reads`
    + (progress.unknown_tags ? ` · ${progress.unknown_tags} unknown tags` : "");
  $("found-count").textContent = progress.found;
  $("unexpected-count").textContent = progress.unexpected;
  fillList($("found-list"), progress.found_assets);
  fillList($("unexpected-list"), progress.unexpected_assets);
  $("sweep-status").textContent = progress.sweep === null && !progress.reads
    ? "Upload a reads file, or start a sweep with a handheld reader." : sweepText(progress.sweep);
  if (progress.state !== "running") window.location.reload();
}

function say(text, error = false) {
  const message = $("audit-message");
  if (!message) return;
  message.textContent = text;
  message.className = error ? "error" : "";
}

async function poll() {
  try {
    show(await call(config.progress));
  } catch (error) {
    $("sweep-status").textContent = error.message;
  }
  window.setTimeout(poll, config.poll_ms);
}

$("reads-upload")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const result = await call(config.reads, { method: "POST", body: new FormData(event.target) });
    say(`${result.reads} reads: ${result.found} found, ${result.unexpected} from elsewhere, `
      + `${result.unknown_tags} unknown tags` + (result.dropped ? `, ${result.dropped} dropped: ${result.dropped_reasons.join("; ")}` : "."));
    event.target.reset();
    show(await call(config.progress));
  } catch (error) {
    say(error.message, true);
  }
});

for (const [id, url] of [["audit-finish", config.finish], ["audit-cancel", config.cancel]]) {
  $(id)?.addEventListener("click", async () => {
    try {
      await call(url, { method: "POST" });
      window.location.reload();
    } catch (error) {
      say(error.message, true);
    }
  });
}

poll();
