/**
 * Decoding of OTLP/HTTP export requests (logs, metrics and traces), JSON or protobuf, into
 * plain records, and encoding of the answers' messages (reading and inflating the request body,
 * and the HTTP answer itself, are `routes/otlp.ts`'s). Protobuf goes through `protobufjs` with the official
 * OTLP definitions (`lib/telemetry/otlp_proto.json`, see `scripts/otlp_proto_gen.ts`); JSON goes through
 * the same message types' `fromObject`, so a protobuf body and its JSON twin decode alike.
 *
 * @module
 */
import protobuf from "protobufjs";
import descriptor from "./otlp_proto.json" with { type: "json" };
import { HttpError } from "../../common/errors.ts";

/** An attribute value with OTLP's `AnyValue` unwrapped. */
export type AttrValue =
  | string
  | number
  | boolean
  | null
  | AttrValue[]
  | { [key: string]: AttrValue };

/** Attributes by key. */
export type Attributes = Record<string, AttrValue>;

/** One log record, flattened. */
export interface OtlpLogRecord {
  /** `time_unix_nano`, else `observed_time_unix_nano`, as a decimal string ("0" when neither). */
  timeUnixNano: string;
  /** The record's `event_name` field (OTLP ≥ 1.5), else null. */
  eventName: string | null;
  body: AttrValue;
  severityText: string | null;
  attributes: Attributes;
  resource: Attributes;
  scope: string | null;
}

/** One span, flattened. */
export interface OtlpSpan {
  name: string;
  /** `SpanKind` (1 internal, 2 server, 3 client …). */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  resource: Attributes;
  scope: string | null;
}

/** Aggregation temporality of a sum or histogram. */
export type Temporality = "delta" | "cumulative" | "unspecified";

/** One number data point of a sum or gauge metric, flattened. */
export interface OtlpDataPoint {
  metric: string;
  unit: string;
  kind: "sum" | "gauge";
  temporality: Temporality;
  monotonic: boolean;
  startTimeUnixNano: string;
  timeUnixNano: string;
  value: number;
  attributes: Attributes;
  resource: Attributes;
}

/** The body cannot be decoded: the answer is 400 (an OTLP `Status` INVALID_ARGUMENT). */
export class OtlpDecodeError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = "OtlpDecodeError";
  }
}

/** How a body is encoded, from its `Content-Type`. */
export type OtlpEncoding = "json" | "protobuf";

/** The encoding a `Content-Type` names, or null when it is neither OTLP encoding. */
export function encodingOf(
  contentType: string | undefined,
): OtlpEncoding | null {
  const type = contentType?.split(";")[0].trim().toLowerCase();
  if (type === "application/json") return "json";
  if (type === "application/x-protobuf" || type === "application/protobuf") {
    return "protobuf";
  }
  return null;
}

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const types = {
  logsRequest: root.lookupType(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
  ),
  logsResponse: root.lookupType(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
  ),
  metricsRequest: root.lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
  ),
  metricsResponse: root.lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
  ),
  tracesRequest: root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  ),
  tracesResponse: root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
  ),
  status: root.lookupType("google.rpc.Status"),
};

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: true,
};

// deno-lint-ignore no-explicit-any -- decoded protobuf objects are walked defensively below
type Raw = any;

