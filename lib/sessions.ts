/**
 * Per-session aggregates, maintained incrementally as hook events and Claude Code telemetry
 * arrive: first/last seen, event counts by bucket, state, cost, tokens by kind, requests,
 * errors, models, lines of code, active time, and the same per prompt.
 *
 * Cost and tokens arrive twice from Claude Code: once per API call as `api_request` events and
 * again, summed, as the `claude_code.cost.usage` / `claude_code.token.usage` metrics. Both sums
 * are kept apart per session, model and kind, and the aggregate is the larger of the two, so
 * the same spend is never counted twice, and whichever signal is ahead (logs every 5 s,
 * metrics every 60 s, or only one of them enabled) is shown. Delta points are deduplicated by
 * series and window; cumulative points contribute their growth since the series' last point.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { StoredEvent } from "./events.ts";
import type { EventStore } from "./store.ts";
import { migrate } from "./sqlite_migrate.ts";
import { errorFields, log } from "./log.ts";
import {
  type ClaudeEvent,
  pointTime,
  TOKEN_KINDS,
  type UsageKind,
  type UsagePoint,
} from "./claude_telemetry.ts";

/** Where a session stands, from its latest hook events. */
export type SessionState = "working" | "waiting" | "stopped" | "failed";

/** Tokens by kind, as served. */
export interface Tokens {
  input: number;
  output: number;
  cache_read: number;
  cache_creation: number;
}

/** One session as `GET /sessions` serves it and the `session` stream frame carries it. */
export interface SessionSummary {
  session_id: string;
  source_app: string | null;
  first_seen: number;
  last_seen: number;
  events: { priority: number; regular: number; otel: number };
  state: SessionState | null;
  state_at: number | null;
  cost_usd: number;
  tokens: Tokens;
  requests: number;
  errors: number;
  models: string[];
  lines_of_code: { added: number; removed: number };
  active_time_s: number;
}

/** One prompt of a session (by `prompt_id`). */
export interface PromptSummary {
  prompt_id: string;
  first_seen: number;
  last_seen: number;
  cost_usd: number;
  tokens: Tokens;
  requests: number;
  errors: number;
  hook_events: number;
  prompt_length: number | null;
}

/** A session with its prompts and its usage by model. */
export interface SessionDetail extends SessionSummary {
  prompts: PromptSummary[];
  usage_by_model: { model: string; cost_usd: number; tokens: Tokens }[];
}

/** Sort keys of {@linkcode SessionQuery}. */
export const SESSION_SORTS = [
  "last_seen",
  "first_seen",
  "cost_usd",
  "tokens",
  "requests",
  "errors",
] as const;

/** Filters and order for {@linkcode SessionTracker.list}. */
export interface SessionQuery {
  limit: number;
  sort: (typeof SESSION_SORTS)[number];
  order: "asc" | "desc";
  source_app?: string;
  state?: SessionState;
  model?: string;
  /** Only sessions seen at or after this time (ms). */
  since?: number;
}

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

