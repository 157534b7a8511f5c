// Calls to our own API from the security pages: JSON in and out, the session cookie and the CSRF token,
// and an Error carrying the server's "detail" (a refusal's sentence) and the HTTP status.

export function apiClient(csrf) {
  return async function api(url, { method = "GET", body = undefined } = {}) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = Object.entries(answer).filter(([name]) => name !== "detail")
        .map(([name, problems]) => `${name}: ${[].concat(problems).join(" ")}`);
      const error = new Error(answer.detail || fields.join("; ") || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return answer;
  };
}

/** "10:02:15" (the tablet's local time). */
export function clockTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
}
