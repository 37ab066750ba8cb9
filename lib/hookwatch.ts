/**
 * Wires the domain together: classification, group commit, broadcaster, retention and health
 * around one store. Routes receive the resulting {@linkcode Hookwatch} and call into it.
 *
 * @module
 */
import { type Classifier, createClassifier } from "./classify.ts";
import type { Config } from "./config.ts";
import type { NewEvent, StoredEvent } from "./events.ts";
import type { EventStore, InsertResult, SnapshotQuery } from "./store.ts";
import { GroupCommitter } from "./group_commit.ts";
import { Broadcaster } from "./broadcaster.ts";
import { RetentionSweeper } from "./retention.ts";
import { checkHealth, type HealthReport } from "./health.ts";
import { SHUTDOWN_FRAME } from "./sse.ts";
import { asStoreUnavailable, StoreUnavailableError } from "./store_errors.ts";
import { SessionTracker } from "./sessions.ts";
import { instruments } from "../otel/instruments.ts";
import { recordCommitted } from "../otel/record.ts";
import { log } from "./log.ts";
import { archivingStore } from "./archive.ts";

/** Bucket caps from the product contract. */
export const BUCKET_LIMITS = Object.freeze({
  priority: 200,
  regular: 100,
  display: 250,
});

/** How long a failed write keeps health unhealthy when no write succeeds meanwhile. */
export const WRITE_FAILURE_HOLD_MS = 30_000;

/** The running domain: what routes call. */
export interface Hookwatch {
  readonly config: Config;
  readonly store: EventStore;
  readonly classify: Classifier;
  readonly committer: GroupCommitter;
  readonly broadcaster: Broadcaster;
  /** Per-session aggregates (hook events and Claude Code telemetry). */
  readonly sessions: SessionTracker;
  readonly sweeper: RetentionSweeper;
  /** Classifies, stores (resolving after commit) and broadcasts events, all or nothing. */
  ingest(events: NewEvent[]): Promise<InsertResult[]>;
  /** The dual-bucket snapshot query for now. */
  snapshotQuery(): SnapshotQuery;
  health(): Promise<HealthReport>;
  /** The last storage failure of an ingest, until a write succeeds or it is 30 s old. */
  readonly writeFailure: StoreUnavailableError | null;
  /** True once shutdown began: readiness fails. */
  readonly closing: boolean;
  /** Drains pending commits, closes streams with a retry hint, stops the sweeper, closes the store. */
  close(): Promise<void>;
}

/** Deps is what route factories receive. */
export type Deps = Hookwatch;

/**
 * Builds the domain around an open store.
 *
 * @example
 * ```ts
 * const hw = createHookwatch(loadConfig(), SqliteStore.open("./data/hookwatch.db"));
 * await hw.ingest([event]);
 * ```
 */
export function createHookwatch(
  config: Config,
  store: EventStore,
  options: { sweep?: boolean } = {},
): Hookwatch {
  const classify = createClassifier(config.priorityEventTypes);
  const broadcaster = new Broadcaster({
    queueBytes: config.streamClientQueueBytes,
    heartbeatMs: config.heartbeatMs,
  });
  const sessions = SessionTracker.forStore(store);
  const fromStore = typeof store.listen === "function";
  const committer = new GroupCommitter(store, {
    onCommitted: (events: StoredEvent[]) => {
      recordCommitted(events);
      if (!fromStore) sessions.observe(events);
      if (!fromStore) broadcaster.publish(events);
    },
  });
  if (fromStore) {
    // Every replica's commits, so each replica's session counts and states are complete.
    store.listen!((events) => {
      sessions.observe(events);
      broadcaster.publish(events);
    });
  }
  const sweeper = new RetentionSweeper(
    config.archiveDir ? archivingStore(store, config.archiveDir) : store,
    {
      priorityMs: config.retentionPriorityMs,
      regularMs: config.retentionRegularMs,
      intervalMs: config.retentionSweepIntervalMs,
    },
  );
  if (options.sweep !== false) sweeper.start();
  let closing = false;
  let writeFailure: { error: StoreUnavailableError; at: number } | null = null;
  // Held for a while only: with no writes arriving, /health must not stay unhealthy forever.
  const currentWriteFailure = () => {
    if (writeFailure && Date.now() - writeFailure.at > WRITE_FAILURE_HOLD_MS) {
      writeFailure = null;
    }
    return writeFailure?.error ?? null;
  };

  return {
    config,
    store,
    classify,
    committer,
    broadcaster,
    sessions,
    sweeper,
    get closing() {
      return closing;
    },
    ingest(events) {
      const start = performance.now();
      const received_at = Date.now();
      const classified = events.map((e) => ({
        ...e,
        priority: classify(e.hook_event_type) ? 1 as const : 0 as const,
        received_at,
      }));
      instruments.classificationDuration.record(
        (performance.now() - start) / 1000 / Math.max(1, events.length),
      );
      return committer.submit(classified).then((results) => {
        if (writeFailure !== null) {
          log.info("storage writes recovered", { store: store.kind });
        }
        writeFailure = null;
        return results;
      }, (error) => {
        const unavailable = asStoreUnavailable(error);
        if (!unavailable) throw error;
        if (writeFailure === null) {
          log.error("storage writes failing", {
            store: store.kind,
            error: unavailable.message,
          });
        }
        writeFailure = { error: unavailable, at: Date.now() };
        throw unavailable;
      });
    },
    get writeFailure() {
      return currentWriteFailure();
    },
    snapshotQuery() {
      return {
        now: Date.now(),
        priorityLimit: BUCKET_LIMITS.priority,
        regularLimit: BUCKET_LIMITS.regular,
        priorityRetentionMs: config.retentionPriorityMs,
        regularRetentionMs: config.retentionRegularMs,
      };
    },
    health() {
      return checkHealth({
        store,
        classify,
        streamStats: () => broadcaster.stats(),
        writeFailure: currentWriteFailure,
      });
    },
    async close() {
      closing = true;
      await committer.close();
      broadcaster.closeAll(SHUTDOWN_FRAME);
      await sweeper.stop();
      sessions.close();
      await store.close();
    },
  };
}
