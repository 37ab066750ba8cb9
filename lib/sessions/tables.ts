/**
 * The session aggregates' tables in both databases and their reads (list, summary, detail)
 * with the row mapping. It owns no aggregation rule: the tallies (`tally.ts`) and the usage
 * records (`usage_tx.ts`) decide what to write.
 *
 * @module
 */
import type {
  PromptSummary,
  SessionAggregates,
  SessionDetailAggregates,
  Tokens,
} from "../../common/sessions.ts";
import {
  type Db,
  deleteWithChildren,
  type Migrations,
  type Param,
  q,
  type Row,
  rowsIn,
  text,
  type Tx,
} from "../store/db.ts";
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

/** Filters and order for {@linkcode listTx}. */
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

/** The spend columns a session and a prompt both have. */
const spend = (t: { int: string; real: string }) =>
  [
    ...["cost_usd", "input_tokens", "output_tokens", "cache_read_tokens"]
      .map((c) => `${c} ${t.real} NOT NULL DEFAULT 0`),
    `cache_creation_tokens ${t.real} NOT NULL DEFAULT 0`,
    `requests ${t.int} NOT NULL DEFAULT 0`,
    `errors ${t.int} NOT NULL DEFAULT 0`,
  ].join(",\n    ");

/**
 * The tables, for each database. SQLite's first version also had `state`, `state_at` and
 * `models` columns, unused since the state moved to the agent sessions and the models are
 * read from `session_usage`.
 */
const TABLES = (
  t: { int: string; real: string; keyed: string; legacy: boolean },
) => `
  CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    source_app TEXT,
    first_seen ${t.int} NOT NULL,
    last_seen ${t.int} NOT NULL,
    priority_events ${t.int} NOT NULL DEFAULT 0,
    regular_events ${t.int} NOT NULL DEFAULT 0,
    otel_events ${t.int} NOT NULL DEFAULT 0,${
  t.legacy ? `\n    state TEXT,\n    state_at INTEGER,` : ""
}
    ${spend(t)},
    lines_added ${t.real} NOT NULL DEFAULT 0,
    lines_removed ${t.real} NOT NULL DEFAULT 0,
    active_time_s ${t.real} NOT NULL DEFAULT 0${
  t.legacy ? `,\n    models TEXT NOT NULL DEFAULT '[]'` : ""
}
  );
  CREATE INDEX sessions_last_seen ON sessions (last_seen);
  CREATE INDEX sessions_cost ON sessions (cost_usd);
  CREATE TABLE session_usage (
    session_id TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_events ${t.real} NOT NULL DEFAULT 0,
    from_metrics ${t.real} NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, model, kind)
  )${t.keyed};
  CREATE TABLE session_prompts (
    session_id TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    first_seen ${t.int} NOT NULL,
    last_seen ${t.int} NOT NULL,
    ${spend(t)},
    hook_events ${t.int} NOT NULL DEFAULT 0,
    prompt_length ${t.int},
    PRIMARY KEY (session_id, prompt_id)
  )${t.keyed};
  CREATE TABLE otel_seen (
    key TEXT PRIMARY KEY,
    seen_at ${t.int} NOT NULL
  )${t.keyed};
  CREATE INDEX otel_seen_at ON otel_seen (seen_at);
  CREATE TABLE otel_series (
    series TEXT PRIMARY KEY,
    start_nano TEXT NOT NULL,
    time_nano TEXT NOT NULL,
    value ${t.real} NOT NULL
  )${t.keyed};`;

/** The session aggregates' schema. */
export const SESSION_MIGRATIONS: Migrations = {
  sqlite: [
    TABLES({
      int: "INTEGER",
      real: "REAL",
      keyed: " WITHOUT ROWID",
      legacy: true,
    }),
  ],
  postgres: [
    TABLES({
      int: "bigint",
      real: "double precision",
      keyed: "",
      legacy: false,
    }),
  ],
};

