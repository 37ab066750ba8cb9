/**
 * The browser side's live state: the bucket worker's latest update and the client monitor's
 * figures, as signals the islands read. On the server nothing starts, so the islands render
 * from their props.
 *
 * @module
 */
import { batch, signal } from "@preact/signals";
import type { FeedRow, Filters } from "../common/rows.ts";
import type { BoardView } from "../common/board.ts";
import type {
  ArrivalStats,
  FilterChoices,
  LiveUpdate,
  Pulse,
  ToWorker,
} from "../common/worker_protocol.ts";
import { mergeInbox } from "./inbox_state.ts";

/** What the page passes the client entry (in `<body data-hw-config>`). */
export interface ClientConfig {
  workerUrl: string;
  streamUrl: string;
  priorityTypes: string[];
  retention: { priority: number; regular: number };
  metricsIntervalMs: number;
  filters: Filters;
  /** A session silent this long is `stale` (`HOOKWATCH_STALE_AFTER`), ms. */
  staleAfterMs: number;
  /** `GET /sessions`, read by the worker on each (re)connect to seed the board. */
  sessionsUrl: string;
}

/** An update with its buckets as rows again. */
export type LiveState = Omit<LiveUpdate, "rows" | "priority" | "regular"> & {
  priority: FeedRow[];
  regular: FeedRow[];
};

/** The worker's latest update; null until the first one. */
export const live = signal<LiveState | null>(null);

let rowsById = new Map<number, FeedRow>();

/** Rebuilds the buckets from ids, keeping only the rows they name. */
function resolve(update: LiveUpdate): LiveState {
  for (const row of update.rows) rowsById.set(row.id, row);
  const kept = new Map<number, FeedRow>();
  const rows = (ids: Float64Array) => {
    const out = new Array<FeedRow>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const row = rowsById.get(ids[i])!;
      kept.set(ids[i], row);
      out[i] = row;
    }
    return out;
  };
  const { rows: _, priority, regular, ...rest } = update;
  const state = { ...rest, priority: rows(priority), regular: rows(regular) };
  rowsById = kept;
  return state;
}
/** The latest pulse series (sent at most twice a second). */
export const pulse = signal<Pulse | null>(null);
/** The sessions board (sent at most four times a second); null until the first. */
export const board = signal<BoardView | null>(null);
/** The clock ages are shown against, moved on every second once the page is live. */
export const clockNow = signal<number>(Date.now());
/** Filter menu choices seen by the worker; null until it sends them. */
export const choices = signal<FilterChoices | null>(null);
/** Frames per second over the last second. */
export const fps = signal<number | null>(null);
/** Page + worker memory in bytes, when the browser exposes it. */
export const memory = signal<number | null>(null);

let worker: Worker | null = null;
let updates = 0;

/** How many updates the worker posted so far (at most one per frame). */
export function updateCount(): number {
  return updates;
}

const statsWaiters: ((samples: number[]) => void)[] = [];

/** The worker's stream latencies (server arrival → worker) since the last call, ms. */
export function arrivalSamples(): Promise<number[]> {
  return new Promise((resolve) => {
    statsWaiters.push(resolve);
    tell({ type: "stats" });
  });
}

/** Sends a message to the bucket worker (ignored before it starts, e.g. on the server). */
export function tell(message: ToWorker): void {
  worker?.postMessage(message);
}

/** Starts the worker and the frame loop that lets it post one update per frame. */
export function startLive(config: ClientConfig): Worker {
  worker = new Worker(config.workerUrl, { type: "module", name: "buckets" });
  let awaiting = false;
  worker.onmessage = (m: MessageEvent<LiveUpdate | ArrivalStats>) => {
    if (m.data.type === "stats") {
      statsWaiters.shift()?.(m.data.samples);
      return;
    }
    // Held until the next frame, which applies it and only then asks for another.
    pending = m.data;
  };
  let pending: LiveUpdate | null = null;
  const frame = () => {
    if (pending) {
      const update = pending;
      pending = null;
      awaiting = false;
      updates++;
      // Rendered in this frame's microtasks, so this frame paints it.
      batch(() => {
        if (update.pulse) pulse.value = update.pulse;
        if (update.choices) choices.value = update.choices;
        if (update.board) board.value = update.board;
        if (update.inbox) mergeInbox(update.inbox, true);
        live.value = resolve(update);
      });
    }
    if (!awaiting) {
      awaiting = true;
      worker!.postMessage({ type: "ready" } satisfies ToWorker);
    }
    requestAnimationFrame(frame);
  };
  worker.postMessage(
    {
      type: "init",
      streamUrl: new URL(config.streamUrl, location.href).href,
      priorityTypes: config.priorityTypes,
      retention: config.retention,
      filters: config.filters,
      staleAfterMs: config.staleAfterMs,
      sessionsUrl: new URL(config.sessionsUrl, location.href).href,
    } satisfies ToWorker,
  );
  requestAnimationFrame(frame);
  setInterval(() => clockNow.value = Date.now(), 1000);
  return worker;
}
