/// <reference lib="deno.worker" />
/**
 * The dashboard's dedicated Web Worker: owns the `EventSource`, classifies with the server's
 * function, keeps both buckets and retention, applies filters and posts the main thread one
 * compact update per animation frame at most.
 *
 * @module
 */
import { createClassifier } from "../common/classify.ts";
import {
  type BucketRetention,
  displayRegularCount,
  DualBuckets,
  mergeNewestFirst,
  newestFirst,
} from "../common/buckets.ts";
import {
  buildLanes,
  eventFilter,
  type FeedRow,
  type Filters,
  foldedText,
  foldKey,
  foldRow,
  needsList,
  NO_FILTERS,
  searchText,
  sessionKey,
  type StreamEvent,
  toRow,
} from "../common/rows.ts";
import type {
  ArrivalStats,
  Connection,
  FilterChoices,
  InitMessage,
  LiveUpdate,
  ToWorker,
} from "../common/worker_protocol.ts";
import type { SessionSummary } from "../common/sessions.ts";
import type { InboxItem } from "../common/agents.ts";

interface Held {
  id: number;
  priority: 0 | 1;
  timestamp: number;
  event: StreamEvent;
  row: FeedRow;
  /** The text of every part so far, for an event folded with earlier ones. */
  folded?: string;
}

/** Message deltas fold into one row per message. */
function newBuckets(retention?: Partial<BucketRetention>): DualBuckets<Held> {
  return new DualBuckets<Held>({
    retention,
    fold: {
      key: (h) => foldKey(h.event),
      merge: (previous, next) => {
        const folded = (previous.folded ?? foldedText(previous.event)) +
          foldedText(next.event);
        return { ...next, folded, row: foldRow(next.row, folded) };
      },
    },
  });
}

const PULSE_SECONDS = 600;
const SESSIONS_KEPT = 1000;
const CHOICES_KEPT = 500;
const NEEDS_SHOWN = 20;
const PANELS_EVERY_MS = 250;

let init: InitMessage;
let classify = createClassifier();
let buckets = newBuckets();
let filters: Filters = { ...NO_FILTERS };
let source: EventSource | null = null;
/** `session` frames since the last update, latest per session. */
const sessionFrames = new Map<string, SessionSummary>();
/** `inbox` frames since the last update, in arrival order. */
let inboxFrames: InboxItem[] = [];
let conn: Connection = "connecting";
let lastId: number | null = null;
let attempt = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

let credit = false;
let dirty = true;
let sendScheduled = false;

const latest = new Map<string, Held>();
const choices = {
  source_apps: new Set<string>(),
  session_ids: new Set<string>(),
  hook_event_types: new Set<string>(),
};
let choicesDirty = true;

const pulseP = new Uint32Array(PULSE_SECONDS);
const pulseR = new Uint32Array(PULSE_SECONDS);
let pulseEnd = Math.floor(Date.now() / 1000);
let pulseDirty = true;
let pulseSentAt = -Infinity;
let panelsSentAt = 0;
/** Set when filters or a snapshot change the lanes and "needs you" at once. */
let panelsForce = true;
let panelsTimer: ReturnType<typeof setTimeout> | undefined;

let classifyTotalMs = 0;
let classifyCount = 0;

function advancePulse(second: number): void {
  if (second <= pulseEnd) return;
  const steps = Math.min(PULSE_SECONDS, second - pulseEnd);
  for (let i = 1; i <= steps; i++) {
    const slot = (pulseEnd + i) % PULSE_SECONDS;
    pulseP[slot] = 0;
    pulseR[slot] = 0;
  }
  pulseEnd = second;
  pulseDirty = true;
}

function countPulse(held: Held): void {
  const second = Math.floor(held.event.received_at / 1000);
  advancePulse(second);
  if (second <= pulseEnd - PULSE_SECONDS) return;
  (held.priority ? pulseP : pulseR)[second % PULSE_SECONDS]++;
  pulseDirty = true;
}

