/**
 * The store interface every backend implements (SQLite embedded, PostgreSQL for scale-out).
 *
 * @module
 */
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import type { Db } from "./db.ts";
import type { AgentName } from "../../common/adapters/names.ts";

/** Filters for {@linkcode EventStore.recent}. */
export interface RecentQuery {
  limit: number;
  source_app?: string;
  session_id?: string;
  hook_event_type?: string;
  priority?: 0 | 1;
  agent?: AgentName;
}

/**
 * A stored event as the stream serves it: its stream JSON (every listed field, no chat) built
 * from the stored text, and the fields the stream's filter and the snapshot's retention read.
 */
export interface EventJson {
  id: number;
  source_app: string;
  priority: 0 | 1;
  timestamp: number;
  agent: AgentName;
  json: string;
}

/**
 * The dual-bucket snapshot, newest first in each bucket; from the store as stream JSON
 * ({@linkcode EventJson}: its payloads are never parsed on the way from the database to the
 * stream).
 */
export interface Snapshot<E = EventJson> {
  priority: E[];
  regular: E[];
}

/** Bounds of the dual-bucket snapshot. */
export interface SnapshotQuery {
  now: number;
  priorityLimit: number;
  regularLimit: number;
  priorityRetentionMs: number;
  regularRetentionMs: number;
}

/** Distinct values for the dashboard's filters. */
export interface FilterOptions {
  source_apps: string[];
  session_ids: string[];
  hook_event_types: string[];
}

/** What {@linkcode EventStore.deleteExpired} removed. */
export interface ExpiredCount {
  priority: number;
  regular: number;
}

/** Persistence for hook events. Every method is safe to call while others run. */
export interface EventStore {
  /** Which backend, for health and metrics. */
  readonly kind: "sqlite" | "postgres";
  /** The one way to this database: every other table is read and written through it. */
  readonly db: Db;
  /**
   * Inserts events in one transaction, all or nothing, and returns them stored, in order.
   * An event whose `event_id` is already stored is not inserted again: its stored copy is
   * returned with `duplicate: true`.
   */
  insertBatch(events: ClassifiedEvent[]): Promise<InsertResult[]>;
  /** Newest first, with filters. */
  recent(query: RecentQuery): Promise<StoredEvent[]>;
  /** One event by id, with its chat; null when absent. */
  get(id: number): Promise<StoredEvent | null>;
  /** The dual-bucket snapshot. */
  snapshot(query: SnapshotQuery): Promise<Snapshot>;
  /** Events with id greater than `afterId`, oldest first, at most `limit`. */
  since(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** The highest stored id, 0 when empty. */
  maxId(): Promise<number>;
  filterOptions(): Promise<FilterOptions>;
  /**
   * Deletes at most `batchSize` expired rows per bucket (older than the cut-offs);
   * call again while it returns a full batch.
   */
  deleteExpired(
    priorityBefore: number,
    regularBefore: number,
    batchSize: number,
  ): Promise<ExpiredCount>;
  /**
   * Starts the committed-events feed: every newly stored event (duplicates left out), once and
   * in id order, after its transaction committed. SQLite feeds its own commits; PostgreSQL
   * every replica's sharing the database (LISTEN/NOTIFY). Call once; `lib/store/commit_feed.ts`
   * fans it out.
   */
  listen(onEvents: (events: StoredEvent[]) => void): Promise<void> | void;
  /** A round trip to the database; throws when it is unreachable. */
  ping(): Promise<void>;
  /** Optional: connection pool size and connections busy now (PostgreSQL), for metrics. */
  poolStats?(): { size: number; busy: number };
  close(): Promise<void>;
}

/** One inserted (or deduplicated) event. */
export interface InsertResult {
  event: StoredEvent;
  duplicate: boolean;
}

/** The events a batch newly stored, in order (what the commit feed and the counters see). */
export function newlyStored(results: readonly InsertResult[]): StoredEvent[] {
  const fresh: StoredEvent[] = [];
  for (const r of results) if (!r.duplicate) fresh.push(r.event);
  return fresh;
}
