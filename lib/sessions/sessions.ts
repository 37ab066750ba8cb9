/**
 * Per-session aggregates, kept in the store's database so every replica reads the same and
 * they survive a restart: first/last seen, event counts by bucket, cost, tokens by kind,
 * requests, errors, models, lines of code, active time, and the same per prompt. The session's
 * state is not among them: the agent sessions own it, and `views.ts` serves the two together.
 *
 * Hook events are tallied inside the agent sessions' fold ({@linkcode tallyTx}), once across
 * replicas. Telemetry is recorded by the replica that received it.
 *
 * Cost and tokens arrive twice from Claude Code: once per API call as `api_request` records
 * and again, summed, as the `claude_code.cost.usage` / `claude_code.token.usage` metrics. Both
 * sums are kept apart per session, model and kind, and the aggregate is the larger of the two,
 * so the same spend is never counted twice, and whichever signal is ahead (logs every 5 s,
 * metrics every 60 s, or only one of them enabled) is shown. Delta points are deduplicated by
 * series and window; cumulative points contribute their growth since the series' last point.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type {
  SessionAggregates,
  SessionDetailAggregates,
} from "../../common/sessions.ts";
import { type Db, q, type Tx } from "../store/db.ts";
import {
  pointTime,
  TOKEN_KINDS,
  type UsageKind,
  type UsagePoint,
  type UsageRecord,
} from "./usage.ts";
import {
  ADD_TO_PROMPT,
  detailTx,
  INSERT_PROMPT,
  INSERT_SESSION,
  listTx,
  pruneTx,
  SESSION_MIGRATIONS,
  type SessionQuery,
  summaryTx,
  TOTAL_COLUMN,
  WIDEN_SESSION,
} from "./tables.ts";
import { firstSeenTx, growthTx } from "./dedupe.ts";
import { tallyTx } from "./tally.ts";
import { errorFields, log } from "../base/log.ts";
import { whileUnavailable } from "../store/store_errors.ts";

export {
  SESSION_MIGRATIONS,
  SESSION_RETENTION_MS,
  SESSION_SORTS,
  type SessionQuery,
} from "./tables.ts";

/** Spend that newly counts, for the `claude_cost_usd_total` / `claude_tokens_total` counters. */
export interface SpendDelta {
  model: string;
  kind: "cost" | (typeof TOKEN_KINDS)[number];
  amount: number;
}

/** What one recording call changed. */
export interface Changes {
  /** Sessions whose aggregates changed. */
  sessions: Set<string>;
  spend: SpendDelta[];
}

/** How often each replica deletes what is past retention (idempotent, any replica). */
export const PRUNE_EVERY_MS = 3_600_000;

/** Options of {@linkcode SessionTracker}. */
export interface SessionTrackerOptions {
  /** Prune every {@linkcode PRUNE_EVERY_MS} (default true). */
  prune?: boolean;
}

function* touch(sessionId: string, first: number, last: number): Tx<void> {
  yield q(
    `${INSERT_SESSION} VALUES (?, ?, ?) ${WIDEN_SESSION}`,
    sessionId,
    first,
    last,
  );
}

/**
 * Adds to one source's sum and moves the session total by the growth of max(events, metrics).
 */
function* addUsage(
  sessionId: string,
  model: string,
  kind: UsageKind,
  amount: number,
  source: "events" | "metrics",
  changes: Changes,
): Tx<void> {
  if (amount <= 0) return;
  const fromEvents = source === "events" ? amount : 0;
  const fromMetrics = source === "metrics" ? amount : 0;
  const [sums] = yield q(
    `INSERT INTO session_usage (session_id, model, kind, from_events, from_metrics)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (session_id, model, kind) DO UPDATE SET
       from_events = session_usage.from_events + excluded.from_events,
       from_metrics = session_usage.from_metrics + excluded.from_metrics
     RETURNING from_events, from_metrics`,
    sessionId,
    model,
    kind,
    fromEvents,
    fromMetrics,
  );
  const events = Number(sums.from_events);
  const metrics = Number(sums.from_metrics);
  const growth = Math.max(events, metrics) -
    Math.max(events - fromEvents, metrics - fromMetrics);
  if (growth <= 0) return;
  const column = TOTAL_COLUMN[kind];
  yield q(
    `UPDATE sessions SET ${column} = ${column} + ? WHERE session_id = ?`,
    growth,
    sessionId,
  );
  if (
    kind !== "lines_added" && kind !== "lines_removed" && kind !== "active_time"
  ) {
    changes.spend.push({ model, kind, amount: growth });
  }
}

