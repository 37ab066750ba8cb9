/**
 * Usage records from Codex, Gemini CLI and Copilot CLI telemetry: one agent's reading each, of
 * what it really sends (measured: `tests/fixtures/agents/FINDINGS.md`), into the session
 * aggregates' inputs (`lib/sessions/usage.ts`), joined to the session its hooks report.
 *
 * - **Codex** (logs): each model request's `codex.sse_event` with `event.kind:
 *   response.completed` carries its tokens (`input_token_count` counting the cached ones,
 *   `cached_token_count`, `output_token_count`, `cache_write_token_count`), `model` and the
 *   session as `conversation.id`. No cost. Its metrics carry no session: not read.
 * - **Gemini CLI** (logs): each `gemini_cli.api_response` (the model router's and the main
 *   model's calls) carries `input_token_count` (the cached ones included),
 *   `cached_content_token_count`, `output_token_count`, `thoughts_token_count` and `model`, with
 *   `session.id`. No cost. Its token metric repeats the same counts: not read.
 * - **Copilot CLI** (traces): each `chat` span carries `gen_ai.usage.input_tokens` (the cached
 *   ones included), `gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.output_tokens` and
 *   the session as `gen_ai.conversation.id`. Its `github.copilot.cost` counts premium requests,
 *   not dollars: not read as cost. Its metrics carry no session: not read.
 *
 * Tokens are counted as Claude Code's are: input without the cached part, cache reads apart,
 * output with the model's thinking.
 *
 * @module
 */
import type {
  Attributes,
  AttrValue,
  OtlpDataPoint,
  OtlpLogRecord,
  OtlpSpan,
} from "./otlp.ts";
import { millisFromNanos, type UsageRecord } from "../sessions/usage.ts";
import { keyOf } from "./claude_telemetry.ts";

/** What one reader makes of a record: a usage record, nothing to take (null), or why not. */
export type Reading = UsageRecord | { reason: string } | null;

function str(value: AttrValue | undefined): string | null {
  if (typeof value === "string" && value.length > 0) return value.slice(0, 256);
  return null;
}

/** A non-negative count from a number or a numeric string; 0 when absent or unreadable. */
function count(value: AttrValue | undefined): number {
  const n = typeof value === "number" ? value : Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The record's time: its own, else its `event.timestamp`, else `now`. */
function timeOf(record: OtlpLogRecord, now: number): number {
  const time = millisFromNanos(record.timeUnixNano);
  if (time > 0) return time;
  const stamp = Date.parse(String(record.attributes["event.timestamp"] ?? ""));
  return Number.isFinite(stamp) ? stamp : now;
}

function request(
  sessionId: string,
  time: number,
  model: string | null,
  input: number,
  cached: number,
  output: number,
  cacheWrite: number,
  key: string,
): UsageRecord {
  return {
    name: "api_request",
    sessionId,
    promptId: null,
    time,
    model,
    costUsd: 0,
    tokens: {
      input: Math.max(0, input - cached),
      output,
      cacheRead: cached,
      cacheCreation: cacheWrite,
    },
    attributes: {},
    key,
  };
}

/** One agent's reading of its own telemetry. */
export interface UsageReader {
  /** The agent's records carry this prefix in `event.name` (logs) or metric names. */
  readonly prefix: string;
  /** Whether a record or span comes from this agent, by its resource (`service.name`). */
  owns(resource: Attributes): boolean;
  log(record: OtlpLogRecord, now: number): Reading;
  span(span: OtlpSpan, now: number): Reading;
}

const codex: UsageReader = {
  prefix: "codex.",
  owns: (resource) =>
    String(resource["service.name"] ?? "").startsWith("codex"),
  log(record, now) {
    const a = record.attributes;
    if (a["event.name"] !== "codex.sse_event") return null;
    // One of them per request carries the request's tokens.
    if (
      a["event.kind"] !== "response.completed" || !("input_token_count" in a)
    ) return null;
    const session = str(a["conversation.id"]);
    if (session === null) {
      return { reason: "codex.sse_event has no conversation.id" };
    }
    return request(
      session,
      timeOf(record, now),
      str(a.model),
      count(a.input_token_count),
      count(a.cached_token_count),
      count(a.output_token_count),
      count(a.cache_write_token_count),
      keyOf("codex", session, record.timeUnixNano, a),
    );
  },
  span: () => null,
};

const gemini: UsageReader = {
  prefix: "gemini_cli.",
  owns: (resource) => resource["service.name"] === "gemini-cli",
  log(record, now) {
    const a = record.attributes;
    if (a["event.name"] !== "gemini_cli.api_response") return null;
    const session = str(a["session.id"]) ?? str(record.resource["session.id"]);
    if (session === null) {
      return { reason: "gemini_cli.api_response has no session.id" };
    }
    return request(
      session,
      timeOf(record, now),
      str(a.model),
      count(a.input_token_count),
      count(a.cached_content_token_count),
      count(a.output_token_count) + count(a.thoughts_token_count),
      0,
      keyOf("gemini", session, record.timeUnixNano, a),
    );
  },
  span: () => null,
};

const copilot: UsageReader = {
  prefix: "github.copilot.",
  owns: (resource) => resource["service.name"] === "github-copilot",
  log: () => null,
  span(span) {
    const a = span.attributes;
    if (a["gen_ai.operation.name"] !== "chat") return null;
    const session = str(a["gen_ai.conversation.id"]);
    if (session === null) {
      return { reason: "a chat span has no gen_ai.conversation.id" };
    }
    return request(
      session,
      millisFromNanos(span.endTimeUnixNano) ||
        millisFromNanos(span.startTimeUnixNano),
      str(a["gen_ai.response.model"]) ?? str(a["gen_ai.request.model"]),
      count(a["gen_ai.usage.input_tokens"]),
      count(a["gen_ai.usage.cache_read.input_tokens"]),
      count(a["gen_ai.usage.output_tokens"]),
      count(a["gen_ai.usage.cache_creation.input_tokens"]),
      keyOf(
        "copilot",
        session,
        span.name,
        span.startTimeUnixNano,
        span.endTimeUnixNano,
        a,
      ),
    );
  },
};

/** The readers of the agents other than Claude Code (whose telemetry is `claude_telemetry.ts`'s). */
export const USAGE_READERS: readonly UsageReader[] = [codex, gemini, copilot];

/**
 * The reader a log record belongs to (by its `event.name`, else its resource), or null (Claude
 * Code's, or nobody's).
 */
export function readerOfLog(record: OtlpLogRecord): UsageReader | null {
  const name = String(record.attributes["event.name"] ?? "");
  return USAGE_READERS.find((r) =>
    name.startsWith(r.prefix) || r.owns(record.resource)
  ) ?? null;
}

/** Whether a metric point is one of these agents' (read as nothing: no session in any). */
export function otherAgentsMetric(
  point: Pick<OtlpDataPoint, "metric">,
): boolean {
  return /^(codex\.|gemini_cli\.|gen_ai\.|github\.copilot\.)/.test(
    point.metric,
  );
}

/** What a span means: the reader of its agent's, or a rejection for a span no agent claims. */
export function readSpan(span: OtlpSpan, now: number): Reading {
  const reader = USAGE_READERS.find((r) => r.owns(span.resource));
  return reader ? reader.span(span, now) : null;
}
