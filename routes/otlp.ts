import { type Context, Hono } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import { HttpError } from "../common/errors.ts";
import {
  decodeLogs,
  decodeMetrics,
  decodeTraces,
  encodeResponse,
  encodeStatus,
  encodingOf,
  OTLP_MIME,
  type OtlpEncoding,
  STATUS_CODE,
} from "../lib/telemetry/otlp.ts";
import { readBody } from "./edge/body.ts";
import {
  receiveLogs,
  receiveMetrics,
  receiveTraces,
} from "../lib/telemetry/telemetry_ingest.ts";

/** Options for {@linkcode otlpRoutes}. */
export interface OtlpOptions {
  /** Export requests processed at once before new ones get 429. */
  maxInFlight?: number;
  /** Events waiting for commit before new requests get 429. */
  maxPendingEvents?: number;
}

const PATHS = {
  logs: "/v1/logs",
  metrics: "/v1/metrics",
  traces: "/v1/traces",
} as const;
const OTLP_PATHS = new Set<string>(Object.values(PATHS));

/** True for a request to an OTLP receiver, whose errors are answered as an OTLP `Status`. */
export function answersOtlp(c: Context): boolean {
  return c.req.method === "POST" && OTLP_PATHS.has(c.req.path);
}

/** The `google.rpc.Status` code an answer's HTTP status stands for. */
function statusCode(status: number): number {
  if (status === 401) return STATUS_CODE.UNAUTHENTICATED;
  if (status === 408) return STATUS_CODE.DEADLINE_EXCEEDED;
  if (status === 429) return STATUS_CODE.RESOURCE_EXHAUSTED;
  if (status === 503) return STATUS_CODE.UNAVAILABLE;
  return status >= 500 ? STATUS_CODE.INTERNAL : STATUS_CODE.INVALID_ARGUMENT;
}

/**
 * The answer to an error on an OTLP receiver, as OTLP/HTTP asks: a `google.rpc.Status` in the
 * request's encoding (JSON when it named neither), with the error's status and `headers`.
 */
export function otlpErrorAnswer(
  error: HttpError,
  contentType: string | undefined,
  headers: Record<string, string>,
): Response {
  const encoding = encodingOf(contentType) ?? "json";
  return new Response(
    encodeStatus(encoding, statusCode(error.status), error.message),
    {
      status: error.status,
      headers: { ...headers, "content-type": OTLP_MIME[encoding] },
    },
  );
}

/**
 * `POST /v1/logs`, `POST /v1/metrics`, `POST /v1/traces`: an OTLP/HTTP receiver for the agents'
 * own telemetry (Claude Code's, Codex's and Gemini CLI's logs, Copilot CLI's traces).
 */
export function otlpRoutes(hw: Deps, options: OtlpOptions = {}): Hono {
  const app = new Hono();
  const maxInFlight = options.maxInFlight ?? 64;
  const maxPending = options.maxPendingEvents ?? 50_000;
  const limits = {
    maxBytes: hw.config.maxBatchBytes,
    timeoutMs: hw.config.bodyTimeoutMs,
  };
  let inFlight = 0;

  const receive = async (
    raw: Request,
    run: (
      body: Uint8Array,
      encoding: OtlpEncoding,
    ) => Promise<Uint8Array<ArrayBuffer>>,
  ): Promise<Response> => {
    const encoding = encodingOf(raw.headers.get("content-type") ?? undefined);
    if (encoding === null) {
      throw new HttpError(
        415,
        "Content-Type must be application/x-protobuf or application/json",
      );
    }
    if (hw.closing) {
      throw new HttpError(503, "hookwatch is shutting down", {
        retryAfter: 5,
      });
    }
    if (inFlight >= maxInFlight || hw.committer.pending > maxPending) {
      throw new HttpError(
        429,
        "too many export requests at once; retry later",
        { retryAfter: 1 },
      );
    }
    inFlight++;
    try {
      const body = await readBody(raw, limits);
      return new Response(await run(body, encoding), {
        status: 200,
        headers: { "content-type": OTLP_MIME[encoding] },
      });
    } finally {
      inFlight--;
    }
  };

  app.post(PATHS.logs, (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const records = decodeLogs(body, encoding);
      const partial = await receiveLogs(hw, records, Date.now());
      return encodeResponse("logs", encoding, partial);
    }));

  app.post(PATHS.metrics, (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const { points, skippedMetrics } = decodeMetrics(body, encoding);
      const partial = await receiveMetrics(
        hw,
        points,
        skippedMetrics,
        Date.now(),
      );
      return encodeResponse("metrics", encoding, partial);
    }));

  app.post(PATHS.traces, (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const spans = decodeTraces(body, encoding);
      const partial = await receiveTraces(hw, spans, Date.now());
      return encodeResponse("traces", encoding, partial);
    }));

  return app;
}
