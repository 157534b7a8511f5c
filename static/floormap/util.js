// Small helpers shared by the floor map's modules: fetching JSON, building elements, wording times.

/** GET a JSON document from our own API (session cookie); throws an Error carrying the HTTP status. */
export async function getJSON(url, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  const response = await fetch(query.toString() ? `${url}?${query}` : url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) {
    const error = new Error(`${url}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** A list answer of our API, paginated ({results: [...]}) or not ([...]). */
export function rows(body) {
  return Array.isArray(body) ? body : body.results || [];
}

/** Fill a URL template of the config: "/api/tags/{tag}/trail/" with {tag: "E280..."}. */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]));
}

/** el("li", {class: "x", dataset: {tag: "a"}}, "text", child) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** How long ago, the way a nurse says it: "just now", "40 s ago", "2 min ago", "3 h ago". */
export function ago(seenAtMs, nowMs) {
  const seconds = Math.max(0, Math.round((nowMs - seenAtMs) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** "14:05" (local time of the tablet). */
export function clock(atMs) {
  return new Date(atMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** "infusion_pump" -> "infusion pump" */
export function words(code) {
  return (code || "").replaceAll("_", " ");
}
