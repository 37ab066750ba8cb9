/**
 * A recording OTLP/HTTP receiver for finding out what an agent's own telemetry sends:
 * `POST /v1/logs`, `/v1/metrics` and `/v1/traces`, JSON or protobuf, optionally gzip-encoded,
 * each answered 200 with an empty export response in the request's encoding and recorded with
 * its path, content type and decoded body.
 *
 * Protobuf bodies are decoded with `protobufjs` and the OTLP definitions of
 * `lib/telemetry/otlp_proto.json` (logs, metrics, traces).
 * {@linkcode flatten} turns a decoded export into plain records (log records, metric points,
 * spans) with attributes unwrapped.
 *
 * @module
 */
import protobuf from "protobufjs";
import descriptor from "../../lib/telemetry/otlp_proto.json" with {
  type: "json",
};

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const requestTypes: Record<Signal, protobuf.Type> = {
  logs: root.lookupType(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
  ),
  metrics: root.lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
  ),
  traces: root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  ),
};

/** The three OTLP signals. */
export type Signal = "logs" | "metrics" | "traces";

/** One export request the receiver got. */
export interface OtlpExport {
  path: string;
  signal: Signal | null;
  contentType: string;
  contentEncoding: string | null;
  userAgent: string | null;
  /** Protobuf or JSON: how the body was decoded. */
  encoding: "protobuf" | "json" | "unknown";
  /** The decoded export request, OTLP JSON field names (ids in hex). */
  body: unknown;
  /** Why the body could not be decoded. */
  error?: string;
  at: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  exports: OtlpExport[];
  close(): Promise<void>;
}

// deno-lint-ignore no-explicit-any -- decoded OTLP objects are walked defensively
type Raw = any;

const hex = (b64: string) =>
  Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, "0"))
    .join("");

/** Converts base64 ids of a protobuf-decoded object to hex, as OTLP JSON writes them. */
function hexIds(value: Raw): Raw {
  if (Array.isArray(value)) return value.map(hexIds);
  if (value && typeof value === "object") {
    const out: Raw = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        /^(traceId|spanId|parentSpanId)$/.test(k) && typeof v === "string"
          ? hex(v)
          : hexIds(v);
    }
    return out;
  }
  return value;
}

async function bodyBytes(req: Request): Promise<Uint8Array> {
  const raw = new Uint8Array(await req.arrayBuffer());
  if (req.headers.get("content-encoding")?.toLowerCase() !== "gzip") return raw;
  const stream = new Blob([raw]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Starts the receiver on 127.0.0.1 and a free port. */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: OtlpExport[] = [];
  const { promise, resolve } = Promise.withResolvers<OtlpReceiver>();
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const signal = ({
      "/v1/logs": "logs",
      "/v1/metrics": "metrics",
      "/v1/traces": "traces",
    } as Record<string, Signal>)[url.pathname] ?? null;
    const contentType = req.headers.get("content-type") ?? "";
    const record: OtlpExport = {
      path: url.pathname,
      signal,
      contentType,
      contentEncoding: req.headers.get("content-encoding"),
      userAgent: req.headers.get("user-agent"),
      encoding: "unknown",
      body: null,
      at: Date.now(),
    };
    exports.push(record);
    let bytes: Uint8Array;
    try {
      bytes = await bodyBytes(req);
    } catch (error) {
      record.error = `body: ${(error as Error).message}`;
      return new Response(null, { status: 400 });
    }
    const protobufBody = /protobuf/i.test(contentType);
    try {
      if (protobufBody && signal) {
        record.encoding = "protobuf";
        const type = requestTypes[signal];
        record.body = hexIds(
          type.toObject(type.decode(bytes), {
            longs: String,
            enums: Number,
            bytes: String,
            defaults: false,
            arrays: true,
          }),
        );
      } else {
        record.encoding = "json";
        record.body = JSON.parse(new TextDecoder().decode(bytes));
      }
    } catch (error) {
      record.error = (error as Error).message;
      record.body = new TextDecoder().decode(bytes.slice(0, 2000));
    }
    return protobufBody
      ? new Response(new Uint8Array(0), {
        headers: { "content-type": "application/x-protobuf" },
      })
      : Response.json({});
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen({ port }) {
      resolve({
        url: `http://127.0.0.1:${port}`,
        exports,
        close: async () => {
          await server.shutdown();
        },
      });
    },
  }, handle);
  return promise;
}

