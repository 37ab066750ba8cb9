/**
 * Messages between the dashboard's main thread and its bucket worker.
 *
 * The main thread applies an update in its next animation frame and only then sends `ready`;
 * the worker posts at most one `update` per `ready`: so at most one per frame, with bursts of
 * events batched into it, and the next update already waiting when the next frame starts.
 *
 * @module
 */
import type { FeedRow, Filters } from "./rows.ts";
import type { BoardView } from "./board.ts";
import type { SessionSummary } from "./sessions.ts";
import type { InboxItem } from "./agents.ts";

/** Starts the worker. */
export interface InitMessage {
  type: "init";
  /** Absolute URL of `/stream`. */
  streamUrl: string;
  /** The server's priority event types, so the worker classifies as the server does. */
  priorityTypes: string[];
  retention: { priority: number; regular: number };
  filters: Filters;
  /** A session silent this long is `stale` (the server's `HOOKWATCH_STALE_AFTER`), ms. */
  staleAfterMs?: number;
  /** Absolute URL of `GET /sessions`, read on each (re)connect to seed the board. */
  sessionsUrl?: string;
  /** How often retention runs, ms. */
  expireEveryMs?: number;
}

/** Main thread → worker. */
export type ToWorker =
  | InitMessage
  | { type: "filters"; filters: Filters }
  | { type: "ready" }
  /** Asks for {@linkcode ArrivalStats} (benchmarks). */
  | { type: "stats" };

/** Worker → main thread: stream latency (server arrival → worker) since the last ask, ms. */
export interface ArrivalStats {
  type: "stats";
  samples: number[];
}

/** The stream's state. */
export type Connection = "connecting" | "live" | "reconnecting";

/** Events per second per bucket, one slot per second, oldest first, ending at `end`. */
export interface Pulse {
  /** Epoch second of the last slot. */
  end: number;
  priority: number[];
  regular: number[];
}

/** Distinct values seen, for the filter menus. */
export interface FilterChoices {
  source_apps: string[];
  session_ids: string[];
  hook_event_types: string[];
}

/**
 * Worker → main thread: everything the islands draw, after filters. Rows travel once: `rows`
 * holds only those the main thread does not hold yet, and the buckets are lists of ids; the main
 * thread drops rows no list names any more.
 */
export interface LiveUpdate {
  type: "update";
  /** Rows new to the main thread. */
  rows: FeedRow[];
  /** Priority bucket after filters, newest first: row ids. */
  priority: Float64Array;
  /** Regular bucket after filters, newest first: row ids. */
  regular: Float64Array;
  /** The merged display holds every priority row and this many of the newest regular rows. */
  shownRegular: number;
  /** Bucket sizes before filters. */
  counts: { priority: number; regular: number; display: number };
  /** The sessions board: when it changed, at most every 250 ms. */
  board?: BoardView;
  conn: Connection;
  /** Highest event id seen. */
  lastId: number;
  /** Events received in the last full second. */
  eventsPerSec: number;
  /** Mean classification time per event, ms. */
  classifyMs: number;
  /** Present when it changed since the last update. */
  pulse?: Pulse;
  /** Present when it changed since the last update. */
  choices?: FilterChoices;
  /** Sessions whose cost or tokens changed since the last update (`session` frames). */
  sessions?: SessionSummary[];
  /** Inbox items that changed since the last update (`inbox` frames), oldest change first. */
  inbox?: InboxItem[];
}
