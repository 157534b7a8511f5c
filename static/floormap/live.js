// The floor's websocket: connect, reconnect with exponential backoff (every reconnect brings a fresh
// snapshot), ask for a snapshot again when a frame was missed (a gap in `seq`), and tell when the data
// goes stale (no message at all, heartbeats included, for a while). Messages: docs/realtime.md.
//
// States, for the indicator: "connecting" (first attempt), "live", "reconnecting" (lost, retrying),
// "offline" (several attempts failed, or the tablet has no network; it keeps retrying), and, with no
// retry, "logged-out" or "forbidden" when the server closes with 4401 / 4403.

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const OFFLINE_AFTER_ATTEMPTS = 4;
const WATCH_EVERY_MS = 1000;
const REFUSED = { 4401: "logged-out", 4403: "forbidden" }; // close codes of tracking/consumers.py

export class LiveFeed {
  /**
   * url(floorId) -> the socket's path; onMessage(message) for each JSON message; onState(state);
   * onStale(seconds | null): seconds since the last message once past staleAfterMs, null when fresh.
   */
  constructor({ url, onMessage, onState, onStale, staleAfterMs }) {
    Object.assign(this, { url, onMessage, onState, onStale, staleAfterMs });
    this.socket = null;
    this.floorId = null;
    this.seq = null; // of the last positions frame: they count up by one per floor
    this.attempts = 0;
    this.retry = 0;
    this.lastMessageAt = Date.now();
    this.stale = false;
    setInterval(() => this.watch(), WATCH_EVERY_MS);
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.setState("offline"));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.resync(); // a tablet waking up: catch up at once
    });
  }

  /** Watch another floor (closes the socket of the one before). */
  open(floorId) {
    this.floorId = floorId;
    this.attempts = 0;
    this.lastMessageAt = Date.now();
    this.connect("connecting");
  }

  connect(state) {
    this.drop();
    clearTimeout(this.retry);
    this.setState(state);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.url(this.floorId)}`);
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return; // one we closed ourselves
      if (REFUSED[event.code]) {
        this.socket = null;
        this.setState(REFUSED[event.code]); // retrying would be refused again
      } else {
        this.scheduleReconnect();
      }
    });
    this.socket = socket;
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("floor map: a message that is not JSON", data);
      return;
    }
    if (message.floor !== undefined && message.floor !== this.floorId) return; // a frame of the floor before
    if (message.type === "snapshot") this.seq = null;
    if (message.type === "positions") {
      if (this.seq !== null && message.seq !== this.seq + 1) this.resync(); // a frame was missed
      this.seq = message.seq;
    }
    this.attempts = 0; // counted from the last time the server really talked, not just accepted
    this.setState("live"); // the server's first message, a snapshot, makes the connection live
    this.lastMessageAt = Date.now();
    this.watch();
    this.onMessage(message);
  }

  /** Close without reconnecting (before opening another floor). */
  drop() {
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "floor changed");
  }

  scheduleReconnect() {
    this.socket = null;
    this.attempts += 1;
    const offline = this.attempts >= OFFLINE_AFTER_ATTEMPTS || navigator.onLine === false;
    this.setState(offline ? "offline" : "reconnecting");
    const backoffMs = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.attempts - 1));
    const jitteredMs = backoffMs * (0.75 + Math.random() * 0.5); // spread a ward of tablets over time
    this.retry = setTimeout(() => this.connect(offline ? "offline" : "reconnecting"), jitteredMs);
  }

  reconnectNow() {
    if (this.floorId !== null && !this.socket && !Object.values(REFUSED).includes(this.state)) {
      this.connect("reconnecting");
    }
  }

  /** Ask for a fresh snapshot (when the page comes back into view). */
  resync() {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "resync" }));
    else this.reconnectNow();
  }

  setState(state) {
    if (state !== this.state) {
      this.state = state;
      this.onState(state);
    }
  }

  watch() {
    const silentMs = Date.now() - this.lastMessageAt;
    const stale = silentMs > this.staleAfterMs;
    if (stale || stale !== this.stale) this.onStale(stale ? Math.round(silentMs / 1000) : null);
    this.stale = stale;
  }
}

const UNNAMED = { object: null, name: "", kind: "", category: "" };

/**
 * A positions frame's rows as fix objects like the snapshot's. `names` (tag -> {object, name, kind,
 * category}) is kept across messages: the snapshot fills it, and a frame describes a tag only when the
 * floor's frames have not for a while (docs/realtime.md).
 */
export function frameFixes(message, names) {
  for (const [tag, info] of Object.entries(message.objects || {})) names.set(tag, info);
  const atMs = Date.parse(message.at);
  const fields = message.fields;
  return message.fixes.map((row) => {
    const fix = {};
    fields.forEach((field, i) => { fix[field] = row[i]; });
    fix.stationary = Boolean(fix.stationary);
    fix.seen_at = new Date(atMs - fix.age_ms).toISOString();
    delete fix.age_ms;
    return Object.assign(fix, names.get(fix.tag) || UNNAMED);
  });
}

/** Remember what a snapshot says of each tag (for the frames after it). */
export function learnNames(fixes, names) {
  for (const fix of fixes) {
    names.set(fix.tag, { object: fix.object, name: fix.name, kind: fix.kind, category: fix.category });
  }
}

