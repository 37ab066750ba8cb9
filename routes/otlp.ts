import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Deps } from "../lib/hookwatch.ts";
import type { NewEvent } from "../lib/events.ts";
import {
  decodeLogs,
  decodeMetrics,
  encodeResponse,
  encodeStatus,
  encodingOf,
  OtlpDecodeError,
  type OtlpEncoding,
  readBody,
  STATUS_CODE,
} from "../lib/otlp.ts";
import {
  type ClaudeEvent,
  claudeEventOf,
  usageOf,
  type UsagePoint,
} from "../lib/claude_telemetry.ts";
import { type Changes, encodeSessionFrame } from "../lib/sessions.ts";
import { recordSpend } from "../otel/claude_spend.ts";
import { instruments } from "../otel/instruments.ts";

/** Options for {@linkcode otlpRoutes}. */
export interface OtlpOptions {
  /** Export requests processed at once before new ones get 429. */
  maxInFlight?: number;
  /** Events waiting for commit before new requests get 429. */
  maxPendingEvents?: number;
}

/** Claude Code events shown in the timeline (stored as events, `source: "otel"`). */
const TIMELINE = new Set(["api_request", "api_error"]);
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

const MIME: Record<OtlpEncoding, string> = {
  json: "application/json",
  protobuf: "application/x-protobuf",
};

class OtlpHttpError extends HTTPException {
  constructor(
    status: 400 | 413 | 415 | 429 | 503,
    readonly code: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(status, { message });
  }
}

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

function timelineEvent(
  e: ClaudeEvent,
  sourceApp: string,
  now: number,
): NewEvent {
  const payload: Record<string, unknown> = {
    source: "otel",
    event_name: `claude_code.${e.name}`,
    prompt_id: e.promptId,
  };
  for (const field of TIMELINE_FIELDS) {
    if (e.attributes[field] !== undefined) payload[field] = e.attributes[field];
  }
  return {
    source_app: sourceApp,
    session_id: e.sessionId,
    hook_event_type: `claude_code.${e.name}`,
    payload,
    timestamp: e.time > now + 60_000 ? now : e.time,
    model_name: e.model,
    summary: summaryOf(e),
    chat: null,
    event_id: `otel:${e.key}`,
  };
}

function reasonsText(reasons: Map<string, number>): string {
  return [...reasons].slice(0, 5).map(([reason, n]) =>
    n > 1 ? `${reason} (${n})` : reason
  ).join("; ");
}

