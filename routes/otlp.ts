import { Hono } from "hono";
import type { Deps } from "../lib/hookwatch.ts";
import {
  decodeLogs,
  decodeMetrics,
  encodeResponse,
  encodingOf,
  OTLP_MIME,
  type OtlpEncoding,
  OtlpError,
  readBody,
  STATUS_CODE,
} from "../lib/telemetry/otlp.ts";
import {
  receiveLogs,
  receiveMetrics,
} from "../lib/telemetry/telemetry_ingest.ts";

/** Options for {@linkcode otlpRoutes}. */
export interface OtlpOptions {
  /** Export requests processed at once before new ones get 429. */
  maxInFlight?: number;
  /** Events waiting for commit before new requests get 429. */
  maxPendingEvents?: number;
}

/** `POST /v1/logs`, `POST /v1/metrics`: an OTLP/HTTP receiver for Claude Code's telemetry. */
export function otlpRoutes(hw: Deps, options: OtlpOptions = {}): Hono {
  const app = new Hono();
  const maxInFlight = options.maxInFlight ?? 64;
  const maxPending = options.maxPendingEvents ?? 50_000;
  const maxBytes = hw.config.maxBatchBytes;
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
      throw new OtlpError(
        415,
        STATUS_CODE.INVALID_ARGUMENT,
        "Content-Type must be application/x-protobuf or application/json",
      );
    }
    if (hw.closing) {
      throw new OtlpError(
        503,
        STATUS_CODE.UNAVAILABLE,
        "hookwatch is shutting down",
        5,
      );
    }
    if (inFlight >= maxInFlight || hw.committer.pending > maxPending) {
      throw new OtlpError(
        429,
        STATUS_CODE.RESOURCE_EXHAUSTED,
        "too many export requests at once; retry later",
        1,
      );
    }
    if (Number(raw.headers.get("content-length") ?? 0) > maxBytes) {
      throw new OtlpError(
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
        throw new OtlpError(
          413,
          STATUS_CODE.INVALID_ARGUMENT,
          `body is larger than ${maxBytes} bytes`,
        );
      }
      return new Response(await run(body, encoding), {
        status: 200,
        headers: { "content-type": OTLP_MIME[encoding] },
      });
    } finally {
      inFlight--;
    }
  };

  app.post("/v1/logs", (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const records = decodeLogs(body, encoding);
      const partial = await receiveLogs(hw, records, Date.now());
      return encodeResponse("logs", encoding, partial);
    }));

  app.post("/v1/metrics", (c) =>
    receive(c.req.raw, async (body, encoding) => {
      const { points, skipped } = decodeMetrics(body, encoding);
      const partial = await receiveMetrics(hw, points, skipped, Date.now());
      return encodeResponse("metrics", encoding, partial);
    }));

  return app;
}