function hold(event: StreamEvent): Held {
  const t0 = performance.now();
  const priority = classify(event.hook_event_type) ? 1 : 0;
  classifyTotalMs += performance.now() - t0;
  classifyCount++;
  const e = { ...event, priority } as StreamEvent;
  return {
    id: e.id,
    priority,
    timestamp: e.timestamp,
    event: e,
    row: toRow(e),
  };
}

function remember(held: Held): void {
  const e = held.event;
  const key = sessionKey(e);
  const previous = latest.get(key);
  if (!previous || previous.id < held.id) {
    latest.delete(key);
    latest.set(key, held);
    if (latest.size > SESSIONS_KEPT) {
      latest.delete(latest.keys().next().value!);
    }
  }
  for (
    const [set, value] of [
      [choices.source_apps, e.source_app],
      [choices.session_ids, e.session_id],
      [choices.hook_event_types, e.hook_event_type],
    ] as const
  ) {
    if (!set.has(value) && set.size < CHOICES_KEPT) {
      set.add(value);
      choicesDirty = true;
    }
  }
}

const arrivals: number[] = [];
/** Set once someone asks for stats (a benchmark): until then nothing is recorded. */
let recordArrivals = false;

function receive(event: StreamEvent): void {
  if (lastId !== null && event.id <= lastId) return; // replayed after a resume
  lastId = event.id;
  if (recordArrivals && arrivals.length < 100_000) {
    arrivals.push(Date.now() - event.received_at);
  }
  const held = hold(event);
  buckets.add(held);
  remember(held);
  countPulse(held);
  markDirty();
}

function receiveSnapshot(
  data: { priority: StreamEvent[]; regular: StreamEvent[] },
  id: number,
): void {
  const all = [...data.priority, ...data.regular].map(hold);
  buckets.reset(all);
  pulseP.fill(0);
  pulseR.fill(0);
  for (const held of all.sort((a, b) => a.id - b.id)) {
    remember(held);
    countPulse(held);
  }
  lastId = Math.max(id, lastId ?? 0);
  panelsForce = true;
  markDirty();
}

const haystacks = new WeakMap<StreamEvent, string>();
function haystack(e: StreamEvent): string {
  let text = haystacks.get(e);
  if (text === undefined) haystacks.set(e, text = searchText(e));
  return text;
}

/** Row ids the main thread holds (what the last update listed). */
let held = new Set<number>();

function unsent(p: FeedRow[], r: FeedRow[]): FeedRow[] {
  const next = new Set<number>();
  const out: FeedRow[] = [];
  for (const list of [p, r]) {
    for (const row of list) {
      next.add(row.id);
      if (!held.has(row.id)) out.push(row);
    }
  }
  held = next;
  return out;
}

