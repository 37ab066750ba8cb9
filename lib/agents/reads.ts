/**
 * The agent sessions' reads: a session's tool calls and activity, the inbox, an item, the
 * changes since an inbox version, the cursor.
 *
 * @module
 */
import type {
  AgentState,
  InboxItem,
  InboxKind,
  InboxStatus,
  SessionActivity,
  ToolCall,
  ToolOutcome,
} from "../../common/agents.ts";
import { type Param, q, rowsIn, type Tx } from "../store/db.ts";
import type { AgentName } from "../../common/adapters/names.ts";
import { activityOf, inboxItemOf, toolCallOf } from "./tables.ts";

/** Filters of {@linkcode toolsTx}. */
export interface ToolQuery {
  agent_id?: string | null;
  outcome?: ToolOutcome;
  tool?: string;
  limit: number;
  /** The newest `limit` calls rather than the oldest (still served oldest first). */
  newest?: boolean;
}

/** A session's tool calls, oldest first. */
export function* toolsTx(sessionId: string, query: ToolQuery): Tx<ToolCall[]> {
  const where = ["session_id = ?"];
  const params: Param[] = [sessionId];
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
  const order = query.newest ? "DESC" : "ASC";
  const rows = yield q(
    `SELECT * FROM tool_calls WHERE ${where.join(" AND ")}
     ORDER BY COALESCE(started_at, ended_at) ${order}, tool_use_id ${order}
     LIMIT ?`,
    ...params,
    query.limit,
  );
  const calls = rows.map(toolCallOf);
  return query.newest ? calls.reverse() : calls;
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

/** Which sessions {@linkcode sessionIdsInTx} picks: those in a state, of an agent, or both. */
export interface SessionPick {
  state?: AgentState;
  agent?: AgentName;
}

/** The ids of every session the pick names (in `state`, of `agent`). */
export function* sessionIdsInTx(pick: SessionPick): Tx<string[]> {
  const where: string[] = [];
  const params: Param[] = [];
  for (const column of ["state", "agent"] as const) {
    if (pick[column] === undefined) continue;
    where.push(`${column} = ?`);
    params.push(pick[column]);
  }
  return (yield q(
    `SELECT session_id FROM agent_sessions${
      where.length ? ` WHERE ${where.join(" AND ")}` : ""
    }`,
    ...params,
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
  const params: Param[] = [];
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
