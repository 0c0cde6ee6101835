// The live feed: Mailpit's WebSocket at /api/events, kept open for as long as
// the page is. Frames are {"Type", "Data"}; the server never replays missed
// frames, so after any gap (a restart, a sleep, a dropped connection) the app
// must resync from the REST API — `onResync` says when.

import { at } from "./base.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const MAX_BACKOFF_MS = 10000;

/**
 * @param {object} handlers
 * @param {(type: string, data: any) => void} handlers.onEvent
 * @param {(state: "connecting"|"live"|"offline", retryInMs?: number) => void} handlers.onStatus
 * @param {() => void} handlers.onResync  called on every (re)connect after the first
 */
export function connectLive({ onEvent, onStatus, onResync }) {
  let socket = null;
  let attempt = 0;
  let everConnected = false;
  let retryTimer = null;

  const url = () => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${at("/api/events")}`;
  };

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    onStatus("connecting");
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      attempt = 0;
      onStatus("live");
      // Anything may have happened while we were away.
      if (everConnected) onResync();
      everConnected = true;
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to interpret
      }
      if (frame && typeof frame.Type === "string") onEvent(frame.Type, frame.Data);
    });
    socket.addEventListener("close", scheduleRetry);
  }

  function scheduleRetry() {
    socket = null;
    if (retryTimer) return;
    const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? MAX_BACKOFF_MS;
    // Jitter, so many open tabs do not reconnect in lockstep after a restart.
    const delay = Math.min(MAX_BACKOFF_MS, Math.round(base * (0.8 + Math.random() * 0.4)));
    attempt += 1;
    onStatus("offline", delay);
    retryTimer = setTimeout(connect, delay);
  }

  // Coming back online or to the tab is a good moment to retry at once.
  const retryNow = () => {
    if (!socket && retryTimer) connect();
  };
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) retryNow();
  });

  connect();
}