function buildUpdate(): LiveUpdate {
  const accept = eventFilter(filters, haystack);
  const heldAccept = (h: Held) => accept(h.event);
  const p = newestFirst(buckets.priority, heldAccept).map((h) => h.row);
  const r = newestFirst(buckets.regular, heldAccept).map((h) => h.row);
  const shownRegular = displayRegularCount(
    p.length,
    r.length,
    buckets.caps.display,
  );
  const unfilteredShown = Math.min(
    buckets.caps.display,
    buckets.priority.length + buckets.regular.length,
  );
  advancePulse(Math.floor(Date.now() / 1000));
  const prevSlot = (pulseEnd - 1 + PULSE_SECONDS) % PULSE_SECONDS;
  const update: LiveUpdate = {
    type: "update",
    rows: unsent(p, r),
    priority: Float64Array.from(p, (row) => row.id),
    regular: Float64Array.from(r, (row) => row.id),
    shownRegular,
    counts: {
      priority: buckets.priority.length,
      regular: buckets.regular.length,
      display: unfilteredShown,
    },
    conn,
    lastId: lastId ?? 0,
    eventsPerSec: pulseP[prevSlot] + pulseR[prevSlot],
    classifyMs: classifyCount ? classifyTotalMs / classifyCount : 0,
  };
  const now = performance.now();
  if (now - panelsSentAt >= PANELS_EVERY_MS || panelsForce) {
    const cutoff = Date.now() - buckets.retention.priority;
    for (const [key, held] of latest) {
      if (held.timestamp < cutoff) latest.delete(key);
    }
    update.lanes = buildLanes(mergeNewestFirst(p, r));
    update.needs = needsList(
      [...latest.values()].map((h) => h.event).filter(accept),
      NEEDS_SHOWN,
    );
    panelsSentAt = now;
    panelsForce = false;
  } else if (!panelsTimer) {
    // Skipped for now: make sure the panels catch up even if the stream goes quiet.
    panelsTimer = setTimeout(() => {
      panelsTimer = undefined;
      markDirty();
    }, PANELS_EVERY_MS - (now - panelsSentAt));
  }
  if (pulseDirty && now - pulseSentAt > 500) {
    const order = (a: Uint32Array) => {
      const out = new Array<number>(PULSE_SECONDS);
      for (let i = 0; i < PULSE_SECONDS; i++) {
        out[i] = a[(pulseEnd + 1 + i) % PULSE_SECONDS];
      }
      return out;
    };
    update.pulse = {
      end: pulseEnd,
      priority: order(pulseP),
      regular: order(pulseR),
    };
    pulseDirty = false;
    pulseSentAt = now;
  }
  if (inboxFrames.length > 0) {
    update.inbox = inboxFrames;
    inboxFrames = [];
  }
  if (sessionFrames.size > 0) {
    update.sessions = [...sessionFrames.values()];
    sessionFrames.clear();
  }
  if (choicesDirty) {
    update.choices = {
      source_apps: [...choices.source_apps].sort(),
      session_ids: [...choices.session_ids].sort(),
      hook_event_types: [...choices.hook_event_types].sort(),
    } satisfies FilterChoices;
    choicesDirty = false;
  }
  return update;
}

function send(): void {
  sendScheduled = false;
  if (!credit || !dirty) return;
  credit = false;
  dirty = false;
  self.postMessage(buildUpdate());
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
  if (conn === next) return;
  conn = next;
  markDirty();
}

function connect(): void {
  clearTimeout(reconnectTimer);
  const url = new URL(init.streamUrl);
  if (lastId !== null) url.searchParams.set("last_event_id", String(lastId));
  const es = new EventSource(url);
  source = es;
  es.addEventListener("open", () => {
    attempt = 0;
    setConnection("live");
  });
  es.addEventListener("snapshot", (m) => {
    const message = m as MessageEvent<string>;
    receiveSnapshot(JSON.parse(message.data), Number(message.lastEventId));
  });
  es.addEventListener("event", (m) => {
    receive(JSON.parse((m as MessageEvent<string>).data));
  });
  es.addEventListener("session", (m) => {
    const s = JSON.parse((m as MessageEvent<string>).data) as SessionSummary;
    sessionFrames.set(s.session_id, s);
    markDirty();
  });
  es.addEventListener("inbox", (m) => {
    inboxFrames.push(JSON.parse((m as MessageEvent<string>).data));
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

function expire(): void {
  if (buckets.expire() > 0) markDirty();
  advancePulse(Math.floor(Date.now() / 1000));
  if (pulseDirty) markDirty();
}

self.onmessage = (m: MessageEvent<ToWorker>) => {
  const message = m.data;
  switch (message.type) {
    case "init":
      init = message;
      classify = createClassifier(message.priorityTypes);
      buckets = newBuckets(message.retention);
      filters = message.filters;
      setInterval(expire, message.expireEveryMs ?? 1000);
      connect();
      break;
    case "filters":
      filters = message.filters;
      panelsForce = true;
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
