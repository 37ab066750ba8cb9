/**
 * Session wire types: what `GET /sessions` serves and `session` stream frames carry, read by the
 * server (lib/sessions/) and by the dashboard (islands, worker) alike.
 *
 * @module
 */

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
