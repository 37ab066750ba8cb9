/**
 * Session wire types: what `GET /sessions` serves and `session` stream frames carry, read by the
 * server (lib/sessions/) and by the dashboard (islands, worker) alike.
 *
 * @module
 */

import type { AgentState } from "./agents.ts";
import type { AgentName } from "./adapters/names.ts";

/** Tokens by kind, as served. */
export interface Tokens {
  input: number;
  output: number;
  cache_read: number;
  cache_creation: number;
}

/**
 * One session as `GET /sessions` serves it and the `session` stream frame carries it: the
 * session aggregates (`lib/sessions/sessions.ts`) with the session's one state, the agent
 * sessions' (`GET /sessions/:id/activity`).
 */
export interface SessionSummary {
  session_id: string;
  source_app: string | null;
  first_seen: number;
  last_seen: number;
  events: { priority: number; regular: number; otel: number };
  /** The coding agent whose session it is; null for one not folded yet (telemetry only). */
  agent: AgentName | null;
  /** Null only for a session the agent sessions have not folded yet. */
  state: AgentState | null;
  /** When it entered `state` (ms). */
  state_at: number | null;
  /** Timestamp of its newest event as the agent sessions folded it (ms); null like `state`. */
  last_event_at: number | null;
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

/** What the session aggregates hold of a summary: all but the state and the agent. */
export type SessionAggregates = Omit<
  SessionSummary,
  "agent" | "state" | "state_at" | "last_event_at"
>;

/** What the session aggregates hold of a detail: all but the state and the agent. */
export type SessionDetailAggregates = Omit<
  SessionDetail,
  "agent" | "state" | "state_at" | "last_event_at"
>;
