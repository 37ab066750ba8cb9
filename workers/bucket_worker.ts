/// <reference lib="deno.worker" />
/**
 * The dashboard's dedicated Web Worker: owns the `EventSource` (reconnecting with backoff from
 * the last id) and the flow control that posts the main thread one update per animation frame
 * at most. Everything it keeps (buckets classified with the server's function, pulse, filters,
 * the sessions board, needs-you, diffing) is a {@linkcode DashboardState}. Each time the stream
 * opens it also reads `GET /sessions` once, so the board starts from the store's states.
 *
 * @module
 */
import { DashboardState } from "../common/dashboard_state.ts";
import type { SessionSummary } from "../common/sessions.ts";
import type {
  ArrivalStats,
  Connection,
  InitMessage,
  ToWorker,
} from "../common/worker_protocol.ts";
import type { StreamEvent } from "../common/events.ts";

let init: InitMessage;
let state = new DashboardState();
let source: EventSource | null = null;
let attempt = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

let credit = false;
let dirty = true;
let sendScheduled = false;
let panelsTimer: ReturnType<typeof setTimeout> | undefined;

const arrivals: number[] = [];
/** Set once someone asks for stats (a benchmark): until then nothing is recorded. */
let recordArrivals = false;

function receive(event: StreamEvent): void {
  const last = state.lastId;
  if (last !== null && event.id <= last) return; // replayed after a resume
  if (recordArrivals && arrivals.length < 100_000) {
    arrivals.push(Date.now() - event.received_at);
  }
  state.receive(event, Date.now());
  markDirty();
}

function send(): void {
  sendScheduled = false;
  if (!credit || !dirty) return;
  credit = false;
  dirty = false;
  const { update, panelsDueInMs } = state.update(
    Date.now(),
    performance.now(),
  );
  if (panelsDueInMs !== null && !panelsTimer) {
    // Skipped for now: make sure the panels catch up even if the stream goes quiet.
    panelsTimer = setTimeout(() => {
      panelsTimer = undefined;
      markDirty();
    }, panelsDueInMs);
  }
  self.postMessage(update);
}

function markDirty(): void {
  dirty = true;
  // A short delay lets a burst of stream messages land in the same update.
  if (credit && !sendScheduled) {
    sendScheduled = true;
    setTimeout(send, 1);
  }
}

function setConnection(next: Connection): void {
  if (state.setConnection(next)) markDirty();
}

/** The store's sessions, most recently seen first (the board's seeds). */
async function seedSessions(): Promise<void> {
  if (!init.sessionsUrl) return;
  try {
    const res = await fetch(init.sessionsUrl);
    if (!res.ok) return;
    const { sessions } = await res.json() as { sessions: SessionSummary[] };
    state.seedSessions(sessions);
    markDirty();
  } catch { /* away again: the next open reads them */ }
}

function connect(): void {
  clearTimeout(reconnectTimer);
  const url = new URL(init.streamUrl);
  if (state.lastId !== null) {
    url.searchParams.set("last_event_id", String(state.lastId));
  }
  const es = new EventSource(url);
  source = es;
  es.addEventListener("open", () => {
    attempt = 0;
    setConnection("live");
    void seedSessions();
  });
  es.addEventListener("snapshot", (m) => {
    const message = m as MessageEvent<string>;
    state.receiveSnapshot(
      JSON.parse(message.data),
      Number(message.lastEventId),
      Date.now(),
    );
    markDirty();
  });
  es.addEventListener("event", (m) => {
    receive(JSON.parse((m as MessageEvent<string>).data));
  });
  es.addEventListener("session", (m) => {
    const s = JSON.parse((m as MessageEvent<string>).data) as SessionSummary;
    state.sessionChanged(s);
    markDirty();
  });
  es.addEventListener("inbox", (m) => {
    state.inboxChanged(JSON.parse((m as MessageEvent<string>).data));
    markDirty();
  });
  es.addEventListener("error", () => {
    // Reconnect ourselves, from the last id we hold, with backoff (the browser's own retry
    // gives up after a refused connection).
    es.close();
    if (source !== es) return;
    source = null;
    setConnection("reconnecting");
    const delay = Math.min(10_000, 250 * 2 ** attempt) *
      (0.75 + Math.random() * 0.5);
    attempt = Math.min(attempt + 1, 8);
    reconnectTimer = setTimeout(connect, delay);
  });
}

self.onmessage = (m: MessageEvent<ToWorker>) => {
  const message = m.data;
  switch (message.type) {
    case "init":
      init = message;
      state = new DashboardState({
        priorityTypes: message.priorityTypes,
        retention: message.retention,
        filters: message.filters,
        staleAfterMs: message.staleAfterMs,
      });
      setInterval(() => {
        if (state.expire(Date.now())) markDirty();
      }, message.expireEveryMs ?? 1000);
      connect();
      break;
    case "filters":
      state.setFilters(message.filters);
      markDirty();
      break;
    case "stats":
      recordArrivals = true;
      self.postMessage(
        { type: "stats", samples: arrivals.splice(0) } satisfies ArrivalStats,
      );
      break;
    case "ready":
      credit = true;
      if (dirty) markDirty();
      break;
  }
};
