/**
 * What the session aggregates take in from any agent's telemetry: records of model requests
 * (cost and tokens) and metric points of usage, already read from the wire by `lib/telemetry/`.
 *
 * @module
 */

/** Tokens by kind. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

/** The token kinds, as `claude_code.token.usage` names them in its `type` attribute. */
export const TOKEN_KINDS = [
  "input",
  "output",
  "cacheRead",
  "cacheCreation",
] as const;

/** What a usage point measures. */
export type UsageKind =
  | "cost"
  | (typeof TOKEN_KINDS)[number]
  | "lines_added"
  | "lines_removed"
  | "active_time";

/** One Claude Code metric point that feeds session aggregates. */
export interface UsagePoint {
  sessionId: string;
  kind: UsageKind;
  /** The model for cost and tokens; "" otherwise. */
  model: string;
  temporality: "delta" | "cumulative";
  /** Identity of the series (metric name + every attribute + resource). */
  series: string;
  startTimeUnixNano: string;
  timeUnixNano: string;
  value: number;
}

/** One telemetry record that feeds a session's aggregates. */
export interface UsageRecord {
  /** Short name: `api_request` and `api_error` count; `user_prompt` gives a prompt's length. */
  name: string;
  sessionId: string;
  promptId: string | null;
  /** Milliseconds since the epoch. */
  time: number;
  model: string | null;
  costUsd: number;
  tokens: TokenCounts;
  /** The record's attributes as sent (`prompt_length` is read). */
  attributes: Readonly<Record<string, unknown>>;
  /** Stable id of this record: a retried export yields the same key. */
  key: string;
}

/** Milliseconds of an OTLP time in nanoseconds (a decimal string); 0 when absent. */
export function millisFromNanos(nanos: string): number {
  // Nanoseconds overflow a double's exact range; milliseconds do not.
  return nanos.length > 6 ? Number(nanos.slice(0, -6)) : 0;
}

/** Milliseconds of a point's time (for "last seen"). */
export function pointTime(point: UsagePoint, now: number): number {
  return millisFromNanos(point.timeUnixNano) || now;
}
