// Live alerts for any page: connectAlerts({onAlert, onReminder, onSnapshot, onStatus}) opens ws/alerts/,
// reconnects with backoff, and plays a tone (Web Audio, no sound file) for HIGH/CRITICAL alerts and for
// reminders. Message schema: docs/alerts.md.
//
//   import { connectAlerts } from "/static/alerts/alert_feed.js";
//   const feed = connectAlerts({ onAlert: (alert, message) => ..., onReminder: (alert, message) => ... });
//   button.onclick = () => feed.enableSound();   // browsers only play sound after a user gesture

export const SEVERITY = { INFO: 10, WARNING: 20, HIGH: 30, CRITICAL: 40 };
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

let audio = null;
let soundWanted = true;
const lastToneAt = new Map(); // alert id -> ms: one tone per alert per 3 s, however many messages arrive

/** Create (or resume) the audio context; call from a click or key press. Returns true when sound can play. */
export function enableSound() {
  soundWanted = true;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return false;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume();
  return true;
}

export function disableSound() { soundWanted = false; }

export function soundEnabled() { return soundWanted && audio !== null && audio.state !== "closed"; }

/** A short alarm tone: two beeps for HIGH (and reminders), three higher ones for CRITICAL. */
export function playTone(severity = SEVERITY.HIGH, alertId = null) {
  if (!soundWanted || !audio) return false;
  const now = performance.now();
  if (alertId !== null) {
    if (now - (lastToneAt.get(alertId) || -1e9) < 3000) return false;
    lastToneAt.set(alertId, now);
  }
  const critical = severity >= SEVERITY.CRITICAL;
  const beeps = critical ? 3 : 2;
  const frequency = critical ? 1046 : 880;
  const start = audio.currentTime + 0.02;
  for (let i = 0; i < beeps; i += 1) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = frequency;
    const t = start + i * 0.25;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(t);
    oscillator.stop(t + 0.2);
  }
  return true;
}

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws/alerts/`;
}

/**
 * What a page knows of an alert, updated by `incoming` (a live message or a REST answer). An answer older than
 * what is known (a slow GET overtaken by a live "moved") must not undo the newer change: it adds its timeline
 * only.
 */
export function alertMerge(known, incoming) {
  if (known && Date.parse(incoming.updated_at) < Date.parse(known.updated_at)) {
    return { ...incoming, ...known, timeline: incoming.timeline ?? known.timeline };
  }
  return { ...(known || {}), ...incoming };
}

/**
 * Open the live alert stream.
 *   onSnapshot(alerts)        the user's open alerts, on every (re)connect
 *   onAlert(alert, message)   an alert changed: message.action is raised|repeated|severity_raised|escalated|
 *                             acknowledged|resolved|cancelled|condition_cleared|moved ("moved": only its place
 *                             changed, following its subject; never a sound, no new occurrence)
 *   onReminder(alert, message) an unacknowledged alert's audible reminder
 *   onStatus(state)           "open" | "closed" | "refused"
 * Returns { close(), resync(), enableSound, disableSound }.
 */
export function connectAlerts({ onAlert = () => {}, onReminder = () => {}, onSnapshot = () => {},
  onStatus = () => {}, sound = true } = {}) {
  let socket = null;
  let stopped = false;
  let delayMs = 1000;
  soundWanted = sound;

  // the first click or key press anywhere unlocks audio (autoplay rules)
  const unlock = () => { if (soundWanted) enableSound(); };
  window.addEventListener("pointerdown", unlock, { once: true });
  window.addEventListener("keydown", unlock, { once: true });

  function handle(message) {
    if (message.type === "snapshot") {
      onSnapshot(message.alerts || []);
    } else if (message.type === "alert") {
      if (message.sound) playTone(message.alert.severity, message.alert.id);
      onAlert(message.alert, message);
    } else if (message.type === "reminder") {
      if (message.sound) playTone(message.alert.severity, message.alert.id);
      onReminder(message.alert, message);
    }
  }

  function open() {
    socket = new WebSocket(socketUrl());
    socket.addEventListener("open", () => { delayMs = 1000; onStatus("open"); });
    socket.addEventListener("message", (event) => {
      try { handle(JSON.parse(event.data)); } catch (error) { console.error("alert message", error); }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
        stopped = true;
        onStatus("refused");
        return;
      }
      onStatus("closed");
      if (!stopped) {
        window.setTimeout(open, delayMs);
        delayMs = Math.min(delayMs * 2, 30000);
      }
    });
  }

  open();
  return {
    close() { stopped = true; if (socket) socket.close(); },
    resync() { if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resync" })); },
    enableSound,
    disableSound,
  };
}