/** Applies telemetry records; a record already applied (a retried export) is skipped. */
function* recordsTx(
  records: readonly UsageRecord[],
  now: number,
): Tx<Changes & { fresh: UsageRecord[] }> {
  const changes = { sessions: new Set<string>(), spend: [], fresh: [] } as
    & Changes
    & { fresh: UsageRecord[] };
  for (const r of records) {
    if (!(yield* firstSeenTx(r.key, now))) continue;
    changes.fresh.push(r);
    changes.sessions.add(r.sessionId);
    yield* touch(r.sessionId, r.time, r.time);
    const isRequest = r.name === "api_request";
    const isError = r.name === "api_error";
    yield q(
      `UPDATE sessions SET otel_events = otel_events + 1,
         requests = requests + ?, errors = errors + ? WHERE session_id = ?`,
      isRequest ? 1 : 0,
      isError ? 1 : 0,
      r.sessionId,
    );
    if (isRequest) {
      const model = r.model ?? "unknown";
      yield* addUsage(r.sessionId, model, "cost", r.costUsd, "events", changes);
      for (const kind of TOKEN_KINDS) {
        yield* addUsage(
          r.sessionId,
          model,
          kind,
          r.tokens[kind],
          "events",
          changes,
        );
      }
    }
    if (r.promptId !== null) {
      const length = r.name === "user_prompt"
        ? Number(r.attributes.prompt_length)
        : NaN;
      const counted = (n: number) => isRequest ? n : 0;
      yield q(
        `${INSERT_PROMPT} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${ADD_TO_PROMPT}`,
        r.sessionId,
        r.promptId,
        r.time,
        r.time,
        counted(r.costUsd),
        counted(r.tokens.input),
        counted(r.tokens.output),
        counted(r.tokens.cacheRead),
        counted(r.tokens.cacheCreation),
        isRequest ? 1 : 0,
        isError ? 1 : 0,
        0,
        Number.isFinite(length) ? length : null,
      );
    }
  }
  return changes;
}

/** Applies metric points (delta or cumulative). */
function* pointsTx(points: readonly UsagePoint[], now: number): Tx<Changes> {
  const changes: Changes = { sessions: new Set(), spend: [] };
  for (const p of points) {
    const amount = yield* growthTx(p, now);
    if (amount === null) continue;
    const at = pointTime(p, now);
    yield* touch(p.sessionId, at, at);
    changes.sessions.add(p.sessionId);
    yield* addUsage(p.sessionId, p.model, p.kind, amount, "metrics", changes);
  }
  return changes;
}

/**
 * Session aggregates in the store's database (own tables, own migration). Hook events reach
 * them through the agent sessions' fold, which runs {@linkcode SessionTracker.tallyTx} in its
 * transaction; reads do not wait for it, so read after `agents.flush()` to include what was
 * just committed.
 *
 * @example
 * ```ts
 * const sessions = new SessionTracker(store.db);
 * const agents = new Agents(store, config.agents, { tally: sessions });
 * await sessions.recordRecords(records, Date.now());
 * await sessions.list({ limit: 50, sort: "cost_usd", order: "desc" });
 * ```
 */
export class SessionTracker {
  readonly #db: Db;
  #pruner: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  /**
   * Resolves once the tables are migrated (retrying while the database is away at start-up);
   * rejects when they cannot be.
   */
  readonly ready: Promise<void>;
  /** Adds committed hook events to the counts, inside the fold's transaction. */
  readonly tallyTx: (events: readonly StoredEvent[]) => Tx<void> = tallyTx;

  constructor(db: Db, options: SessionTrackerOptions = {}) {
    this.#db = db;
    this.ready = whileUnavailable(
      () => db.migrate("sessions", SESSION_MIGRATIONS),
      {
        message:
          "session tables not created yet, the database is away; retrying",
        stopped: () => this.#closed,
      },
    );
    if (options.prune !== false) {
      this.#pruner = setInterval(() => {
        this.prune(Date.now()).catch((error) =>
          log.error("pruning session aggregates failed", errorFields(error))
        );
      }, PRUNE_EVERY_MS);
      Deno.unrefTimer(this.#pruner);
    }
  }

  /** Applies telemetry records once each; returns the records applied for the first time. */
  async recordRecords(
    records: readonly UsageRecord[],
    now: number,
  ): Promise<Changes & { fresh: UsageRecord[] }> {
    if (records.length === 0) {
      return { sessions: new Set(), spend: [], fresh: [] };
    }
    await this.ready;
    return await this.#db.write(() => recordsTx(records, now));
  }

  /** Applies metric points of usage (delta or cumulative), each once. */
  async recordUsage(
    points: readonly UsagePoint[],
    now: number,
  ): Promise<Changes> {
    if (points.length === 0) return { sessions: new Set(), spend: [] };
    await this.ready;
    return await this.#db.write(() => pointsTx(points, now));
  }

  /**
   * Deletes dedupe keys older than a day (exporters retry within minutes) and sessions not
   * seen for {@linkcode SESSION_RETENTION_MS}, with their prompts and usage; runs by itself
   * every {@linkcode PRUNE_EVERY_MS}. Returns how many sessions left.
   */
  async prune(now: number): Promise<number> {
    await this.ready;
    return await this.#db.write(() => pruneTx(now));
  }

  /** Sessions, filtered and sorted. */
  async list(query: SessionQuery): Promise<SessionAggregates[]> {
    await this.ready;
    return await this.#db.read(() => listTx(this.#db.kind, query));
  }

  /** One session's summary; null when unknown. */
  async summary(sessionId: string): Promise<SessionAggregates | null> {
    await this.ready;
    return await this.#db.read(() => summaryTx(sessionId));
  }

  /** One session with its prompts and usage by model; null when unknown. */
  async detail(sessionId: string): Promise<SessionDetailAggregates | null> {
    await this.ready;
    return await this.#db.read(() => detailTx(sessionId));
  }

  /** Stops the pruning timer. */
  close(): void {
    this.#closed = true;
    if (this.#pruner !== null) clearInterval(this.#pruner);
    this.#pruner = null;
  }
}
