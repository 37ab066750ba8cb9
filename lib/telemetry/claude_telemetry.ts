/**
 * What Claude Code's own OpenTelemetry means: its log records (`claude_code.*` events) and its
 * metric points (`claude_code.cost.usage`, `claude_code.token.usage`, …) read from decoded OTLP
 * into typed values keyed by `session.id`. Claude Code writes many numbers as strings; both
 * forms are read.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { AttrValue, OtlpDataPoint, OtlpLogRecord } from "./otlp.ts";
import {
  millisFromNanos,
  TOKEN_KINDS,
  type UsageKind,
  type UsagePoint,
  type UsageRecord,
} from "../sessions/usage.ts";

/** A Claude Code event (`claude_code.api_request`, …) from one log record. */
export interface ClaudeEvent extends UsageRecord {
  sequence: number | null;
  durationMs: number | null;
  /** Every attribute, as sent. */
  attributes: Record<string, AttrValue>;
}

/** Why a record or point was not used. */
export interface Rejection {
  reason: string;
}

function str(value: AttrValue | undefined): string | null {
  if (typeof value === "string" && value.length > 0) return value.slice(0, 256);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/** A non-negative finite number from a number or numeric string; null when absent. */
function num(value: AttrValue | undefined, field: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`${field} must be a non-negative number`);
  }
  return n;
}

/** A stable hash of a value, for dedupe keys. */
export function keyOf(...parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex")
    .slice(0, 32);
}

/**
 * Reads one log record as a Claude Code event. Returns a {@linkcode Rejection} for a record
 * that is not a Claude Code event or lacks `session.id`, or whose numbers are not numbers.
 */
export function claudeEventOf(
  record: OtlpLogRecord,
  now: number,
): ClaudeEvent | Rejection {
  const a = record.attributes;
  let name = str(a["event.name"]) ?? record.eventName ??
    (typeof record.body === "string" ? record.body : null);
  if (name === null) return { reason: "log record names no event" };
  if (name.startsWith("claude_code.")) name = name.slice("claude_code.".length);
  else if (!str(a["event.name"])) {
    return { reason: "log record is not a claude_code event" };
  }
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) {
    return { reason: "event.name is not a Claude Code event name" };
  }
  const sessionId = str(a["session.id"]);
  if (sessionId === null) return { reason: `${name} has no session.id` };
  let time = millisFromNanos(record.timeUnixNano);
  if (time === 0) {
    const stamp = Date.parse(String(a["event.timestamp"] ?? ""));
    time = Number.isFinite(stamp) ? stamp : now;
  }
  try {
    const event: ClaudeEvent = {
      name,
      sessionId,
      promptId: str(a["prompt.id"]),
      sequence: num(a["event.sequence"], "event.sequence"),
      time,
      model: str(a.model),
      costUsd: num(a.cost_usd, "cost_usd") ?? 0,
      tokens: {
        input: num(a.input_tokens, "input_tokens") ?? 0,
        output: num(a.output_tokens, "output_tokens") ?? 0,
        cacheRead: num(a.cache_read_tokens, "cache_read_tokens") ?? 0,
        cacheCreation: num(a.cache_creation_tokens, "cache_creation_tokens") ??
          0,
      },
      durationMs: num(a.duration_ms, "duration_ms"),
      attributes: a,
      key: keyOf(
        "log",
        sessionId,
        name,
        record.timeUnixNano,
        a["event.sequence"] ?? null,
        a,
      ),
    };
    return event;
  } catch (error) {
    return { reason: `${name}: ${(error as Error).message}` };
  }
}

const METRIC_KIND: Record<string, (type: string | null) => UsageKind | null> = {
  "claude_code.cost.usage": () => "cost",
  "claude_code.token.usage": (type) =>
    (TOKEN_KINDS as readonly string[]).includes(type ?? "")
      ? type as UsageKind
      : null,
  "claude_code.lines_of_code.count": (type) =>
    type === "added"
      ? "lines_added"
      : type === "removed"
      ? "lines_removed"
      : null,
  "claude_code.active_time.total": () => "active_time",
};

/**
 * Reads one metric point as session usage. Returns null for Claude Code metrics hookwatch does
 * not aggregate (`session.count`, `commit.count`, …) and a {@linkcode Rejection} for points it
 * cannot attribute.
 */
export function usageOf(point: OtlpDataPoint): UsagePoint | Rejection | null {
  if (!point.metric.startsWith("claude_code.")) {
    return {
      reason: `${point.metric || "metric"} is not a Claude Code metric`,
    };
  }
  const kindOf = METRIC_KIND[point.metric];
  if (!kindOf) return null;
  const kind = kindOf(str(point.attributes.type));
  if (kind === null) return null;
  if (point.kind !== "sum" || point.temporality === "unspecified") {
    return { reason: `${point.metric} must be a sum with a temporality` };
  }
  const sessionId = str(point.attributes["session.id"]);
  if (sessionId === null) {
    return {
      reason:
        `${point.metric} has no session.id (set OTEL_METRICS_INCLUDE_SESSION_ID=true)`,
    };
  }
  if (!Number.isFinite(point.value) || point.value < 0) {
    return { reason: `${point.metric} value must be a non-negative number` };
  }
  const model = kind === "cost" || kind.startsWith("input") ||
      kind === "output" || kind.startsWith("cache")
    ? str(point.attributes.model) ?? "unknown"
    : "";
  return {
    sessionId,
    kind,
    model,
    temporality: point.temporality,
    series: keyOf(point.metric, point.attributes, point.resource),
    startTimeUnixNano: point.startTimeUnixNano,
    timeUnixNano: point.timeUnixNano,
    value: point.value,
  };
}
