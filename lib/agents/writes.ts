/**
 * The agent sessions' writing transactions: the fold of committed events (once across
 * replicas: only events above the cursor), the sweep for stale sessions and orphaned calls.
 * Each runs in one write transaction and bumps the inbox version when an item changed.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import {
  CHUNK,
  deleteWithChildren,
  notify,
  q,
  rowsIn,
  type Tx,
  upsertRows,
} from "../store/db.ts";
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
import {
  AGENT_RETENTION_MS,
  AGENTS_CHANNEL,
  callRec,
  itemRec,
  sessionRec,
} from "./tables.ts";

/** The cursor, read first by every writing transaction (the write lock serialises them). */
export const READ_CURSOR =
  "SELECT last_event_id, version FROM agent_cursor WHERE id = 1";

const INSERT_ITEM =
  `INSERT INTO inbox_items (key, kind, session_id, source_app, agent,
    tool_use_id, event_id, since, reason, status, snoozed_until, updated_at, version)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?)
  ON CONFLICT (session_id, key) WHERE status <> 'resolved' DO NOTHING
  RETURNING id`;

const RESOLVE_ITEM =
  `UPDATE inbox_items SET status = 'resolved', snoozed_until = NULL,
    updated_at = ?, version = ? WHERE id = ? AND status <> 'resolved'`;

function* writeSessions(sessions: SessionRec[]): Tx<void> {
  yield* upsertRows(
    "agent_sessions",
    [
      "session_id",
      "source_app",
      "agent",
      "state",
      "state_at",
      "state_event_at",
      "last_event_at",
      "patterns",
    ],
    ["session_id"],
    sessions.map((s) => ({ ...s, patterns: JSON.stringify(s.patterns) })),
  );
}

const CALL_COLUMNS = [
  "session_id",
  "agent",
  "tool_use_id",
  "tool_name",
  "input_summary",
  "sig",
  "outcome",
  "started_at",
  "permission_at",
  "ended_at",
  "tool_ms",
  "wait_ms",
  "error",
] as const;

function* writeCalls(calls: CallRec[]): Tx<void> {
  yield* upsertRows(
    "tool_calls",
    CALL_COLUMNS,
    ["session_id", "agent", "tool_use_id"],
    calls,
    // A finished call is never set back to running (its PreToolUse arrived after its outcome).
    "tool_calls.outcome = 'running' OR excluded.outcome <> 'running'",
  );
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

/**
 * Folds committed events above the cursor: one transaction, a few statements per session.
 * `also` runs in the same transaction on the same events, so what it writes (the session
 * aggregates' tallies) counts each event exactly once too.
 */
export function* foldTx(
  events: readonly StoredEvent[],
  config: AgentConfig,
  now: number,
  also?: (events: readonly StoredEvent[]) => Tx<void>,
): Tx<WriteResult> {
  const [cursor] = yield q(READ_CURSOR);
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
  if (also) yield* also(todo);
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
  if (itemsChanged) yield notify(AGENTS_CHANNEL, String(version));
  return { ...result, version, folded: todo.length, cursor: last };
}

/** Moves the cursor past an event the fold cannot store; returns the cursor. */
export function* skipTx(eventId: number): Tx<number> {
  const [cursor] = yield q(READ_CURSOR);
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
  config: AgentConfig,
  now: number,
): Tx<WriteResult> {
  const [cursor] = yield q(READ_CURSOR);
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
  result.pruned = yield* deleteWithChildren(
    "agent_sessions",
    "last_event_at",
    now - AGENT_RETENTION_MS,
    ["tool_calls", "inbox_items"],
  );
  if (itemsChanged) {
    version = nextVersion;
    yield q("UPDATE agent_cursor SET version = ? WHERE id = 1", version);
    yield notify(AGENTS_CHANNEL, String(version));
  }
  return { ...result, version };
}

/** Why an inbox action was refused. */
