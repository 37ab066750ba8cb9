/**
 * Agent sessions in the store — tool calls, session activity and the inbox — on SQLite and
 * PostgreSQL alike: one set of SQL (`?` placeholders, numbered for PostgreSQL), written once as
 * generator "transactions" that yield queries and receive rows; a synchronous driver runs them
 * on `node:sqlite` (nothing else can run on the connection meanwhile), an asynchronous one in a
 * PostgreSQL transaction.
 *
 * Exactly once across replicas: `agent_cursor` holds the id of the last event folded and the
 * inbox version. Every writing transaction starts by locking that row, so folds, sweeps, acks
 * and snoozes are serialised across replicas, a replica folds only events above the cursor (the
 * others find nothing to do), and inbox versions commit in order: a replica that has read up
 * to version N has seen every change at or below it.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type postgres from "postgres";
import type { StoredEvent } from "../../common/events.ts";
import type {
  AgentState,
  InboxItem,
  InboxKind,
  InboxStatus,
  SessionActivity,
  ToolCall,
  ToolOutcome,
} from "../../common/agents.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import {
  callKey,
  type CallRec,
  foldSession,
  type ItemRec,
  newWork,
  type Raised,
  type SessionRec,
  toolUseIdOf,
} from "./fold.ts";

/** Sessions not seen for this long are deleted with their tool calls and items (30 days). */
export const AGENT_RETENTION_MS = 30 * 86_400_000;

/** The NOTIFY channel carrying the inbox version after each change (PostgreSQL). */
export const AGENTS_CHANNEL = "hookwatch_agents";

const TABLES = (t: { int: string; real: string; id: string }) => `
  CREATE TABLE agent_sessions (
    session_id TEXT PRIMARY KEY,
    source_app TEXT,
    state TEXT NOT NULL,
    state_at ${t.int} NOT NULL,
    state_event_at ${t.int} NOT NULL,
    last_event_at ${t.int} NOT NULL,
    patterns TEXT NOT NULL
  );
  CREATE INDEX agent_sessions_last ON agent_sessions (last_event_at);
  CREATE TABLE tool_calls (
    session_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    tool_use_id TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    input_summary TEXT NOT NULL,
    sig TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at ${t.int},
    permission_at ${t.int},
    ended_at ${t.int},
    tool_ms ${t.int},
    wait_ms ${t.int},
    error TEXT,
    PRIMARY KEY (session_id, agent, tool_use_id)
  );
  CREATE INDEX tool_calls_session_outcome ON tool_calls (session_id, outcome);
  CREATE INDEX tool_calls_running ON tool_calls (started_at) WHERE outcome = 'running';
  CREATE TABLE inbox_items (
    id ${t.id},
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    session_id TEXT NOT NULL,
    source_app TEXT,
    agent TEXT NOT NULL,
    tool_use_id TEXT,
    event_id ${t.int},
    since ${t.int} NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    snoozed_until ${t.int},
    updated_at ${t.int} NOT NULL,
    version ${t.int} NOT NULL
  );
  CREATE UNIQUE INDEX inbox_unresolved_key ON inbox_items (session_id, key)
    WHERE status <> 'resolved';
  CREATE INDEX inbox_session ON inbox_items (session_id, status);
  CREATE INDEX inbox_version ON inbox_items (version);
  CREATE INDEX inbox_since ON inbox_items (since);
  CREATE INDEX inbox_event ON inbox_items (event_id);
  CREATE TABLE agent_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id ${t.int} NOT NULL,
    version ${t.int} NOT NULL
  );
  INSERT INTO agent_cursor (id, last_event_id, version)
    SELECT 1, COALESCE(MAX(id), 0), 0 FROM events;`;

/**
 * A permission item's decision: `decision` null (no request held), `waiting` (a
 * `/hooks/:app/decide` request holds it), `allow` / `deny` (a person decided) or `expired`
 * (the held request ended undecided).
 */
const DECISION_COLUMNS = (int: string) => `
  ALTER TABLE inbox_items ADD COLUMN decision TEXT;
  ALTER TABLE inbox_items ADD COLUMN decision_message TEXT;
  ALTER TABLE inbox_items ADD COLUMN decided_by TEXT;
  ALTER TABLE inbox_items ADD COLUMN decided_at ${int};`;

