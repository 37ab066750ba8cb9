/**
 * Wires the domain together: classification, group commit, broadcaster, retention and health
 * around one store. Routes receive the resulting {@linkcode Hookwatch} and call into it.
 *
 * @module
 */
import { type Classifier, createClassifier } from "../common/classify.ts";
import { DEFAULT_CAPS } from "../common/buckets.ts";
import type { Config } from "./base/config.ts";
import type { NewEvent } from "../common/events.ts";
import type { EventStore, InsertResult, SnapshotQuery } from "./store/store.ts";
import { GroupCommitter } from "./ingest/group_commit.ts";
import { CommitFeed } from "./store/commit_feed.ts";
import { deriveFields } from "./ingest/derive.ts";
import { SessionModels } from "./ingest/session_models.ts";
import { Broadcaster } from "./stream/broadcaster.ts";
import { RetentionSweeper } from "./store/retention.ts";
import { checkHealth, type HealthReport } from "./health.ts";
import { encodeInboxFrame, SHUTDOWN_FRAME } from "./stream/sse.ts";
import {
  asStoreUnavailable,
  StoreUnavailableError,
} from "./store/store_errors.ts";
import { SessionTracker } from "./sessions/sessions.ts";
import { instruments } from "./base/instruments.ts";
import { recordCommitted } from "./ingest/record.ts";
import { createRedactor } from "./ingest/redact.ts";
import { log } from "./base/log.ts";
import { stages } from "./base/stages.ts";
import { archivingStore } from "./store/archive.ts";
import { Agents } from "./agents/agents.ts";
import { LiveSnapshot } from "./stream/live_snapshot.ts";
import { Decisions } from "./agents/decisions.ts";
import { Access } from "./access/access.ts";

/** How long a failed write keeps health unhealthy when no write succeeds meanwhile. */
export const WRITE_FAILURE_HOLD_MS = 30_000;

/** Longest an ingest waits for the agent tables at start-up before answering 503. */
export const AGENT_TABLES_WAIT_MS = 5_000;

/** The running domain: what routes call. */
export interface Hookwatch {
  readonly config: Config;
  readonly store: EventStore;
  readonly classify: Classifier;
  readonly committer: GroupCommitter;
  /** Every committed event, once, in id order (any replica's with PostgreSQL). */
  readonly feed: CommitFeed;
  readonly broadcaster: Broadcaster;
  /** Per-session aggregates (hook events and Claude Code telemetry). */
  readonly sessions: SessionTracker;
  /** Tool calls, session activity and the attention inbox, in the store. */
  readonly agents: Agents;
  /** Permission requests held open for a person (`HOOKWATCH_DECISIONS=on`). */
  readonly decisions: Decisions;
  readonly sweeper: RetentionSweeper;
  /** Who is asking: tokens, sign-in sessions, the SSO proxy. */
  readonly access: Access;
  /** Classifies, stores (resolving after commit) and broadcasts events, all or nothing. */
  ingest(events: NewEvent[]): Promise<InsertResult[]>;
  /** The snapshot kept in memory from the feed: streams, the first paint, `/events/priority`. */
  readonly snapshots: LiveSnapshot;
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

/** Options for {@linkcode createHookwatch}. */
export interface HookwatchOptions {
  /** Run the retention sweeper and the agent and session sweeps (default true). */
  sweep?: boolean;
}

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
  options: HookwatchOptions = {},
): Hookwatch {
  const classify = createClassifier(config.priorityEventTypes);
  const broadcaster = new Broadcaster({
    queueBytes: config.streamClientQueueBytes,
    heartbeatMs: config.heartbeatMs,
  });
  const sessions = new SessionTracker(store.db, { prune: options.sweep });
  // Counters count what this replica stored (so sums over replicas are right): they follow
  // its own commits. Everything else follows the feed: every replica's commits.
  const committer = new GroupCommitter(store, { onCommitted: recordCommitted });
  const feed = new CommitFeed(store);
  const models = new SessionModels();
  const redact = createRedactor({
    enabled: config.redact,
    extra: config.redactPatterns,
  });
  feed.observe((events) => models.observe(events));
  feed.observe((events) => broadcaster.publish(events));
  const snapshotQuery = (): SnapshotQuery => ({
    now: Date.now(),
    priorityLimit: DEFAULT_CAPS.priority,
    regularLimit: DEFAULT_CAPS.regular,
    priorityRetentionMs: config.retentionPriorityMs,
    regularRetentionMs: config.retentionRegularMs,
  });
  const snapshots = new LiveSnapshot(store, snapshotQuery);
  feed.observe((events) => snapshots.observe(events));
  const agents = new Agents(store, config.agents, {
    sweep: options.sweep,
    tally: sessions,
  });
  feed.observe((events) => agents.observe(events));
  // Until the agent tables exist, a commit would count as history and never be folded: ingest
  // waits for them a while, then answers as for a store that is away.
  const agentTables = (): Promise<void> =>
    Promise.race([
      agents.migrated,
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, AGENT_TABLES_WAIT_MS);
        agents.migrated.then(() => clearTimeout(timer));
      }),
    ]).then(() => {
      if (!agents.isMigrated) {
        throw new StoreUnavailableError("the agent tables are not created yet");
      }
    });
  agents.onChange((items) => {
    for (const item of items) {
      broadcaster.publishFrame(encodeInboxFrame(item), item.source_app);
    }
  });
  const access = new Access(config.access, store.db);
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

  const hookwatch: Hookwatch = {
    config,
    store,
    classify,
    committer,
    feed,
    broadcaster,
    sessions,
    agents,
    get decisions() {
      return decisions;
    },
    sweeper,
    access,
    get closing() {
      return closing;
    },
    ingest(incoming) {
      // Before anything stores, streams or logs them: secrets never leave this line.
      const events = redact(incoming);
      if (stages.on) {
        for (const e of events) stages.mark(e.event_id, "redacted");
      }
      const start = performance.now();
      const classified = deriveFields(events, classify, Date.now(), models);
      instruments.classificationDuration.record(
        (performance.now() - start) / 1000 / Math.max(1, events.length),
      );
      const submitted = agents.isMigrated
        ? committer.submit(classified)
        : agentTables().then(() => committer.submit(classified));
      return submitted.then((results) => {
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
    snapshots,
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
      await decisions.close();
      await committer.close();
      broadcaster.closeAll(SHUTDOWN_FRAME);
      await sweeper.stop();
      sessions.close();
      access.close();
      await agents.close();
      await store.close();
    },
  };
  const decisions = new Decisions(agents, (events) => hookwatch.ingest(events));
  return hookwatch;
}