/** An OTLP `AnyValue`, unwrapped. */
export function anyValue(value: Raw): unknown {
  if (value === null || typeof value !== "object") return value ?? null;
  if ("stringValue" in value) return value.stringValue;
  if ("boolValue" in value) return value.boolValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return Number(value.doubleValue);
  if ("arrayValue" in value) {
    return (value.arrayValue?.values ?? []).map(anyValue);
  }
  if ("kvlistValue" in value) return attributes(value.kvlistValue?.values);
  if ("bytesValue" in value) return value.bytesValue;
  return null;
}

/** A `KeyValue` list as an object. */
export function attributes(list: Raw): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of Array.isArray(list) ? list : []) {
    if (typeof kv?.key === "string") out[kv.key] = anyValue(kv.value);
  }
  return out;
}

/** One log record, metric point or span, flattened. */
export interface FlatRecord {
  signal: Signal;
  /** Log: the `event.name` attribute, else `eventName`, else the body; metric or span: its name. */
  name: string;
  resource: Record<string, unknown>;
  scope: string | null;
  attributes: Record<string, unknown>;
  /** Log body; metric value (sum, count/sum of a histogram); span kind, times and events. */
  detail: Record<string, unknown>;
}

/** The log records, metric points and spans of an export, flattened. */
export function flatten(e: OtlpExport): FlatRecord[] {
  const body = e.body as Raw;
  const out: FlatRecord[] = [];
  if (!body || typeof body !== "object" || !e.signal) return out;
  if (e.signal === "logs") {
    for (const rl of body.resourceLogs ?? []) {
      const resource = attributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          const attrs = attributes(r.attributes);
          const bodyValue = anyValue(r.body);
          out.push({
            signal: "logs",
            name: String(
              attrs["event.name"] || r.eventName || bodyValue || "",
            ),
            resource,
            scope: sl.scope?.name ?? null,
            attributes: attrs,
            detail: {
              body: bodyValue,
              eventName: r.eventName ?? null,
              severityText: r.severityText ?? null,
              timeUnixNano: r.timeUnixNano ?? null,
            },
          });
        }
      }
    }
  } else if (e.signal === "metrics") {
    for (const rm of body.resourceMetrics ?? []) {
      const resource = attributes(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const kind = ["sum", "gauge", "histogram", "exponentialHistogram"]
            .find((k) => m[k]) ?? "unknown";
          for (const p of m[kind]?.dataPoints ?? []) {
            out.push({
              signal: "metrics",
              name: m.name,
              resource,
              scope: sm.scope?.name ?? null,
              attributes: attributes(p.attributes),
              detail: {
                kind,
                unit: m.unit ?? "",
                temporality: m[kind]?.aggregationTemporality ?? null,
                value: p.asInt !== undefined
                  ? Number(p.asInt)
                  : p.asDouble !== undefined
                  ? Number(p.asDouble)
                  : undefined,
                count: p.count !== undefined ? Number(p.count) : undefined,
                sum: p.sum !== undefined ? Number(p.sum) : undefined,
              },
            });
          }
        }
      }
    }
  } else {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          out.push({
            signal: "traces",
            name: s.name,
            resource,
            scope: ss.scope?.name ?? null,
            attributes: attributes(s.attributes),
            detail: {
              kind: s.kind ?? 0,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || null,
              startTimeUnixNano: s.startTimeUnixNano,
              endTimeUnixNano: s.endTimeUnixNano,
              status: s.status ?? null,
              events: (s.events ?? []).map((ev: Raw) => ({
                name: ev.name,
                attributes: attributes(ev.attributes),
              })),
            },
          });
        }
      }
    }
  }
  return out;
}
