/**
 * What happens to decoded agent telemetry: Claude Code's `api_request` and `api_error` records
 * become timeline events (stored like hook events, `payload.source: "otel"`), every record and
 * metric point updates the session aggregates, the changed sessions go out as `session`
 * stream frames, and new spend reaches the Prometheus counters. Codex's and Gemini CLI's model
 * requests (logs) and Copilot CLI's (spans) update the aggregates only (`agent_usage.ts`).
 *
 * @module
 */
import type { NewEvent } from "../../common/events.ts";
import { TELEMETRY_TYPE_PREFIX } from "../../common/hook_types.ts";
import type {
  OtlpDataPoint,
  OtlpLogRecord,
  OtlpSpan,
  PartialSuccess,
} from "./otlp.ts";
import {
  otherAgentsMetric,
  readerOfLog,
  type Reading,
  readSpan,
} from "./agent_usage.ts";
import type { UsageRecord } from "../sessions/usage.ts";
import {
  type ClaudeEvent,
  claudeEventOf,
  usageOf,
} from "./claude_telemetry.ts";
import type { UsagePoint } from "../sessions/usage.ts";
import type { Changes, SessionTracker } from "../sessions/sessions.ts";
import { encodeSessionFrame } from "../stream/sse.ts";
import type { Agents } from "../agents/agents.ts";
import { sessionSummary } from "../sessions/views.ts";
import { recordSpend } from "./claude_spend.ts";
import { instruments } from "../base/instruments.ts";

/** What telemetry needs from the running domain (the wiring in `lib/hookwatch.ts` has it). */
export interface TelemetryDeps {
  /** Stores timeline events as hook events are stored. */
  ingest(events: NewEvent[]): Promise<unknown>;
  readonly sessions: SessionTracker;
  readonly agents: Agents;
  readonly broadcaster: {
    publishFrame(
      bytes: Uint8Array,
      sourceApp: string | null,
      agent?: string | null,
    ): void;
  };
}

/** Claude Code events shown in the timeline. */
export const TIMELINE_EVENTS: ReadonlySet<string> = new Set([
  "api_request",
  "api_error",
]);

const TIMELINE_FIELDS = [
  "model",
  "cost_usd",
  "duration_ms",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_creation_tokens",
  "speed",
  "error",
  "status_code",
  "attempt",
];

function summaryOf(e: ClaudeEvent): string {
  if (e.name === "api_error") {
    return `${e.model ?? "API"} error ${e.attributes.status_code ?? ""}: ${
      String(e.attributes.error ?? "").slice(0, 200)
    }`.trim();
  }
  return `${e.model ?? "API"} $${
    e.costUsd.toFixed(4)
  } · ${e.tokens.input} in / ${e.tokens.output} out / ${e.tokens.cacheRead} cache read`;
}

/**
 * The timeline event of a Claude Code event: `hook_event_type` `claude_code.<name>`, its
 * request figures in the payload, and an `event_id` from the record so a retried export is
 * not stored twice.
 */
export function timelineEvent(
  e: ClaudeEvent,
  sourceApp: string,
  now: number,
): NewEvent {
  const payload: Record<string, unknown> = {
    source: "otel",
    event_name: `${TELEMETRY_TYPE_PREFIX}${e.name}`,
    prompt_id: e.promptId,
  };
  for (const field of TIMELINE_FIELDS) {
    if (e.attributes[field] !== undefined) payload[field] = e.attributes[field];
  }
  return {
    source_app: sourceApp,
    session_id: e.sessionId,
    hook_event_type: `${TELEMETRY_TYPE_PREFIX}${e.name}`,
    payload,
    timestamp: e.time > now + 60_000 ? now : e.time,
    model_name: e.model,
    summary: summaryOf(e),
    chat: null,
    event_id: `otel:${e.key}`,
  };
}

function partial(
  rejected: number,
  reasons: Map<string, number>,
): PartialSuccess {
  return {
    rejected,
    errorMessage: [...reasons].slice(0, 5).map(([reason, n]) =>
      n > 1 ? `${reason} (${n})` : reason
    ).join("; "),
  };
}

async function publish(hw: TelemetryDeps, changes: Changes): Promise<void> {
  recordSpend(changes.spend);
  for (const id of changes.sessions) {
    const summary = await sessionSummary(hw, id);
    if (summary) {
      hw.broadcaster.publishFrame(
        encodeSessionFrame(summary),
        summary.source_app,
        summary.agent,
      );
    }
  }
}