/** Column of `sessions` (and `session_prompts`) that holds each usage kind's total. */
export const TOTAL_COLUMN: Readonly<Record<UsageKind, string>> = {
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

/** The later of the stored and the proposed `column` (portable `MAX(a, b)`). */
export function latest(table: string, column: string): string {
  return `CASE WHEN excluded.${column} > ${table}.${column} THEN excluded.${column} ELSE ${table}.${column} END`;
}

/** The earlier of the stored and the proposed `column` (portable `MIN(a, b)`). */
export function earliest(table: string, column: string): string {
  return `CASE WHEN excluded.${column} < ${table}.${column} THEN excluded.${column} ELSE ${table}.${column} END`;
}

/** The head of a `sessions` insert ({@linkcode WIDEN_SESSION} is its tail). */
export const INSERT_SESSION =
  "INSERT INTO sessions (session_id, first_seen, last_seen)";

/** A session row's first and last seen widened to include the proposed ones. */
export const WIDEN_SESSION = `ON CONFLICT (session_id) DO UPDATE SET
     first_seen = ${earliest("sessions", "first_seen")},
     last_seen = ${latest("sessions", "last_seen")}`;

/**
 * Adds to a prompt's counters: `(session_id, prompt_id, first_seen, last_seen, cost_usd, input,
 * output, cache_read, cache_creation, requests, errors, hook_events, prompt_length)`.
 */
export const ADD_TO_PROMPT = `ON CONFLICT (session_id, prompt_id) DO UPDATE SET
     first_seen = ${earliest("session_prompts", "first_seen")},
     last_seen = ${latest("session_prompts", "last_seen")},
     ${
  [
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "requests",
    "errors",
    "hook_events",
  ].map((c) => `${c} = session_prompts.${c} + excluded.${c}`).join(",\n     ")
},
     prompt_length = COALESCE(excluded.prompt_length, session_prompts.prompt_length)`;

/** The head of a `session_prompts` insert ({@linkcode ADD_TO_PROMPT} is its tail). */
export const INSERT_PROMPT =
  `INSERT INTO session_prompts (session_id, prompt_id,
     first_seen, last_seen, cost_usd, input_tokens, output_tokens, cache_read_tokens,
     cache_creation_tokens, requests, errors, hook_events, prompt_length)`;

function tokensOf(row: Row): Tokens {
  return {
    input: Number(row.input_tokens),
    output: Number(row.output_tokens),
    cache_read: Number(row.cache_read_tokens),
    cache_creation: Number(row.cache_creation_tokens),
  };
}

/** Money and time as read: sums of binary fractions drift, cents of a cent nobody reads. */
export function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

function summaryOf(row: Row, models: readonly string[]): SessionAggregates {
  return {
    session_id: String(row.session_id),
    source_app: text(row.source_app),
    first_seen: Number(row.first_seen),
    last_seen: Number(row.last_seen),
    events: {
      priority: Number(row.priority_events),
      regular: Number(row.regular_events),
      otel: Number(row.otel_events),
    },
    cost_usd: round(Number(row.cost_usd)),
    tokens: tokensOf(row),
    requests: Number(row.requests),
    errors: Number(row.errors),
    models: [...models],
    lines_of_code: {
      added: Number(row.lines_added),
      removed: Number(row.lines_removed),
    },
    active_time_s: round(Number(row.active_time_s)),
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

/** The models each of these sessions used (sorted), from its usage rows. */
function* modelsOf(sessionIds: readonly string[]): Tx<Map<string, string[]>> {
  const models = new Map<string, string[]>(sessionIds.map((id) => [id, []]));
  for (
    const r of yield* rowsIn(
      (in_) =>
        `SELECT DISTINCT session_id, model FROM session_usage
         WHERE model <> '' AND session_id IN (${in_})`,
      sessionIds,
    )
  ) models.get(String(r.session_id))?.push(String(r.model));
  for (const list of models.values()) list.sort();
  return models;
}

/** Sessions, filtered and sorted. */
export function* listTx(
  kind: Db["kind"],
  query: SessionQuery,
): Tx<SessionAggregates[]> {
  const where: string[] = [];
  const params: Param[] = [];
  if (query.source_app !== undefined) {
    where.push("source_app = ?");
    params.push(query.source_app);
  }
  if (query.session_ids !== undefined) {
    if (kind === "postgres") {
      where.push("session_id = ANY(?::text[])");
      params.push(query.session_ids);
    } else {
      where.push("session_id IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(query.session_ids));
    }
  }
  if (query.since !== undefined) {
    where.push("last_seen >= ?");
    params.push(query.since);
  }
  if (query.model !== undefined) {
    where.push(
      "EXISTS (SELECT 1 FROM session_usage u WHERE u.session_id = sessions.session_id AND u.model = ?)",
    );
    params.push(query.model);
  }
  const rows = yield q(
    `SELECT * FROM sessions ${
      where.length ? `WHERE ${where.join(" AND ")}` : ""
    } ORDER BY ${SORT_SQL[query.sort]} ${
      query.order === "asc" ? "ASC" : "DESC"
    }, session_id LIMIT ?`,
    ...params,
    query.limit,
  );
  const models = yield* modelsOf(rows.map((r) => String(r.session_id)));
  return rows.map((r) => summaryOf(r, models.get(String(r.session_id)) ?? []));
}

/** One session's summary; null when unknown. */
export function* summaryTx(sessionId: string): Tx<SessionAggregates | null> {
  const [row] = yield q(
    "SELECT * FROM sessions WHERE session_id = ?",
    sessionId,
  );
  if (!row) return null;
  const models = yield* modelsOf([sessionId]);
  return summaryOf(row, models.get(sessionId) ?? []);
}

/** One session with its prompts and usage by model; null when unknown. */
export function* detailTx(
  sessionId: string,
): Tx<SessionDetailAggregates | null> {
  const summary = yield* summaryTx(sessionId);
  if (!summary) return null;
  const prompts: PromptSummary[] = (yield q(
    `SELECT * FROM session_prompts WHERE session_id = ?
     ORDER BY first_seen, prompt_id LIMIT 1000`,
    sessionId,
  )).map((r) => ({
    prompt_id: String(r.prompt_id),
    first_seen: Number(r.first_seen),
    last_seen: Number(r.last_seen),
    cost_usd: round(Number(r.cost_usd)),
    tokens: tokensOf(r),
    requests: Number(r.requests),
    errors: Number(r.errors),
    hook_events: Number(r.hook_events),
    prompt_length: r.prompt_length === null ? null : Number(r.prompt_length),
  }));
  const byModel = new Map<string, { cost_usd: number; tokens: Tokens }>();
  for (
    const r of yield q(
      `SELECT model, kind, CASE WHEN from_events > from_metrics THEN from_events
         ELSE from_metrics END AS amount
       FROM session_usage WHERE session_id = ? AND model <> '' ORDER BY model`,
      sessionId,
    )
  ) {
    const model = String(r.model);
    let entry = byModel.get(model);
    if (!entry) {
      entry = {
        cost_usd: 0,
        tokens: { input: 0, output: 0, cache_read: 0, cache_creation: 0 },
      };
      byModel.set(model, entry);
    }
    const amount = Number(r.amount);
    const kind = r.kind as UsageKind;
    if (kind === "cost") entry.cost_usd = round(amount);
    else if (kind === "input") entry.tokens.input = amount;
    else if (kind === "output") entry.tokens.output = amount;
    else if (kind === "cacheRead") entry.tokens.cache_read = amount;
    else if (kind === "cacheCreation") entry.tokens.cache_creation = amount;
  }
  return {
    ...summary,
    prompts,
    usage_by_model: [...byModel].map(([model, v]) => ({ model, ...v })),
  };
}

/**
 * Deletes dedupe keys older than a day (exporters retry within minutes) and sessions not seen
 * for {@linkcode SESSION_RETENTION_MS}, with their prompts and usage; how many sessions left.
 */
export function* pruneTx(now: number): Tx<number> {
  yield q("DELETE FROM otel_seen WHERE seen_at < ?", now - 86_400_000);
  return yield* deleteWithChildren(
    "sessions",
    "last_seen",
    now - SESSION_RETENTION_MS,
    ["session_usage", "session_prompts"],
  );
}