/** SQLite schema of the agent tables; append, never edit. */
export const AGENT_MIGRATIONS: readonly string[] = [
  TABLES({
    int: "INTEGER",
    real: "REAL",
    id: "INTEGER PRIMARY KEY AUTOINCREMENT",
  }),
  DECISION_COLUMNS("INTEGER"),
];

/** PostgreSQL schema of the agent tables; append, never edit. */
export const PG_AGENT_MIGRATIONS: readonly string[] = [
  TABLES({
    int: "bigint",
    real: "double precision",
    id: "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
  }),
  DECISION_COLUMNS("bigint"),
];

/** One query of a transaction. */
export interface Query {
  sql: string;
  params: SQLInputValue[];
}

type Row = Record<string, unknown>;

/** A transaction: yields queries, receives each one's rows, returns its result. */
export type Tx<T> = Generator<Query, T, Row[]>;

const q = (sql: string, ...params: SQLInputValue[]): Query => ({
  sql,
  params,
});

/** Runs transactions on one database. */
export interface AgentDb {
  readonly kind: "sqlite" | "postgres";
  /** Runs `tx` in a transaction (all or nothing). */
  write<T>(tx: () => Tx<T>): Promise<T>;
  /** Runs `tx` outside a transaction (reads). */
  read<T>(tx: () => Tx<T>): Promise<T>;
}