/** `POST /v1/logs`, `POST /v1/metrics`: an OTLP/HTTP receiver for Claude Code's telemetry. */
export function otlpRoutes(hw: Deps, options: OtlpOptions = {}): Hono {
  const app = new Hono();
  const maxInFlight = options.maxInFlight ?? 64;
  const maxPending = options.maxPendingEvents ?? 50_000;
  const maxBytes = hw.config.maxBatchBytes;
  let inFlight = 0;

  app.onError((error, c) => {
    const encoding = encodingOf(c.req.header("content-type")) ?? "json";
    if (error instanceof OtlpHttpError) {
      const headers: Record<string, string> = {
        "content-type": MIME[encoding],
      };
      if (error.retryAfter) headers["retry-after"] = String(error.retryAfter);
      return new Response(
        encodeStatus(encoding, error.code, error.message),
        { status: error.status, headers },
      );
    }
    throw error;
  });

  const publish = (changes: Changes) => {
    recordSpend(changes.spend);
    for (const id of changes.sessions) {
      const summary = hw.sessions.summary(id);
      if (summary) {
        hw.broadcaster.publishFrame(
          encodeSessionFrame(summary),
          summary.source_app,
        );
      }
    }
  };

  const receive = async (
    raw: Request,
    run: (
      body: Uint8Array,
      encoding: OtlpEncoding,
    ) => Promise<Uint8Array<ArrayBuffer>>,
  ): Promise<Response> => {
    const encoding = encodingOf(raw.headers.get("content-type") ?? undefined);
    if (encoding === null) {
      throw new OtlpHttpError(
        415,
        STATUS_CODE.INVALID_ARGUMENT,
        "Content-Type must be application/x-protobuf or application/json",
      );
    }
    if (hw.closing) {
      throw new OtlpHttpError(
        503,
        STATUS_CODE.UNAVAILABLE,
        "hookwatch is shutting down",
        5,
      );
    }
    if (inFlight >= maxInFlight || hw.committer.pending > maxPending) {
      throw new OtlpHttpError(
        429,
        STATUS_CODE.RESOURCE_EXHAUSTED,
        "too many export requests at once; retry later",
        1,
      );
    }
    if (Number(raw.headers.get("content-length") ?? 0) > maxBytes) {
      throw new OtlpHttpError(
        413,
        STATUS_CODE.INVALID_ARGUMENT,
        `body is larger than ${maxBytes} bytes`,
      );
    }
    inFlight++;
    try {
      const body = await readBody(
        raw.body,
        raw.headers.get("content-encoding") ?? undefined,
        maxBytes,
      );
      if (body === "tooLarge") {
        throw new OtlpHttpError(
          413,
          STATUS_CODE.INVALID_ARGUMENT,
          `body is larger than ${maxBytes} bytes`,
        );
      }
      return new Response(await run(body, encoding), {
        status: 200,
        headers: { "content-type": MIME[encoding] },
      });
    } catch (error) {
      if (error instanceof OtlpDecodeError) {
        throw new OtlpHttpError(
          400,
          STATUS_CODE.INVALID_ARGUMENT,
          error.message,
        );
      }
      throw error;
    } finally {
      inFlight--;
    }
  };

  app.post("/v1/logs", (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const now = Date.now();
      const records = decodeLogs(body, encoding);
      const events: ClaudeEvent[] = [];
      const reasons = new Map<string, number>();
      for (const record of records) {
        const event = claudeEventOf(record, now);
        if ("reason" in event) {
          reasons.set(event.reason, (reasons.get(event.reason) ?? 0) + 1);
        } else {
          events.push(event);
        }
      }
      // Timeline first, aggregates second: both are idempotent, so an export retried after a
      // failure between them completes both without counting anything twice.
      const timeline = events.filter((e) => TIMELINE.has(e.name));
      if (timeline.length > 0) {
        await hw.ingest(timeline.map((e) =>
          timelineEvent(
            e,
            hw.sessions.summary(e.sessionId)?.source_app ?? "claude-code",
            now,
          )
        ));
      }
      const changes = hw.sessions.recordClaudeEvents(events, now);
      publish(changes);
      const rejected = records.length - events.length;
      instruments.otlpItemsTotal.add(changes.fresh.length, {
        signal: "logs",
        outcome: "accepted",
      });
      instruments.otlpItemsTotal.add(events.length - changes.fresh.length, {
        signal: "logs",
        outcome: "duplicate",
      });
      instruments.otlpItemsTotal.add(rejected, {
        signal: "logs",
        outcome: "rejected",
      });
      return encodeResponse("logs", encoding, {
        rejected,
        errorMessage: reasonsText(reasons),
      });
    }));

  app.post("/v1/metrics", (c) =>
    receive(c.req.raw, (body, encoding) => {
      const now = Date.now();
      const { points, skipped } = decodeMetrics(body, encoding);
      const usage: UsagePoint[] = [];
      const reasons = new Map<string, number>();
      let ignored = 0;
      for (const point of points) {
        const u = usageOf(point);
        if (u === null) ignored++;
        else if ("reason" in u) {
          reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
        } else usage.push(u);
      }
      if (skipped > 0) {
        reasons.set("histograms and summaries are not read", skipped);
      }
      const changes = hw.sessions.recordUsage(usage, now);
      publish(changes);
      const rejected = points.length - usage.length - ignored + skipped;
      instruments.otlpItemsTotal.add(usage.length, {
        signal: "metrics",
        outcome: "accepted",
      });
      instruments.otlpItemsTotal.add(ignored, {
        signal: "metrics",
        outcome: "ignored",
      });
      instruments.otlpItemsTotal.add(rejected, {
        signal: "metrics",
        outcome: "rejected",
      });
      return Promise.resolve(encodeResponse("metrics", encoding, {
        rejected,
        errorMessage: reasonsText(reasons),
      }));
    }));

  return app;
}