/** Takes in the log records of one export; returns what was rejected and why. */
export async function receiveLogs(
  hw: TelemetryDeps,
  records: readonly OtlpLogRecord[],
  now: number,
): Promise<PartialSuccess> {
  const events: ClaudeEvent[] = [];
  const others: UsageRecord[] = [];
  const reasons = new Map<string, number>();
  let ignored = 0;
  for (const record of records) {
    // Another agent's record, read by its reader; the rest is Claude Code's to say.
    const reader = readerOfLog(record);
    const event: ClaudeEvent | Reading = reader
      ? reader.log(record, now)
      : claudeEventOf(record, now);
    if (event === null) ignored++;
    else if ("reason" in event) {
      reasons.set(event.reason, (reasons.get(event.reason) ?? 0) + 1);
    } else if (reader) {
      others.push(event);
    } else {
      events.push(event as ClaudeEvent);
    }
  }
  // Timeline first, aggregates second: both are idempotent, so an export retried after a
  // failure between them completes both without counting anything twice.
  const timeline = events.filter((e) => TIMELINE_EVENTS.has(e.name));
  if (timeline.length > 0) {
    // Named after the app its hook events came from (folded first: they may have just landed).
    await hw.agents.flush();
    const apps = new Map<string, string>();
    for (const id of new Set(timeline.map((e) => e.sessionId))) {
      apps.set(
        id,
        (await hw.sessions.summary(id))?.source_app ?? "claude-code",
      );
    }
    await hw.ingest(
      timeline.map((e) => timelineEvent(e, apps.get(e.sessionId)!, now)),
    );
  }
  return await takeRecords(
    hw,
    "logs",
    [...events, ...others],
    records.length,
    ignored,
    reasons,
    now,
  );
}

/**
 * Applies an export's usage records to the aggregates, publishes the sessions they changed and
 * counts the export's items: `total` of them, `ignored` not read, the rest not taken rejected.
 */
async function takeRecords(
  hw: TelemetryDeps,
  signal: "logs" | "traces",
  taken: readonly UsageRecord[],
  total: number,
  ignored: number,
  reasons: Map<string, number>,
  now: number,
): Promise<PartialSuccess> {
  const changes = await hw.sessions.recordRecords(taken, now);
  await publish(hw, changes);
  const rejected = total - taken.length - ignored;
  const count = instruments.otlpItemsTotal;
  count.add(changes.fresh.length, { signal, outcome: "accepted" });
  count.add(taken.length - changes.fresh.length, {
    signal,
    outcome: "duplicate",
  });
  count.add(ignored, { signal, outcome: "ignored" });
  count.add(rejected, { signal, outcome: "rejected" });
  return partial(rejected, reasons);
}

/**
 * Takes in the spans of one export: the model requests of the agents that report them as
 * spans (Copilot CLI's `chat` spans) update their sessions' aggregates; other spans are not
 * read. Returns what was rejected and why.
 */
export async function receiveTraces(
  hw: TelemetryDeps,
  spans: readonly OtlpSpan[],
  now: number,
): Promise<PartialSuccess> {
  const records: UsageRecord[] = [];
  const reasons = new Map<string, number>();
  let ignored = 0;
  for (const span of spans) {
    const reading = readSpan(span, now);
    if (reading === null) ignored++;
    else if ("reason" in reading) {
      reasons.set(reading.reason, (reasons.get(reading.reason) ?? 0) + 1);
    } else records.push(reading);
  }
  return await takeRecords(
    hw,
    "traces",
    records,
    spans.length,
    ignored,
    reasons,
    now,
  );
}

/**
 * Takes in the metric points of one export (`skipped`: the metric of each histogram and
 * summary point, which are not read); returns what was rejected and why.
 */
export async function receiveMetrics(
  hw: TelemetryDeps,
  points: readonly OtlpDataPoint[],
  skipped: readonly string[],
  now: number,
): Promise<PartialSuccess> {
  const usage: UsagePoint[] = [];
  const reasons = new Map<string, number>();
  let ignored = 0;
  for (const point of points) {
    // The other agents' metrics carry no session: nothing to join them to.
    const u = otherAgentsMetric(point) ? null : usageOf(point);
    if (u === null) ignored++;
    else if ("reason" in u) {
      reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
    } else usage.push(u);
  }
  // The other agents' histograms are theirs to keep (no session either).
  const unread = skipped.filter((metric) => !otherAgentsMetric({ metric }));
  ignored += skipped.length - unread.length;
  if (unread.length > 0) {
    reasons.set("histograms and summaries are not read", unread.length);
  }
  await publish(hw, await hw.sessions.recordUsage(usage, now));
  const rejected = points.length + skipped.length - usage.length - ignored;
  const count = instruments.otlpItemsTotal;
  count.add(usage.length, { signal: "metrics", outcome: "accepted" });
  count.add(ignored, { signal: "metrics", outcome: "ignored" });
  count.add(rejected, { signal: "metrics", outcome: "rejected" });
  return partial(rejected, reasons);
}