function decodeMessage(
  type: protobuf.Type,
  body: Uint8Array,
  encoding: OtlpEncoding,
): Raw {
  if (encoding === "protobuf") {
    try {
      return type.toObject(type.decode(body), TO_OBJECT);
    } catch (error) {
      throw new OtlpDecodeError(
        `body is not a protobuf ${type.name}: ${(error as Error).message}`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new OtlpDecodeError(`body is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new OtlpDecodeError(`body must be a JSON ${type.name} object`);
  }
  stripIds(parsed);
  try {
    return type.toObject(type.fromObject(parsed), TO_OBJECT);
  } catch (error) {
    throw new OtlpDecodeError(
      `body is not an OTLP JSON ${type.name}: ${(error as Error).message}`,
    );
  }
}

// OTLP JSON writes trace and span ids as hex, where protobuf JSON expects base64; hookwatch does
// not use them, so they are dropped before conversion rather than misread.
function stripIds(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) stripIds(item);
  } else if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    delete record.traceId;
    delete record.spanId;
    delete record.parentSpanId;
    for (
      const key of [
        "resourceLogs",
        "scopeLogs",
        "logRecords",
        "resourceSpans",
        "scopeSpans",
        "spans",
        "events",
        "links",
      ]
    ) {
      if (key in record) stripIds(record[key]);
    }
  }
}

function anyValue(value: Raw): AttrValue {
  if (value === null || typeof value !== "object") return null;
  if ("stringValue" in value) return String(value.stringValue);
  if ("boolValue" in value) return Boolean(value.boolValue);
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return Number(value.doubleValue);
  if ("arrayValue" in value) {
    return ((value.arrayValue?.values ?? []) as Raw[]).map(anyValue);
  }
  if ("kvlistValue" in value) return attributes(value.kvlistValue?.values);
  if ("bytesValue" in value) return String(value.bytesValue);
  return null;
}

function attributes(list: Raw): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (typeof kv?.key === "string") out[kv.key] = anyValue(kv.value);
  }
  return out;
}

function nanos(value: Raw): string {
  return value === undefined || value === null || value === ""
    ? "0"
    : String(value);
}

/** Decodes an `ExportLogsServiceRequest`. @throws {OtlpDecodeError} */
export function decodeLogs(
  body: Uint8Array,
  encoding: OtlpEncoding,
): OtlpLogRecord[] {
  const request = decodeMessage(types.logsRequest, body, encoding);
  const records: OtlpLogRecord[] = [];
  for (const rl of request.resourceLogs ?? []) {
    const resource = attributes(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      const scope = typeof sl.scope?.name === "string" ? sl.scope.name : null;
      for (const lr of sl.logRecords ?? []) {
        const time = nanos(lr.timeUnixNano);
        records.push({
          timeUnixNano: time === "0" ? nanos(lr.observedTimeUnixNano) : time,
          eventName: lr.eventName ? String(lr.eventName) : null,
          body: anyValue(lr.body),
          severityText: lr.severityText ? String(lr.severityText) : null,
          attributes: attributes(lr.attributes),
          resource,
          scope,
        });
      }
    }
  }
  return records;
}

/** Decodes an `ExportTraceServiceRequest` into its spans. @throws {OtlpDecodeError} */
export function decodeTraces(
  body: Uint8Array,
  encoding: OtlpEncoding,
): OtlpSpan[] {
  const request = decodeMessage(types.tracesRequest, body, encoding);
  const spans: OtlpSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = typeof ss.scope?.name === "string" ? ss.scope.name : null;
      for (const span of ss.spans ?? []) {
        spans.push({
          name: String(span.name ?? ""),
          kind: Number(span.kind ?? 0),
          startTimeUnixNano: nanos(span.startTimeUnixNano),
          endTimeUnixNano: nanos(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

const TEMPORALITY: Record<number, Temporality> = {
  1: "delta",
  2: "cumulative",
};

/**
 * Decodes an `ExportMetricsServiceRequest` into its sum and gauge number points; histograms
 * and summaries are counted in `skipped` (Claude Code exports none).
 *
 * @throws {OtlpDecodeError}
 */
export function decodeMetrics(
  body: Uint8Array,
  encoding: OtlpEncoding,
): {
  points: OtlpDataPoint[];
  skipped: number;
  /** The metric of each skipped point. */
  skippedMetrics: string[];
} {
  const request = decodeMessage(types.metricsRequest, body, encoding);
  const points: OtlpDataPoint[] = [];
  let skipped = 0;
  const skippedMetrics: string[] = [];
  for (const rm of request.resourceMetrics ?? []) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const metric of sm.metrics ?? []) {
        const data = metric.sum ?? metric.gauge;
        if (!data) {
          for (const k of ["histogram", "exponentialHistogram", "summary"]) {
            const n = metric[k]?.dataPoints?.length ?? 0;
            skipped += n;
            for (let i = 0; i < n; i++) {
              skippedMetrics.push(String(metric.name ?? ""));
            }
          }
          continue;
        }
        const kind = metric.sum ? "sum" : "gauge";
        for (const dp of data.dataPoints ?? []) {
          const value = "asDouble" in dp
            ? Number(dp.asDouble)
            : "asInt" in dp
            ? Number(dp.asInt)
            : 0;
          points.push({
            metric: String(metric.name ?? ""),
            unit: String(metric.unit ?? ""),
            kind,
            temporality: kind === "gauge"
              ? "unspecified"
              : TEMPORALITY[data.aggregationTemporality ?? 0] ?? "unspecified",
            monotonic: Boolean(data.isMonotonic),
            startTimeUnixNano: nanos(dp.startTimeUnixNano),
            timeUnixNano: nanos(dp.timeUnixNano),
            value,
            attributes: attributes(dp.attributes),
            resource,
          });
        }
      }
    }
  }
  return { points, skipped, skippedMetrics };
}

/** What a receiver reports back: records it could not accept, and why. */
export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

/**
 * Encodes an `Export{Logs,Metrics}ServiceResponse` in the request's encoding; `partialSuccess`
 * is left out when nothing was rejected, as the OTLP spec asks.
 */
export function encodeResponse(
  signal: OtlpSignal,
  encoding: OtlpEncoding,
  partial: PartialSuccess | null,
): Uint8Array<ArrayBuffer> {
  const field = REJECTED[signal];
  const object = partial && (partial.rejected > 0 || partial.errorMessage)
    ? {
      partialSuccess: {
        [field]: String(partial.rejected),
        errorMessage: partial.errorMessage,
      },
    }
    : {};
  if (encoding === "json") {
    return new TextEncoder().encode(JSON.stringify(object));
  }
  const type = responseType(signal);
  return type.encode(type.fromObject(object)).finish() as Uint8Array<
    ArrayBuffer
  >;
}

/** The three OTLP signals hookwatch receives. */
export type OtlpSignal = "logs" | "metrics" | "traces";

const REJECTED: Readonly<Record<OtlpSignal, string>> = {
  logs: "rejectedLogRecords",
  metrics: "rejectedDataPoints",
  traces: "rejectedSpans",
};

function responseType(signal: OtlpSignal): protobuf.Type {
  return signal === "logs"
    ? types.logsResponse
    : signal === "metrics"
    ? types.metricsResponse
    : types.tracesResponse;
}

/** gRPC status codes used in error bodies. */
export const STATUS_CODE = Object.freeze({
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

/** Content types of the two OTLP/HTTP encodings. */
export const OTLP_MIME: Readonly<Record<OtlpEncoding, string>> = Object.freeze({
  json: "application/json",
  protobuf: "application/x-protobuf",
});

/** Encodes a `google.rpc.Status`, the body of OTLP/HTTP error answers. */
export function encodeStatus(
  encoding: OtlpEncoding,
  code: number,
  message: string,
): Uint8Array<ArrayBuffer> {
  if (encoding === "json") {
    return new TextEncoder().encode(JSON.stringify({ code, message }));
  }
  return types.status.encode(types.status.fromObject({ code, message }))
    .finish() as Uint8Array<ArrayBuffer>;
}

/** Decodes a `google.rpc.Status` (tests read error bodies with it). */
export function decodeStatus(
  body: Uint8Array,
): { code?: number; message?: string } {
  return types.status.toObject(types.status.decode(body)) as {
    code?: number;
    message?: string;
  };
}

/** Decodes an export response (tests read partial success with it). */
export function decodeResponse(
  signal: OtlpSignal,
  body: Uint8Array,
): Raw {
  const type = responseType(signal);
  return type.toObject(type.decode(body), TO_OBJECT);
}
