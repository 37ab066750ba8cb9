/**
 * The sessions tables in SQLite: their migrations, prepared statements and the read queries
 * (list, summary, detail) with their row mapping. It owns no aggregation rule: the tracker
 * (`sessions.ts`) decides what to write.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type {
  PromptSummary,
  SessionAggregates,
  SessionDetailAggregates,
  Tokens,
} from "../../common/sessions.ts";
import { migrate } from "../store/sqlite_migrate.ts";
import type { UsageKind } from "./usage.ts";

/** Sort keys of {@linkcode SessionQuery}. */
export const SESSION_SORTS = [
  "last_seen",
  "first_seen",
  "cost_usd",
  "tokens",
  "requests",
  "errors",
] as const;

/** Filters and order for {@linkcode SessionTables.list}. */
export interface SessionQuery {
  limit: number;
  sort: (typeof SESSION_SORTS)[number];
  order: "asc" | "desc";
  source_app?: string;
  /** Only these sessions (e.g. those in one state). */
  session_ids?: readonly string[];
  model?: string;
  /** Only sessions seen at or after this time (ms). */
  since?: number;
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

/** Sessions not seen for this long are deleted with their prompts and usage (30 days). */
export const SESSION_RETENTION_MS = 30 * 86_400_000;

interface SessionRow {
  session_id: string;
  source_app: string | null;
  first_seen: number;
  last_seen: number;
  priority_events: number;
  regular_events: number;
  otel_events: number;
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

function summaryOf(row: SessionRow): SessionAggregates {
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

/** The sessions tables on one SQLite connection (migrated on open). */
export class SessionTables {
  readonly db: DatabaseSync;
  /** The prepared writes and reads, by name. */
  readonly s: Record<string, StatementSync>;
  /** Adds to one usage kind's session total: `(amount, session_id)`. */
  readonly addTotal: Record<UsageKind, StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    migrate(db, "sessions", SESSION_MIGRATIONS);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      touch: p(
        `INSERT INTO sessions (session_id, first_seen, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET
           first_seen = MIN(first_seen, excluded.first_seen),
           last_seen = MAX(last_seen, excluded.last_seen)`,
      ),
      hook: p(
        `UPDATE sessions SET
           source_app = COALESCE(?, source_app, ?),
           priority_events = priority_events + ?,
           regular_events = regular_events + ?
         WHERE session_id = ?`,
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
    this.addTotal = Object.fromEntries(
      Object.entries(TOTAL_COLUMN).map(([kind, column]) => [
        kind,
        p(`UPDATE sessions SET ${column} = ${column} + ? WHERE session_id = ?`),
      ]),
    ) as Record<UsageKind, StatementSync>;
  }

  /** Runs `run` in one `BEGIN IMMEDIATE` transaction. */
  tx<T>(run: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = run();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Deletes dedupe keys older than a day (exporters retry within minutes) and sessions not
   * seen for {@linkcode SESSION_RETENTION_MS}, with their prompts and usage.
   */
  prune(now: number): number {
    this.s.prune.run(now - 86_400_000);
    const cutoff = now - SESSION_RETENTION_MS;
    this.s.pruneUsage.run(cutoff);
    this.s.prunePrompts.run(cutoff);
    return Number(this.s.pruneSessions.run(cutoff).changes);
  }

  /** Sessions, filtered and sorted. */
  list(query: SessionQuery): SessionAggregates[] {
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (query.source_app !== undefined) {
      where.push("source_app = ?");
      values.push(query.source_app);
    }
    if (query.session_ids !== undefined) {
      where.push("session_id IN (SELECT value FROM json_each(?))");
      values.push(JSON.stringify(query.session_ids));
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
    return (this.db.prepare(sql).all(
      ...values,
      query.limit,
    ) as unknown as SessionRow[]).map(summaryOf);
  }

  /** One session's summary; null when unknown. */
  summary(sessionId: string): SessionAggregates | null {
    const row = this.s.get.get(sessionId) as unknown as SessionRow | undefined;
    return row ? summaryOf(row) : null;
  }

  /** One session with its prompts and usage by model; null when unknown. */
  detail(sessionId: string): SessionDetailAggregates | null {
    const summary = this.summary(sessionId);
    if (!summary) return null;
    type PromptRow = Omit<PromptSummary, "tokens"> & {
      input_tokens: number;
      output_tokens: number;
      cache_read_tokens: number;
      cache_creation_tokens: number;
    };
    const rows = this.s.prompts.all(sessionId) as unknown as PromptRow[];
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
      const r of this.s.byModel.all(sessionId) as {
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