/** {@linkcode AgentDb} on a `node:sqlite` connection: each transaction runs synchronously. */
export function sqliteAgentDb(db: DatabaseSync): AgentDb {
  const cache = new Map<string, StatementSync>();
  const run = <T>(gen: Tx<T>): T => {
    let step = gen.next();
    while (!step.done) {
      let statement = cache.get(step.value.sql);
      if (!statement) {
        statement = db.prepare(step.value.sql);
        cache.set(step.value.sql, statement);
      }
      step = gen.next(statement.all(...step.value.params) as Row[]);
    }
    return step.value;
  };
  return {
    kind: "sqlite",
    write(tx) {
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = run(tx());
          db.exec("COMMIT");
          return Promise.resolve(result);
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      } catch (error) {
        return Promise.reject(error);
      }
    },
    read(tx) {
      try {
        return Promise.resolve(run(tx()));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

const numbered = new Map<string, string>();
function pgText(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

/** {@linkcode AgentDb} on PostgreSQL (`npm:postgres`). */
export function postgresAgentDb(sql: postgres.Sql): AgentDb {
  const run = async <T>(
    gen: Tx<T>,
    exec: (query: Query) => Promise<Row[]>,
  ): Promise<T> => {
    let step = gen.next();
    while (!step.done) step = gen.next(await exec(step.value));
    return step.value;
  };
  const execOn =
    (client: postgres.Sql | postgres.TransactionSql) => async (query: Query) =>
      [
        ...await client.unsafe(
          pgText(query.sql),
          // PostgreSQL text cannot hold NUL; SQLite can, and keeps it.
          query.params.map((p) =>
            typeof p === "string" && p.includes("\0")
              ? p.replaceAll("\0", "")
              : p
          ) as postgres.ParameterOrJSON<never>[],
          { prepare: true },
        ),
      ] as Row[];
  return {
    kind: "postgres",
    write: (tx) =>
      sql.begin((client) => run(tx(), execOn(client))) as Promise<never>,
    read: (tx) => run(tx(), execOn(sql)),
  };
}

// ---------------------------------------------------------------- rows

function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function sessionRec(r: Row): SessionRec {
  return {
    session_id: String(r.session_id),
    source_app: r.source_app === null ? null : String(r.source_app),
    state: r.state as AgentState,
    state_at: Number(r.state_at),
    state_event_at: Number(r.state_event_at),
    last_event_at: Number(r.last_event_at),
    patterns: JSON.parse(String(r.patterns)),
  };
}

function callRec(r: Row): CallRec {
  return {
    session_id: String(r.session_id),
    agent: String(r.agent),
    tool_use_id: String(r.tool_use_id),
    tool_name: String(r.tool_name),
    input_summary: String(r.input_summary),
    sig: String(r.sig),
    outcome: r.outcome as ToolOutcome,
    started_at: num(r.started_at),
    permission_at: num(r.permission_at),
    ended_at: num(r.ended_at),
    tool_ms: num(r.tool_ms),
    wait_ms: num(r.wait_ms),
    error: r.error === null ? null : String(r.error),
  };
}

function itemRec(r: Row): ItemRec {
  return {
    id: Number(r.id),
    key: String(r.key),
    kind: r.kind as InboxKind,
    session_id: String(r.session_id),
    source_app: r.source_app === null ? null : String(r.source_app),
    agent: String(r.agent),
    tool_use_id: r.tool_use_id === null ? null : String(r.tool_use_id),
    event_id: num(r.event_id),
    since: Number(r.since),
    reason: String(r.reason),
    status: r.status as InboxStatus,
  };
}

/** A tool call row as served. */
export function toolCallOf(r: Row): ToolCall {
  const { agent, sig: _sig, ...call } = callRec(r);
  return { ...call, agent_id: agent === "" ? null : agent };
}

/** An inbox row as served: a snoozed item whose time has come is `open`. */
export function inboxItemOf(r: Row, now: number): InboxItem {
  const snoozedUntil = num(r.snoozed_until);
  let status = r.status as InboxStatus;
  if (status === "snoozed" && snoozedUntil !== null && snoozedUntil <= now) {
    status = "open";
  }
  return {
    id: Number(r.id),
    kind: r.kind as InboxKind,
    session_id: String(r.session_id),
    source_app: r.source_app === null ? null : String(r.source_app),
    agent_id: r.agent === "" ? null : String(r.agent),
    tool_use_id: r.tool_use_id === null ? null : String(r.tool_use_id),
    event_id: num(r.event_id),
    since: Number(r.since),
    reason: String(r.reason),
    status,
    snoozed_until: status === "snoozed" ? snoozedUntil : null,
    updated_at: Number(r.updated_at),
    ...decisionOf(r),
  };
}

function decisionOf(r: Row): Pick<InboxItem, "awaiting_decision" | "decision"> {
  const d = r.decision;
  return {
    awaiting_decision: d === "waiting" && r.status !== "resolved",
    decision: d === "allow" || d === "deny"
      ? {
        behavior: d,
        message: r.decision_message === null
          ? null
          : String(r.decision_message),
        by: String(r.decided_by),
        at: Number(r.decided_at),
      }
      : null,
  };
}

function activityOf(r: Row): SessionActivity {
  const s = sessionRec(r);
  return {
    session_id: s.session_id,
    source_app: s.source_app,
    state: s.state,
    state_at: s.state_at,
    last_event_at: s.last_event_at,
    cost_usd: Math.round(s.patterns.cost * 1e9) / 1e9,
  };
}

// ---------------------------------------------------------------- writes

const LOCK_CURSOR =
  "UPDATE agent_cursor SET id = id WHERE id = 1 RETURNING last_event_id, version";

const UPSERT_SESSION = `INSERT INTO agent_sessions
    (session_id, source_app, state, state_at, state_event_at, last_event_at, patterns)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (session_id) DO UPDATE SET source_app = excluded.source_app,
    state = excluded.state, state_at = excluded.state_at,
    state_event_at = excluded.state_event_at, last_event_at = excluded.last_event_at,
    patterns = excluded.patterns`;

// A finished call is never set back to running (its PreToolUse arrived after its outcome).
const UPSERT_CALL =
  `INSERT INTO tool_calls (session_id, agent, tool_use_id, tool_name,
    input_summary, sig, outcome, started_at, permission_at, ended_at, tool_ms, wait_ms, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (session_id, agent, tool_use_id) DO UPDATE SET
    tool_name = excluded.tool_name, input_summary = excluded.input_summary,
    sig = excluded.sig, outcome = excluded.outcome, started_at = excluded.started_at,
    permission_at = excluded.permission_at, ended_at = excluded.ended_at,
    tool_ms = excluded.tool_ms, wait_ms = excluded.wait_ms, error = excluded.error
  WHERE tool_calls.outcome = 'running' OR excluded.outcome <> 'running'`;

const INSERT_ITEM =
  `INSERT INTO inbox_items (key, kind, session_id, source_app, agent,
    tool_use_id, event_id, since, reason, status, snoozed_until, updated_at, version)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?)
  ON CONFLICT (session_id, key) WHERE status <> 'resolved' DO NOTHING
  RETURNING id`;

const RESOLVE_ITEM =
  `UPDATE inbox_items SET status = 'resolved', snoozed_until = NULL,
    updated_at = ?, version = ? WHERE id = ? AND status <> 'resolved'`;

/** Rows per multi-row statement (13 parameters a row stays far below both databases' limits). */
const CHUNK = 200;

/** `INSERT … VALUES (…), (…) …` for `rows`, `width` placeholders a row, in chunks. */
function* insertRows(
  head: string,
  tail: string,
  width: number,
  rows: SQLInputValue[][],
): Tx<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const one = `(${new Array(width).fill("?").join(", ")})`;
    yield q(
      `${head} VALUES ${chunk.map(() => one).join(", ")} ${tail}`,
      ...chunk.flat(),
    );
  }
}

function* writeSessions(sessions: SessionRec[]): Tx<void> {
  const [head, tail] = UPSERT_SESSION.split(" VALUES (?, ?, ?, ?, ?, ?, ?)");
  yield* insertRows(
    head,
    tail,
    7,
    sessions.map((s) => [
      s.session_id,
      s.source_app,
      s.state,
      s.state_at,
      s.state_event_at,
      s.last_event_at,
      JSON.stringify(s.patterns),
    ]),
  );
}

function* writeCalls(calls: CallRec[]): Tx<void> {
  const [head, tail] = UPSERT_CALL.split(
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  yield* insertRows(
    head,
    tail,
    13,
    calls.map((c) => [
      c.session_id,
      c.agent,
      c.tool_use_id,
      c.tool_name,
      c.input_summary,
      c.sig,
      c.outcome,
      c.started_at,
      c.permission_at,
      c.ended_at,
      c.tool_ms,
      c.wait_ms,
      c.error,
    ]),
  );
}

/** Rows of `table` whose `column` is one of `values` (and `extra`), in chunks. */
function* rowsIn(
  sql: (placeholders: string) => string,
  values: string[],
): Tx<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    out.push(...yield q(sql(chunk.map(() => "?").join(", ")), ...chunk));
  }
  return out;
}

function* insertItem(i: ItemRec, now: number, version: number): Tx<void> {
  yield q(
    INSERT_ITEM,
    i.key,
    i.kind,
    i.session_id,
    i.source_app,
    i.agent,
    i.tool_use_id,
    i.event_id,
    i.since,
    i.reason,
    now,
    version,
  );
}

/** What one fold, sweep or inbox action did. */
export interface WriteResult {
  /** Inbox version after it (unchanged when no item changed). */
  version: number;
  raised: Raised[];
  failures: number;
  /** Tool calls newly orphaned by a sweep. */
  orphaned: number;
  /** Sessions newly stale. */
  stale: number;
  /** Sessions deleted for age (sweeps). */
  pruned?: number;
  /** Events folded (0 when another replica had folded them). */
  folded: number;
  /** Highest event id folded so far. */
  cursor: number;
}

function* notify(db: AgentDb["kind"], version: number): Tx<void> {
  if (db === "postgres") {
    yield q(`SELECT pg_notify('${AGENTS_CHANNEL}', ?)`, String(version));
  }
}

/**
 * Folds committed events above the cursor: one transaction, a few statements per session.
 */
export function* foldTx(
  kind: AgentDb["kind"],
  events: readonly StoredEvent[],
  config: AgentConfig,
  now: number,
): Tx<WriteResult> {
  const [cursor] = yield q(LOCK_CURSOR);
  const from = Number(cursor.last_event_id);
  let version = Number(cursor.version);
  const result: WriteResult = {
    version,
    raised: [],
    failures: 0,
    orphaned: 0,
    stale: 0,
    folded: 0,
    cursor: from,
  };
  const todo = events.filter((e) => e.id > from);
  if (todo.length === 0) return result;
  const bySession = new Map<string, StoredEvent[]>();
  for (const e of todo) {
    const list = bySession.get(e.session_id);
    if (list) list.push(e);
    else bySession.set(e.session_id, [e]);
  }
  const ids = [...bySession.keys()];
  // Loaded for every session of the batch at once: a few statements per batch, not per event.
  const sessions = new Map(
    (yield* rowsIn(
      (in_) => `SELECT * FROM agent_sessions WHERE session_id IN (${in_})`,
      ids,
    )).map((r) => [String(r.session_id), sessionRec(r)]),
  );
  const calls = new Map<string, CallRec[]>(ids.map((id) => [id, []]));
  const known = new Set<string>();
  const addCall = (c: CallRec) => {
    const key = `${c.session_id}\n${callKey(c.agent, c.tool_use_id)}`;
    if (known.has(key)) return;
    known.add(key);
    calls.get(c.session_id)?.push(c);
  };
  for (
    const r of yield* rowsIn(
      (in_) =>
        `SELECT * FROM tool_calls WHERE session_id IN (${in_}) AND outcome = 'running'`,
      ids,
    )
  ) addCall(callRec(r));
  // Calls an outcome names that are neither running nor started in this batch.
  const started = new Set<string>();
  const missing: [string, string, string][] = [];
  for (const e of todo) {
    const id = toolUseIdOf(e);
    if (id === null) continue;
    const key = `${e.session_id}\n${callKey(e.agent_id ?? "", id)}`;
    if (e.hook_event_type === "PreToolUse") started.add(key);
    else if (!started.has(key) && !known.has(key)) {
      started.add(key);
      missing.push([e.session_id, e.agent_id ?? "", id]);
    }
  }
  for (let i = 0; i < missing.length; i += CHUNK) {
    const chunk = missing.slice(i, i + CHUNK);
    const rows = yield q(
      `SELECT * FROM tool_calls WHERE ${
        chunk.map(() => "(session_id = ? AND agent = ? AND tool_use_id = ?)")
          .join(" OR ")
      }`,
      ...chunk.flat(),
    );
    for (const r of rows) addCall(callRec(r));
  }
  const items = new Map<string, ItemRec[]>(ids.map((id) => [id, []]));
  for (
    const r of yield* rowsIn(
      (in_) =>
        `SELECT * FROM inbox_items WHERE session_id IN (${in_}) AND status <> 'resolved'`,
      ids,
    )
  ) items.get(String(r.session_id))?.push(itemRec(r));

  const nextVersion = version + 1;
  let itemsChanged = false;
  const dirtySessions: SessionRec[] = [];
  const dirtyCalls: CallRec[] = [];
  const newItems: ItemRec[] = [];
  const resolved: ItemRec[] = [];
  const paired: ItemRec[] = [];
  for (const [sessionId, list] of bySession) {
    const work = newWork(
      sessions.get(sessionId) ?? null,
      calls.get(sessionId)!,
      items.get(sessionId)!,
    );
    foldSession(work, list, config);
    if (work.sessionDirty && work.session) dirtySessions.push(work.session);
    dirtyCalls.push(...work.dirtyCalls);
    newItems.push(...work.newItems);
    resolved.push(...work.resolved);
    paired.push(...work.paired);
    result.raised.push(...work.raised);
    result.failures += work.failures;
  }
  yield* writeSessions(dirtySessions);
  yield* writeCalls(dirtyCalls);
  for (const i of newItems) yield* insertItem(i, now, nextVersion);
  for (const i of resolved) yield q(RESOLVE_ITEM, now, nextVersion, i.id);
  for (const i of paired) {
    yield q(
      "UPDATE inbox_items SET tool_use_id = ?, updated_at = ?, version = ? WHERE id = ?",
      i.tool_use_id,
      now,
      nextVersion,
      i.id,
    );
  }
  itemsChanged = newItems.length > 0 || resolved.length > 0 ||
    paired.length > 0;
  const last = todo[todo.length - 1].id;
  if (itemsChanged) version = nextVersion;
  yield q(
    "UPDATE agent_cursor SET last_event_id = ?, version = ? WHERE id = 1",
    last,
    version,
  );
  if (itemsChanged) yield* notify(kind, version);
  return { ...result, version, folded: todo.length, cursor: last };
}

/** Moves the cursor past an event the fold cannot store; returns the cursor. */
export function* skipTx(eventId: number): Tx<number> {
  const [cursor] = yield q(LOCK_CURSOR);
  const at = Math.max(Number(cursor.last_event_id), eventId);
  yield q("UPDATE agent_cursor SET last_event_id = ? WHERE id = 1", at);
  return at;
}

/**
 * Marks sessions silent for `staleAfterMs` (without `SessionEnd`) `stale` and running tool
 * calls older than `orphanAfterMs` (not waiting on a permission) `orphaned`, raising inbox
 * items for a session that went silent while working or waiting and for each orphaned call.
 * Times are derived from the data, so every replica's sweep writes the same thing, once.
 */
export function* sweepTx(
  kind: AgentDb["kind"],
  config: AgentConfig,
  now: number,
): Tx<WriteResult> {
  const [cursor] = yield q(LOCK_CURSOR);
  let version = Number(cursor.version);
  const nextVersion = version + 1;
  const result: WriteResult = {
    version,
    raised: [],
    failures: 0,
    orphaned: 0,
    stale: 0,
    folded: 0,
    cursor: Number(cursor.last_event_id),
  };
  let itemsChanged = false;
  const stale = (yield q(
    `SELECT * FROM agent_sessions WHERE last_event_at < ? AND last_event_at >= ?
       AND state <> 'ended' AND state <> 'stale' LIMIT 1000`,
    now - config.staleAfterMs,
    now - AGENT_RETENTION_MS,
  )).map(sessionRec);
  for (const s of stale) {
    const was = s.state;
    const at = s.last_event_at + config.staleAfterMs;
    yield q(
      "UPDATE agent_sessions SET state = 'stale', state_at = ? WHERE session_id = ?",
      at,
      s.session_id,
    );
    result.stale++;
    if (was === "working" || was === "waiting") {
      const rows = yield q(
        INSERT_ITEM,
        "stale",
        "stale",
        s.session_id,
        s.source_app,
        "",
        null,
        null,
        at,
        `no event for ${
          Math.round(config.staleAfterMs / 60_000)
        } min while ${was}`,
        now,
        nextVersion,
      );
      if (rows.length > 0) {
        itemsChanged = true;
        result.raised.push({ kind: "stale" });
      }
    }
  }
  const orphans = yield q(
    `SELECT c.*, s.source_app AS app FROM tool_calls c
       LEFT JOIN agent_sessions s ON s.session_id = c.session_id
     WHERE c.outcome = 'running' AND c.started_at < ? AND c.started_at >= ?
       AND c.permission_at IS NULL
     ORDER BY c.started_at LIMIT 1000`,
    now - config.orphanAfterMs,
    now - AGENT_RETENTION_MS,
  );
  for (const row of orphans) {
    const c = callRec(row);
    yield q(
      `UPDATE tool_calls SET outcome = 'orphaned'
       WHERE session_id = ? AND agent = ? AND tool_use_id = ? AND outcome = 'running'`,
      c.session_id,
      c.agent,
      c.tool_use_id,
    );
    result.orphaned++;
    const rows = yield q(
      INSERT_ITEM,
      `orphaned\n${c.agent}\n${c.tool_use_id}`,
      "orphaned",
      c.session_id,
      row.app === null || row.app === undefined ? null : String(row.app),
      c.agent,
      c.tool_use_id,
      null,
      (c.started_at ?? now) + config.orphanAfterMs,
      `${c.tool_name} has had no result for ${
        Math.round(config.orphanAfterMs / 60_000)
      } min: ${c.input_summary}`,
      now,
      nextVersion,
    );
    if (rows.length > 0) {
      itemsChanged = true;
      result.raised.push({ kind: "orphaned" });
    }
  }
  // Sessions not seen for AGENT_RETENTION_MS leave with their calls and items.
  const cutoff = now - AGENT_RETENTION_MS;
  for (const table of ["tool_calls", "inbox_items"]) {
    yield q(
      `DELETE FROM ${table} WHERE session_id IN
         (SELECT session_id FROM agent_sessions WHERE last_event_at < ?)`,
      cutoff,
    );
  }
  result.pruned = (yield q(
    "DELETE FROM agent_sessions WHERE last_event_at < ? RETURNING session_id",
    cutoff,
  )).length;
  if (itemsChanged) {
    version = nextVersion;
    yield q("UPDATE agent_cursor SET version = ? WHERE id = 1", version);
    yield* notify(kind, version);
  }
  return { ...result, version };
}

/** Why an inbox action was refused. */
export type ActionRefusal = "not_found" | "resolved";

/**
 * Acknowledges (`until` null) or snoozes an unresolved item; returns the item after it, or
 * why not.
 */
export function* actTx(
  kind: AgentDb["kind"],
  id: number,
  action: "ack" | "snooze",
  until: number | null,
  now: number,
): Tx<InboxItem | ActionRefusal> {
  return yield* changeItem(kind, id, now, "resolved", (version) =>
    q(
      `UPDATE inbox_items SET status = ?, snoozed_until = ?, updated_at = ?, version = ?
       WHERE id = ? AND status <> 'resolved' RETURNING *`,
      action === "ack" ? "acked" : "snoozed",
      action === "ack" ? null : until,
      now,
      version,
      id,
    ));
}

/**
 * One change to an inbox item, at most once across replicas: the next inbox version under the
 * cursor lock, `update` (an `UPDATE … RETURNING *` that sets it), then the cursor's version and
 * a notice to the replicas. The item after it, or `refused` (it exists but `update` matched
 * nothing) or `not_found`.
 */
function* changeItem<R extends string>(
  kind: AgentDb["kind"],
  id: number,
  now: number,
  refused: R,
  update: (version: number) => Query,
): Tx<InboxItem | R | "not_found"> {
  const [cursor] = yield q(LOCK_CURSOR);
  const version = Number(cursor.version) + 1;
  const [row] = yield update(version);
  if (!row) {
    const [existing] = yield q("SELECT id FROM inbox_items WHERE id = ?", id);
    return existing ? refused : "not_found";
  }
  yield q("UPDATE agent_cursor SET version = ? WHERE id = 1", version);
  yield* notify(kind, version);
  return inboxItemOf(row, now);
}

/** Why a decision was refused: no such item, or it is not waiting for one (any more). */
export type DecisionRefusal = "not_found" | "not_waiting";

/**
 * Moves a permission item's `decision` from one state to the next, at most once: `hold`
 * (null → waiting, by the request that will answer), `allow` / `deny` (waiting → decided and
 * resolved, by a person) or `expire` (waiting → expired, by the request giving up). Returns the
 * item after it, or why not.
 */
export function* decideTx(
  kind: AgentDb["kind"],
  id: number,
  change:
    | { to: "hold" }
    | { to: "expire" }
    | { to: "allow" | "deny"; message: string | null; by: string },
  now: number,
): Tx<InboxItem | DecisionRefusal> {
  return yield* changeItem(kind, id, now, "not_waiting", (version) => {
    if (change.to === "hold") {
      return q(
        `UPDATE inbox_items SET decision = 'waiting', updated_at = ?, version = ?
         WHERE id = ? AND kind = 'permission' AND status <> 'resolved'
           AND decision IS NULL RETURNING *`,
        now,
        version,
        id,
      );
    }
    if (change.to === "expire") {
      return q(
        `UPDATE inbox_items SET decision = 'expired', updated_at = ?, version = ?
         WHERE id = ? AND decision = 'waiting' RETURNING *`,
        now,
        version,
        id,
      );
    }
    return q(
      `UPDATE inbox_items SET decision = ?, decision_message = ?, decided_by = ?,
         decided_at = ?, status = 'resolved', updated_at = ?, version = ?
       WHERE id = ? AND kind = 'permission' AND status <> 'resolved'
         AND decision = 'waiting' RETURNING *`,
      change.to,
      change.message,
      change.by,
      now,
      now,
      version,
      id,
    );
  });
}

// ---------------------------------------------------------------- reads

/** Filters of {@linkcode toolsTx}. */
export interface ToolQuery {
  agent_id?: string | null;
  outcome?: ToolOutcome;
  tool?: string;
  limit: number;
}

/** A session's tool calls, oldest first. */
export function* toolsTx(sessionId: string, query: ToolQuery): Tx<ToolCall[]> {
  const where = ["session_id = ?"];
  const params: SQLInputValue[] = [sessionId];
  if (query.agent_id !== undefined) {
    where.push("agent = ?");
    params.push(query.agent_id ?? "");
  }
  if (query.outcome !== undefined) {
    where.push("outcome = ?");
    params.push(query.outcome);
  }
  if (query.tool !== undefined) {
    where.push("tool_name = ?");
    params.push(query.tool);
  }
  const rows = yield q(
    `SELECT * FROM tool_calls WHERE ${where.join(" AND ")}
     ORDER BY COALESCE(started_at, ended_at), tool_use_id LIMIT ?`,
    ...params,
    query.limit,
  );
  return rows.map(toolCallOf);
}

/** One session's activity, or null. */
export function* activityTx(sessionId: string): Tx<SessionActivity | null> {
  const [row] = yield q(
    "SELECT * FROM agent_sessions WHERE session_id = ?",
    sessionId,
  );
  return row ? activityOf(row) : null;
}

/** The activities of these sessions (those it has), in no order. */
export function* activitiesOfTx(
  sessionIds: readonly string[],
): Tx<SessionActivity[]> {
  return (yield* rowsIn(
    (in_) => `SELECT * FROM agent_sessions WHERE session_id IN (${in_})`,
    [...sessionIds],
  )).map(activityOf);
}

/** The ids of every session in `state`. */
export function* sessionIdsInTx(state: AgentState): Tx<string[]> {
  return (yield q(
    "SELECT session_id FROM agent_sessions WHERE state = ?",
    state,
  )).map((r) => String(r.session_id));
}

/** Activities of recently active sessions, newest first. */
export function* activitiesTx(limit: number): Tx<SessionActivity[]> {
  return (yield q(
    "SELECT * FROM agent_sessions ORDER BY last_event_at DESC LIMIT ?",
    limit,
  )).map(activityOf);
}

/** Filters of {@linkcode inboxTx}. */
export interface InboxQuery {
  /** `active`: open, and snoozed until now (the default); `all`: every status. */
  status: "active" | "all" | InboxStatus;
  kind?: InboxKind;
  session_id?: string;
  limit: number;
}

/** Inbox items, newest first. */
export function* inboxTx(query: InboxQuery, now: number): Tx<InboxItem[]> {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (query.status === "active" || query.status === "open") {
    where.push(
      "(status = 'open' OR (status = 'snoozed' AND snoozed_until <= ?))",
    );
    params.push(now);
  } else if (query.status === "snoozed") {
    where.push("status = 'snoozed' AND snoozed_until > ?");
    params.push(now);
  } else if (query.status !== "all") {
    where.push("status = ?");
    params.push(query.status);
  }
  if (query.kind !== undefined) {
    where.push("kind = ?");
    params.push(query.kind);
  }
  if (query.session_id !== undefined) {
    where.push("session_id = ?");
    params.push(query.session_id);
  }
  const rows = yield q(
    `SELECT * FROM inbox_items ${
      where.length ? `WHERE ${where.join(" AND ")}` : ""
    } ORDER BY since DESC, id DESC LIMIT ?`,
    ...params,
    query.limit,
  );
  return rows.map((r) => inboxItemOf(r, now));
}

/** One item, or null. */
export function* itemTx(id: number, now: number): Tx<InboxItem | null> {
  const [row] = yield q("SELECT * FROM inbox_items WHERE id = ?", id);
  return row ? inboxItemOf(row, now) : null;
}

/**
 * The unresolved permission item of a tool call (for answering a held `PermissionRequest`),
 * or null.
 */
export function* permissionItemTx(
  sessionId: string,
  agentId: string | null,
  toolUseId: string,
  now: number,
): Tx<InboxItem | null> {
  const [row] = yield q(
    `SELECT * FROM inbox_items WHERE session_id = ? AND agent = ? AND tool_use_id = ?
       AND kind = 'permission' AND status <> 'resolved' ORDER BY id DESC LIMIT 1`,
    sessionId,
    agentId ?? "",
    toolUseId,
  );
  return row ? inboxItemOf(row, now) : null;
}

/** The items an event raised (e.g. the `permission` item of a `PermissionRequest`). */
export function* itemsOfEventTx(eventId: number, now: number): Tx<InboxItem[]> {
  return (yield q(
    "SELECT * FROM inbox_items WHERE event_id = ? ORDER BY id",
    eventId,
  )).map((r) => inboxItemOf(r, now));
}

/** Items changed after `version`, in version order, and the newest version. */
export function* changesTx(
  after: number,
  now: number,
): Tx<{ items: InboxItem[]; version: number }> {
  const rows = yield q(
    "SELECT * FROM inbox_items WHERE version > ? ORDER BY version, id LIMIT 5000",
    after,
  );
  const items = rows.map((r) => inboxItemOf(r, now));
  const version = rows.length > 0
    ? Number(rows[rows.length - 1].version)
    : after;
  return { items, version };
}

/** The cursor: last folded event id and inbox version. */
export function* cursorTx(): Tx<{ lastEventId: number; version: number }> {
  const [row] = yield q(
    "SELECT last_event_id, version FROM agent_cursor WHERE id = 1",
  );
  return {
    lastEventId: Number(row.last_event_id),
    version: Number(row.version),
  };
}
