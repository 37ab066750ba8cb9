/**
 * Agent-session wire types: tool calls (`GET /sessions/:id/tools`), a session's activity state
 * and the attention inbox (`GET /inbox`, `inbox` stream frames), read by the server
 * (lib/sessions/agent_*.ts) and by the dashboard alike.
 *
 * @module
 */
import type { AgentName } from "./adapters/names.ts";

/** How a tool call ended, or that it has not. */
export type ToolOutcome = "running" | "ok" | "failed" | "denied" | "orphaned";

/** Every {@linkcode ToolOutcome}, for validation. */
export const TOOL_OUTCOMES: readonly ToolOutcome[] = [
  "running",
  "ok",
  "failed",
  "denied",
  "orphaned",
];

/** One tool call: `PreToolUse` … `PostToolUse` (or failure, denial) paired by `tool_use_id`. */
export interface ToolCall {
  session_id: string;
  /** `agent_id` of the subagent that made the call; null for the main agent. */
  agent_id: string | null;
  tool_use_id: string;
  tool_name: string;
  /** One line of the input (command, file path, pattern …), plain text. */
  input_summary: string;
  outcome: ToolOutcome;
  /** `PreToolUse` time (ms); null when only its outcome was seen. */
  started_at: number | null;
  /** When the permission dialog opened (`PermissionRequest`); null without one. */
  permission_at: number | null;
  /** When its outcome arrived (ms); null while running, or when orphaned without an end. */
  ended_at: number | null;
  /** Time the tool ran: Claude Code's `duration_ms` where given, else measured between hooks. */
  tool_ms: number | null;
  /** Time spent waiting for a permission decision (0 without a dialog). */
  wait_ms: number | null;
  /** The failure's error text, one line. */
  error: string | null;
}

/** Where a session stands. */
export type AgentState =
  | "working"
  | "waiting"
  | "idle"
  | "stopped"
  | "failed"
  | "ended"
  | "stale";

/** Every {@linkcode AgentState}, for validation. */
export const AGENT_STATES: readonly AgentState[] = [
  "working",
  "waiting",
  "idle",
  "stopped",
  "failed",
  "ended",
  "stale",
];

/** A session's activity: its state, since when, and its last hook event. */
export interface SessionActivity {
  session_id: string;
  source_app: string | null;
  /** The coding agent whose session it is. */
  agent: AgentName;
  state: AgentState;
  /** When it entered `state` (ms). */
  state_at: number;
  /** Timestamp of its newest hook event (ms). */
  last_event_at: number;
  /** Claude Code cost counted from `claude_code.api_request` events, USD. */
  cost_usd: number;
}

/** What an inbox item is about. */
export type InboxKind =
  | "permission"
  | "elicitation"
  | "idle"
  | "failure"
  | "failure_streak"
  | "stale"
  | "orphaned"
  | "loop"
  | "dangerous"
  | "budget";

/** Every {@linkcode InboxKind}. */
export const INBOX_KINDS: readonly InboxKind[] = [
  "permission",
  "elicitation",
  "idle",
  "failure",
  "failure_streak",
  "stale",
  "orphaned",
  "loop",
  "dangerous",
  "budget",
];

/** Where an inbox item stands. */
export type InboxStatus = "open" | "acked" | "snoozed" | "resolved";

/** Every {@linkcode InboxStatus}. */
export const INBOX_STATUSES: readonly InboxStatus[] = [
  "open",
  "acked",
  "snoozed",
  "resolved",
];

/** One thing that needs a person, as `GET /inbox` serves it and `inbox` frames carry it. */
export interface InboxItem {
  /** Stable across replicas and restarts: `POST /inbox/:id/…` addresses it. */
  id: number;
  kind: InboxKind;
  session_id: string;
  source_app: string | null;
  agent_id: string | null;
  /** The tool call it is about, where there is one (permission, dangerous, orphaned, loop). */
  tool_use_id: string | null;
  /** Stored id of the event that raised it (e.g. the `PermissionRequest`). */
  event_id: number | null;
  /** When it started needing attention (ms). */
  since: number;
  /** One line of plain text. */
  reason: string;
  /** A snoozed item whose time has come is served as `open`. */
  status: InboxStatus;
  snoozed_until: number | null;
  /** Last change (ms, server clock). */
  updated_at: number;
  /** Who acknowledged or snoozed it (a token's name, a proxy's user, `local`); null if nobody. */
  acted_by: string | null;
  /** A `permission` item whose `PermissionRequest` is held open for a person to decide. */
  awaiting_decision: boolean;
  /** What a person decided on a held `PermissionRequest`, or null. */
  decision: PermissionDecision | null;
}

/** A person's answer to a held `PermissionRequest`. */
export interface PermissionDecision {
  behavior: "allow" | "deny";
  message: string | null;
  /** Who decided: the token's name or the proxy's user (`local` when hookwatch asks nobody). */
  by: string;
  /** When (ms, server clock). */
  at: number;
}
