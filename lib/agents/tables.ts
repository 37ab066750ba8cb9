/**
 * The agent-session tables of both databases — `agent_sessions`, `tool_calls`, `inbox_items`,
 * `agent_cursor` — and how their rows read back: as the fold keeps them (`SessionRec`,
 * `CallRec`, `ItemRec`) and as they are served (`ToolCall`, `InboxItem`, `SessionActivity`).
 *
 * `agent_cursor` holds the id of the last event folded and the inbox version: a replica folds
 * only events above it (the others find nothing to do), and inbox versions commit in order, so
 * a replica that has read up to version N has seen every change at or below it.
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
import { type Migrations, num, type Row, text } from "../store/db.ts";
import { DEFAULT_AGENT, isAgentName } from "../../common/adapters/names.ts";
import type { CallRec, ItemRec, SessionRec } from "./fold.ts";

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

/** Who acknowledged or snoozed an item (a token's name, a proxy's user, or `local`). */
const ACTED_BY = "ALTER TABLE inbox_items ADD COLUMN acted_by TEXT;";

/** Which coding agent a session is (every older session was Claude Code's). */
const AGENT_COLUMN = `
  ALTER TABLE agent_sessions ADD COLUMN agent TEXT NOT NULL DEFAULT '${DEFAULT_AGENT}';
  CREATE INDEX agent_sessions_agent ON agent_sessions (agent, last_event_at);`;

/** The agent tables' schema. */
export const AGENT_MIGRATIONS: Migrations = {
  sqlite: [
    TABLES({
      int: "INTEGER",
      real: "REAL",
      id: "INTEGER PRIMARY KEY AUTOINCREMENT",
    }),
    DECISION_COLUMNS("INTEGER"),
    ACTED_BY,
    AGENT_COLUMN,
  ],
  postgres: [
    TABLES({
      int: "bigint",
      real: "double precision",
      id: "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    }),
    DECISION_COLUMNS("bigint"),
    ACTED_BY,
    AGENT_COLUMN,
  ],
};

/** An `agent_sessions` row as the fold keeps it. */
export function sessionRec(r: Row): SessionRec {
  return {
    session_id: String(r.session_id),
    source_app: text(r.source_app),
    agent: isAgentName(r.agent) ? r.agent : DEFAULT_AGENT,
    state: r.state as AgentState,
    state_at: Number(r.state_at),
    state_event_at: Number(r.state_event_at),
    last_event_at: Number(r.last_event_at),
    patterns: JSON.parse(String(r.patterns)),
  };
}

/** A `tool_calls` row as the fold keeps it. */
export function callRec(r: Row): CallRec {
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
    error: text(r.error),
  };
}

/** An unresolved `inbox_items` row as the fold keeps it. */
export function itemRec(r: Row): ItemRec {
  return {
    id: Number(r.id),
    key: String(r.key),
    kind: r.kind as InboxKind,
    session_id: String(r.session_id),
    source_app: text(r.source_app),
    agent: String(r.agent),
    tool_use_id: text(r.tool_use_id),
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
    source_app: text(r.source_app),
    agent_id: r.agent === "" ? null : String(r.agent),
    tool_use_id: text(r.tool_use_id),
    event_id: num(r.event_id),
    since: Number(r.since),
    reason: String(r.reason),
    status,
    snoozed_until: status === "snoozed" ? snoozedUntil : null,
    updated_at: Number(r.updated_at),
    acted_by: text(r.acted_by),
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

/** An `agent_sessions` row as served. */
export function activityOf(r: Row): SessionActivity {
  const s = sessionRec(r);
  return {
    session_id: s.session_id,
    source_app: s.source_app,
    agent: s.agent,
    state: s.state,
    state_at: s.state_at,
    last_event_at: s.last_event_at,
    cost_usd: Math.round(s.patterns.cost * 1e9) / 1e9,
  };
}
