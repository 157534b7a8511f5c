// Talking to the REST API from the infusion pages, and the few ways of wording numbers a nurse reads.
// A refused request becomes an ApiError whose message is the server's reason (the 409 "detail"), so the
// page can show it as it is: "bag is for Doe, Jane in bed 12; this is bed 14".

export { clock, el, fill } from "../floormap/util.js";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const WHY = {
  0: "The server cannot be reached. Check the tablet's network; the board keeps retrying.",
  401: "You are logged out. Reload the page to log in again.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  500: "The server failed. Try again; if it keeps failing, call the help desk.",
};

/** The reason in a DRF error body: {"detail": "..."} or {"field": ["..."], "non_field_errors": [...]}. */
function reason(body, status) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = Object.entries(body).map(([field, errors]) => {
      const text = Array.isArray(errors) ? errors.join(" ") : String(errors);
      return field === "non_field_errors" ? text : `${field.replaceAll("_", " ")}: ${text}`;
    });
    if (parts.length) return parts.join(" · ");
  }
  return WHY[status] || WHY[Math.floor(status / 100) * 100] || `The server said no (HTTP ${status}).`;
}

async function request(method, url, { body, csrf } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(csrf ? { "X-CSRFToken": csrf } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(WHY[0], 0);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // an HTML error page
  }
  if (!response.ok) throw new ApiError(reason(data, response.status), response.status);
  return data;
}

export const getJSON = (url) => request("GET", url);
export const postJSON = (url, body, csrf) => request("POST", url, { body, csrf });

/** A list answer, paginated ({results: [...]}) or not. */
export const rows = (body) => (Array.isArray(body) ? body : body?.results || []);

/** "1 h 05 min", "12 min", "under 1 min"; "" when unknown. */
export function duration(minutes) {
  if (minutes === null || minutes === undefined || Number.isNaN(minutes)) return "";
  const total = Math.max(0, Math.round(minutes));
  if (total < 1) return "under 1 min";
  if (total < 60) return `${total} min`;
  return `${Math.floor(total / 60)} h ${String(total % 60).padStart(2, "0")} min`;
}

/** 12.345 -> "12", 1.25 -> "1.3" (mL and mL/h as a pump shows them). */
export function ml(value) {
  if (value === null || value === undefined) return "–";
  const number = Number(value);
  return number >= 10 ? String(Math.round(number)) : String(Math.round(number * 10) / 10);
}

/** "14:05" today, "3 Mar 14:05" another day (the tablet's time zone). */
export function when(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return today ? time : `${at.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

/** "infusion.wrong_patient" -> "Wrong patient" */
export function alarmWords(kind) {
  const last = (kind || "").split(".").pop().replaceAll("_", " ");
  return last.charAt(0).toUpperCase() + last.slice(1);
}