/** The sessions schema; append, never edit. */
export const SESSION_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     session_id TEXT PRIMARY KEY,
     source_app TEXT,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     priority_events INTEGER NOT NULL DEFAULT 0,
     regular_events INTEGER NOT NULL DEFAULT 0,
     otel_events INTEGER NOT NULL DEFAULT 0,
     state TEXT,
     state_at INTEGER,
     cost_usd REAL NOT NULL DEFAULT 0,
     input_tokens REAL NOT NULL DEFAULT 0,
     output_tokens REAL NOT NULL DEFAULT 0,
     cache_read_tokens REAL NOT NULL DEFAULT 0,
     cache_creation_tokens REAL NOT NULL DEFAULT 0,
     requests INTEGER NOT NULL DEFAULT 0,
     errors INTEGER NOT NULL DEFAULT 0,
     lines_added REAL NOT NULL DEFAULT 0,
     lines_removed REAL NOT NULL DEFAULT 0,
     active_time_s REAL NOT NULL DEFAULT 0,
     models TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX sessions_last_seen ON sessions (last_seen);
   CREATE INDEX sessions_cost ON sessions (cost_usd);
   CREATE TABLE session_usage (
     session_id TEXT NOT NULL,
     model TEXT NOT NULL,
     kind TEXT NOT NULL,
     from_events REAL NOT NULL DEFAULT 0,
     from_metrics REAL NOT NULL DEFAULT 0,
     PRIMARY KEY (session_id, model, kind)
   ) WITHOUT ROWID;
   CREATE TABLE session_prompts (
     session_id TEXT NOT NULL,
     prompt_id TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     cost_usd REAL NOT NULL DEFAULT 0,
     input_tokens REAL NOT NULL DEFAULT 0,
     output_tokens REAL NOT NULL DEFAULT 0,
     cache_read_tokens REAL NOT NULL DEFAULT 0,
     cache_creation_tokens REAL NOT NULL DEFAULT 0,
     requests INTEGER NOT NULL DEFAULT 0,
     errors INTEGER NOT NULL DEFAULT 0,
     hook_events INTEGER NOT NULL DEFAULT 0,
     prompt_length INTEGER,
     PRIMARY KEY (session_id, prompt_id)
   ) WITHOUT ROWID;
   CREATE TABLE otel_seen (
     key TEXT PRIMARY KEY,
     seen_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX otel_seen_at ON otel_seen (seen_at);
   CREATE TABLE otel_series (
     series TEXT PRIMARY KEY,
     start_nano TEXT NOT NULL,
     time_nano TEXT NOT NULL,
     value REAL NOT NULL
   ) WITHOUT ROWID;`,
];

/** Column of `sessions` that holds each usage kind's total. */
const TOTAL_COLUMN: Record<UsageKind, string> = {
  cost: "cost_usd",
  input: "input_tokens",
  output: "output_tokens",
  cacheRead: "cache_read_tokens",
  cacheCreation: "cache_creation_tokens",
  lines_added: "lines_added",
  lines_removed: "lines_removed",
  active_time: "active_time_s",
};

const WORKING = new Set([
  "UserPromptSubmit",
  "UserPromptExpansion",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "PostToolBatch",
  "PermissionDenied",
  "SubagentStart",
  "SubagentStop",
  "PreCompact",
  "PostCompact",
  "TaskCreated",
  "TaskCompleted",
  "ElicitationResult",
]);

/**
 * The state a hook event puts its session in, or null when it says nothing about it
 * (`idle_prompt` notifications repeat while an agent idles and are ignored).
 */
export function stateAfter(
  hookEventType: string,
  payload: Record<string, unknown>,
): SessionState | null {
  switch (hookEventType) {
    case "PermissionRequest":
    case "Elicitation":
      return "waiting";
    case "Notification":
      return payload.notification_type === "idle_prompt" ? null : "waiting";
    case "Stop":
    case "SessionEnd":
    case "SessionStart":
      return "stopped";
    case "StopFailure":
      return "failed";
    default:
      return WORKING.has(hookEventType) ? "working" : null;
  }
}

/** Sessions not seen for this long are deleted with their prompts and usage (30 days). */
export const SESSION_RETENTION_MS = 30 * 86_400_000;

/** Longest time a committed hook event waits before it is folded into the aggregates. */
export const OBSERVE_DELAY_MS = 100;

/** Hook events forwarded from Claude Code telemetry carry this type prefix. */
export const OTEL_TYPE_PREFIX = "claude_code.";

interface SessionRow {
  session_id: string;
  source_app: string | null;
  first_seen: number;
  last_seen: number;
  priority_events: number;
  regular_events: number;
  otel_events: number;
  state: SessionState | null;
  state_at: number | null;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  requests: number;
  errors: number;
  lines_added: number;
  lines_removed: number;
  active_time_s: number;
  models: string;
}

function tokensOf(row: {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}): Tokens {
  return {
    input: row.input_tokens,
    output: row.output_tokens,
    cache_read: row.cache_read_tokens,
    cache_creation: row.cache_creation_tokens,
  };
}

function round(value: number): number {
  // Sums of binary fractions drift (0.0123 + 0.0207 = 0.033000000000000004); cents of a cent
  // are not money anyone reads.
  return Math.round(value * 1e9) / 1e9;
}

function summaryOf(row: SessionRow): SessionSummary {
  return {
    session_id: row.session_id,
    source_app: row.source_app,
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    events: {
      priority: row.priority_events,
      regular: row.regular_events,
      otel: row.otel_events,
    },
    state: row.state,
    state_at: row.state_at,
    cost_usd: round(row.cost_usd),
    tokens: tokensOf(row),
    requests: row.requests,
    errors: row.errors,
    models: JSON.parse(row.models),
    lines_of_code: { added: row.lines_added, removed: row.lines_removed },
    active_time_s: round(row.active_time_s),
  };
}

const SORT_SQL: Record<SessionQuery["sort"], string> = {
  last_seen: "last_seen",
  first_seen: "first_seen",
  cost_usd: "cost_usd",
  tokens:
    "(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens)",
  requests: "requests",
  errors: "errors",
};

/**
 * Session aggregates in the events database (own tables, own migration).
 *
 * @example
 * ```ts
 * const tracker = new SessionTracker(store.db);
 * tracker.recordHookEvents(committedEvents);
 * const { fresh } = tracker.recordClaudeEvents(events, Date.now());
 * tracker.list({ limit: 50, sort: "cost_usd", order: "desc" });
 * ```
 */
export class SessionTracker {
  readonly #db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;
  readonly #addTotal: Record<UsageKind, StatementSync>;
  #pending: StoredEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  // The first automatic prune comes an hour after start, not on the first export.
  #lastPrune = Date.now();

  constructor(db: DatabaseSync) {
    this.#db = db;
    migrate(db, "sessions", SESSION_MIGRATIONS);
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      touch: p(
        `INSERT INTO sessions (session_id, first_seen, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET
           first_seen = MIN(first_seen, excluded.first_seen),
           last_seen = MAX(last_seen, excluded.last_seen)`,
      ),
      hook: p(
        `UPDATE sessions SET
           source_app = COALESCE(?, source_app),
           priority_events = priority_events + ?,
           regular_events = regular_events + ?
         WHERE session_id = ?`,
      ),
      state: p(
        `UPDATE sessions SET state = ?, state_at = ?
         WHERE session_id = ? AND (state_at IS NULL OR state_at <= ?)`,
      ),
      otelCount: p(
        `UPDATE sessions SET otel_events = otel_events + 1,
           requests = requests + ?, errors = errors + ?
         WHERE session_id = ?`,
      ),
      seen: p(
        `INSERT INTO otel_seen (key, seen_at) VALUES (?, ?)
         ON CONFLICT (key) DO NOTHING RETURNING key`,
      ),
      usageGet: p(
        `SELECT from_events, from_metrics FROM session_usage
         WHERE session_id = ? AND model = ? AND kind = ?`,
      ),
      usagePut: p(
        `INSERT INTO session_usage (session_id, model, kind, from_events, from_metrics)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (session_id, model, kind) DO UPDATE SET
           from_events = excluded.from_events, from_metrics = excluded.from_metrics`,
      ),
      models: p(`SELECT models FROM sessions WHERE session_id = ?`),
      setModels: p(`UPDATE sessions SET models = ? WHERE session_id = ?`),
      prompt: p(
        `INSERT INTO session_prompts (session_id, prompt_id, first_seen, last_seen,
           cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
           requests, errors, hook_events, prompt_length)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_id, prompt_id) DO UPDATE SET
           first_seen = MIN(first_seen, excluded.first_seen),
           last_seen = MAX(last_seen, excluded.last_seen),
           cost_usd = cost_usd + excluded.cost_usd,
           input_tokens = input_tokens + excluded.input_tokens,
           output_tokens = output_tokens + excluded.output_tokens,
           cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
           cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
           requests = requests + excluded.requests,
           errors = errors + excluded.errors,
           hook_events = hook_events + excluded.hook_events,
           prompt_length = COALESCE(excluded.prompt_length, prompt_length)`,
      ),
      seriesGet: p(
        `SELECT start_nano, time_nano, value FROM otel_series WHERE series = ?`,
      ),
      seriesPut: p(
        `INSERT INTO otel_series (series, start_nano, time_nano, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (series) DO UPDATE SET start_nano = excluded.start_nano,
           time_nano = excluded.time_nano, value = excluded.value`,
      ),
      get: p(`SELECT * FROM sessions WHERE session_id = ?`),
      prompts: p(
        `SELECT * FROM session_prompts WHERE session_id = ?
         ORDER BY first_seen, prompt_id LIMIT 1000`,
      ),
      byModel: p(
        `SELECT model, kind, MAX(from_events, from_metrics) AS amount FROM session_usage
         WHERE session_id = ? AND model <> '' ORDER BY model`,
      ),
      prune: p(`DELETE FROM otel_seen WHERE seen_at < ?`),
      pruneUsage: p(
        `DELETE FROM session_usage WHERE session_id IN
           (SELECT session_id FROM sessions WHERE last_seen < ?)`,
      ),
      prunePrompts: p(
        `DELETE FROM session_prompts WHERE session_id IN
           (SELECT session_id FROM sessions WHERE last_seen < ?)`,
      ),
      pruneSessions: p(`DELETE FROM sessions WHERE last_seen < ?`),
    };
    this.#addTotal = Object.fromEntries(
      Object.entries(TOTAL_COLUMN).map(([kind, column]) => [
        kind,
        p(`UPDATE sessions SET ${column} = ${column} + ? WHERE session_id = ?`),
      ]),
    ) as Record<UsageKind, StatementSync>;
  }

  #tx<T>(run: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = run();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Opens the tracker on the store's own SQLite connection; with another store (PostgreSQL) it
   * keeps its aggregates in memory, per process, until it has its own PostgreSQL tables.
   */
  static forStore(store: EventStore): SessionTracker {
    const db = (store as { db?: unknown }).db;
    return new SessionTracker(
      db instanceof DatabaseSync ? db : new DatabaseSync(":memory:"),
    );
  }

  /**
   * {@linkcode recordHookEvents} for the commit path, deferred: committed events are folded in
   * at most {@linkcode OBSERVE_DELAY_MS} later (or at the next read, or at
   * {@linkcode SessionTracker.close}), so many commits share one aggregate transaction. A
   * failure is logged, never thrown.
   */
  observe(events: readonly StoredEvent[]): void {
    for (const e of events) this.#pending.push(e);
    if (this.#pending.length >= 10_000) this.flush();
    else if (this.#timer === null && this.#pending.length > 0) {
      this.#timer = setTimeout(() => this.flush(), OBSERVE_DELAY_MS);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Folds in the hook events {@linkcode observe} is holding. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    try {
      this.recordHookEvents(events);
      this.#prune(Date.now());
    } catch (error) {
      log.error("session aggregates not updated", errorFields(error));
    }
  }

  /** Flushes and stops the timer; call before closing the database. */
  close(): void {
    this.flush();
  }

  /**
   * Counts committed hook events and moves session state: folded per session and prompt first,
   * so a batch costs a few statements per session rather than per event; one transaction.
   */
  recordHookEvents(events: readonly StoredEvent[]): Changes {
    const changes: Changes = { sessions: new Set(), spend: [] };
    if (events.length === 0) return changes;
    interface Fold {
      first: number;
      last: number;
      app: string | null;
      priority: number;
      regular: number;
      state: SessionState | null;
      stateAt: number;
    }
    const bySession = new Map<string, Fold>();
    const byPrompt = new Map<
      string,
      [string, string, number, number, number]
    >();
    for (const e of events) {
      let f = bySession.get(e.session_id);
      if (!f) {
        f = {
          first: e.timestamp,
          last: e.timestamp,
          app: null,
          priority: 0,
          regular: 0,
          state: null,
          stateAt: -Infinity,
        };
        bySession.set(e.session_id, f);
      }
      f.first = Math.min(f.first, e.timestamp);
      f.last = Math.max(f.last, e.timestamp);
      if (e.priority === 1) f.priority++;
      else f.regular++;
      if (e.hook_event_type.startsWith(OTEL_TYPE_PREFIX)) continue;
      f.app = e.source_app;
      const state = stateAfter(e.hook_event_type, e.payload);
      if (state !== null && e.timestamp >= f.stateAt) {
        f.state = state;
        f.stateAt = e.timestamp;
      }
      const promptId = e.payload.prompt_id;
      if (typeof promptId === "string" && promptId.length > 0) {
        const key = `${e.session_id}\n${promptId}`;
        const p = byPrompt.get(key);
        if (p) {
          p[2] = Math.min(p[2], e.timestamp);
          p[3] = Math.max(p[3], e.timestamp);
          p[4]++;
        } else {
          byPrompt.set(key, [
            e.session_id,
            promptId.slice(0, 256),
            e.timestamp,
            e.timestamp,
            1,
          ]);
        }
      }
    }
    this.#tx(() => {
      for (const [id, f] of bySession) {
        this.#s.touch.run(id, f.first, f.last);
        this.#s.hook.run(f.app, f.priority, f.regular, id);
        if (f.state !== null) {
          this.#s.state.run(f.state, f.stateAt, id, f.stateAt);
        }
        changes.sessions.add(id);
      }
      for (const [session, prompt, first, last, n] of byPrompt.values()) {
        this.#s.prompt.run(
          session,
          prompt,
          first,
          last,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          n,
          null,
        );
      }
    });
    return changes;
  }

  /**
   * Applies Claude Code events; a record already applied (a retried export) is skipped.
   * Returns the events applied for the first time.
   */
  recordClaudeEvents(
    events: readonly ClaudeEvent[],
    now: number,
  ): Changes & { fresh: ClaudeEvent[] } {
    this.flush();
    const changes: Changes & { fresh: ClaudeEvent[] } = {
      sessions: new Set(),
      spend: [],
      fresh: [],
    };
    if (events.length === 0) return changes;
    this.#tx(() => {
      for (const e of events) {
        if (!this.#s.seen.get(e.key, now)) continue;
        changes.fresh.push(e);
        changes.sessions.add(e.sessionId);
        this.#s.touch.run(e.sessionId, e.time, e.time);
        const isRequest = e.name === "api_request";
        const isError = e.name === "api_error";
        this.#s.otelCount.run(isRequest ? 1 : 0, isError ? 1 : 0, e.sessionId);
        if (isRequest) {
          const model = e.model ?? "unknown";
          this.#addUsage(
            e.sessionId,
            model,
            "cost",
            e.costUsd,
            "events",
            changes,
          );
          for (const kind of TOKEN_KINDS) {
            this.#addUsage(
              e.sessionId,
              model,
              kind,
              e.tokens[kind],
              "events",
              changes,
            );
          }
        }
        if (e.promptId !== null) {
          const length = e.name === "user_prompt"
            ? Number(e.attributes.prompt_length)
            : NaN;
          this.#s.prompt.run(
            e.sessionId,
            e.promptId,
            e.time,
            e.time,
            isRequest ? e.costUsd : 0,
            isRequest ? e.tokens.input : 0,
            isRequest ? e.tokens.output : 0,
            isRequest ? e.tokens.cacheRead : 0,
            isRequest ? e.tokens.cacheCreation : 0,
            isRequest ? 1 : 0,
            isError ? 1 : 0,
            0,
            Number.isFinite(length) ? length : null,
          );
        }
      }
      this.#prune(now);
    });
    return changes;
  }

  /** Applies Claude Code metric points (delta or cumulative). */
  recordUsage(points: readonly UsagePoint[], now: number): Changes {
    this.flush();
    const changes: Changes = { sessions: new Set(), spend: [] };
    if (points.length === 0) return changes;
    this.#tx(() => {
      for (const p of points) {
        const amount = this.#growth(p, now);
        if (amount === null) continue;
        const at = pointTime(p, now);
        this.#s.touch.run(p.sessionId, at, at);
        changes.sessions.add(p.sessionId);
        if (amount > 0) {
          this.#addUsage(
            p.sessionId,
            p.model,
            p.kind,
            amount,
            "metrics",
            changes,
          );
        }
      }
      this.#prune(now);
    });
    return changes;
  }

  /** How much a point adds: null when it was seen already or is older than what was. */
  #growth(p: UsagePoint, now: number): number | null {
    if (p.temporality === "delta") {
      const key = `${p.series}:${p.startTimeUnixNano}:${p.timeUnixNano}`;
      return this.#s.seen.get(key, now) ? p.value : null;
    }
    const last = this.#s.seriesGet.get(p.series) as
      | { start_nano: string; time_nano: string; value: number }
      | undefined;
    let amount: number;
    if (!last) {
      amount = p.value;
    } else if (last.start_nano === p.startTimeUnixNano) {
      if (BigInt(p.timeUnixNano) <= BigInt(last.time_nano)) return null;
      // A cumulative series that went down was restarted without a new start time.
      amount = p.value >= last.value ? p.value - last.value : p.value;
    } else if (BigInt(p.startTimeUnixNano) > BigInt(last.start_nano)) {
      amount = p.value;
    } else {
      return null;
    }
    this.#s.seriesPut.run(
      p.series,
      p.startTimeUnixNano,
      p.timeUnixNano,
      p.value,
    );
    return amount;
  }

  /**
   * Adds to one source's sum and moves the session total by the growth of max(events, metrics).
   */
  #addUsage(
    sessionId: string,
    model: string,
    kind: UsageKind,
    amount: number,
    source: "events" | "metrics",
    changes: Changes,
  ): void {
    if (amount <= 0) return;
    const row = this.#s.usageGet.get(sessionId, model, kind) as
      | { from_events: number; from_metrics: number }
      | undefined;
    const events = (row?.from_events ?? 0) + (source === "events" ? amount : 0);
    const metrics = (row?.from_metrics ?? 0) +
      (source === "metrics" ? amount : 0);
    this.#s.usagePut.run(sessionId, model, kind, events, metrics);
    const before = Math.max(row?.from_events ?? 0, row?.from_metrics ?? 0);
    const growth = Math.max(events, metrics) - before;
    if (growth > 0) {
      this.#addTotal[kind].run(growth, sessionId);
      if (
        kind !== "lines_added" && kind !== "lines_removed" &&
        kind !== "active_time"
      ) {
        changes.spend.push({ model, kind, amount: growth });
      }
    }
    if (model !== "" && !row) {
      const models = JSON.parse(
        (this.#s.models.get(sessionId) as { models: string }).models,
      ) as string[];
      if (!models.includes(model)) {
        models.push(model);
        models.sort();
        this.#s.setModels.run(JSON.stringify(models), sessionId);
      }
    }
  }

  #prune(now: number): void {
    if (now - this.#lastPrune < 3_600_000) return;
    this.#lastPrune = now;
    this.prune(now);
  }

  /**
   * Deletes dedupe keys older than a day (exporters retry within minutes) and sessions not
   * seen for {@linkcode SESSION_RETENTION_MS}, with their prompts and usage. Runs by itself
   * at most hourly while telemetry arrives.
   */
  prune(now: number): number {
    this.#s.prune.run(now - 86_400_000);
    const cutoff = now - SESSION_RETENTION_MS;
    this.#s.pruneUsage.run(cutoff);
    this.#s.prunePrompts.run(cutoff);
    return Number(this.#s.pruneSessions.run(cutoff).changes);
  }

  /** Sessions, filtered and sorted. */
  list(query: SessionQuery): SessionSummary[] {
    this.flush();
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (query.source_app !== undefined) {
      where.push("source_app = ?");
      values.push(query.source_app);
    }
    if (query.state !== undefined) {
      where.push("state = ?");
      values.push(query.state);
    }
    if (query.since !== undefined) {
      where.push("last_seen >= ?");
      values.push(query.since);
    }
    if (query.model !== undefined) {
      where.push(
        "EXISTS (SELECT 1 FROM session_usage u WHERE u.session_id = sessions.session_id AND u.model = ?)",
      );
      values.push(query.model);
    }
    const sql = `SELECT * FROM sessions ${
      where.length ? `WHERE ${where.join(" AND ")}` : ""
    } ORDER BY ${SORT_SQL[query.sort]} ${
      query.order === "asc" ? "ASC" : "DESC"
    }, session_id LIMIT ?`;
    return (this.#db.prepare(sql).all(
      ...values,
      query.limit,
    ) as unknown as SessionRow[]).map(summaryOf);
  }

  /** One session's summary; null when unknown. */
  summary(sessionId: string): SessionSummary | null {
    this.flush();
    const row = this.#s.get.get(sessionId) as unknown as SessionRow | undefined;
    return row ? summaryOf(row) : null;
  }

  /** One session with its prompts and usage by model; null when unknown. */
  detail(sessionId: string): SessionDetail | null {
    const summary = this.summary(sessionId);
    if (!summary) return null;
    type PromptRow = Omit<PromptSummary, "tokens"> & {
      input_tokens: number;
      output_tokens: number;
      cache_read_tokens: number;
      cache_creation_tokens: number;
    };
    const rows = this.#s.prompts.all(sessionId) as unknown as PromptRow[];
    const prompts = rows.map((r) => ({
      prompt_id: r.prompt_id,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
      cost_usd: round(r.cost_usd),
      tokens: tokensOf(r),
      requests: r.requests,
      errors: r.errors,
      hook_events: r.hook_events,
      prompt_length: r.prompt_length,
    }));
    const byModel = new Map<string, { cost_usd: number; tokens: Tokens }>();
    for (
      const r of this.#s.byModel.all(sessionId) as {
        model: string;
        kind: UsageKind;
        amount: number;
      }[]
    ) {
      let entry = byModel.get(r.model);
      if (!entry) {
        entry = {
          cost_usd: 0,
          tokens: { input: 0, output: 0, cache_read: 0, cache_creation: 0 },
        };
        byModel.set(r.model, entry);
      }
      if (r.kind === "cost") entry.cost_usd = round(r.amount);
      else if (r.kind === "input") entry.tokens.input = r.amount;
      else if (r.kind === "output") entry.tokens.output = r.amount;
      else if (r.kind === "cacheRead") entry.tokens.cache_read = r.amount;
      else if (r.kind === "cacheCreation") {
        entry.tokens.cache_creation = r.amount;
      }
    }
    return {
      ...summary,
      prompts,
      usage_by_model: [...byModel].map(([model, v]) => ({ model, ...v })),
    };
  }
}

const encoder = new TextEncoder();

/**
 * The `session` stream frame: a session's summary after its aggregates changed. It carries no
 * `id:` so `Last-Event-ID` resumption is unaffected.
 */
export function encodeSessionFrame(summary: SessionSummary): Uint8Array {
  return encoder.encode(`event: session\ndata: ${JSON.stringify(summary)}\n\n`);
}
