/**
 * The metrics SDK: one `MeterProvider` with two readers. The Prometheus exporter is a pull
 * reader whose serializer answers `GET /metrics` inside hookwatch's own server (its HTTP server
 * never starts); an OTLP/HTTP periodic reader pushes the same instruments when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set. The standard
 * `OTEL_*` variables are honoured: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`, `OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL`
 * (`http/protobuf`, the default, or `http/json`), and, read by the exporter itself,
 * `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`, `_TIMEOUT`, `_COMPRESSION`.
 *
 * @module
 */
import {
  type Attributes,
  diag,
  type DiagLogFunction,
  DiagLogLevel,
  ValueType,
} from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type GaugeMetricData,
  MeterProvider,
  type MetricProducer,
  type MetricReader,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  defaultResource,
  detectResources,
  type Resource,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceNameEnvDetector,
} from "@opentelemetry/resources";
import {
  PrometheusExporter,
  PrometheusSerializer,
} from "@opentelemetry/exporter-prometheus";
import { OTLPMetricExporter as OtlpJsonExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OtlpProtoExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { bindInstruments, instruments } from "../lib/base/instruments.ts";
import { type Config, ConfigError } from "../lib/base/config.ts";
import { memoryUsage } from "../lib/health.ts";
import { log as logger } from "../lib/base/log.ts";
import {
  type ClientEntry,
  ClientMetricsRegistry,
} from "../lib/ingest/client_metrics.ts";

/** The stream figures the gauges read (a subset of the broadcaster's `StreamStats`). */
export interface StreamGaugeStats {
  connections: number;
  queueBytes: number;
  /** Bytes of priority metadata ÷ bytes of event frames sent. */
  overheadRatio: number;
}

/** Where the observable gauges read from; the same functions `/health` uses. */
export interface MetricSources {
  streamStats: () => StreamGaugeStats;
  /** Process memory in bytes; defaults to `lib/health.ts`'s `memoryUsage`. */
  memory?: () => { rss: number; heapUsed: number; heapTotal: number };
  /** Database connection pool (PostgreSQL); null or absent for the embedded store. */
  pool?: () => { size: number; busy: number } | null;
  /** Client reports, exported per `client_id` (live clients only); a fresh registry when absent. */
  clients?: ClientMetricsRegistry;
}

/** The running metrics pipeline. */
export interface Metrics {
  readonly enabled: boolean;
  /** True when an OTLP exporter pushes. */
  readonly otlp: boolean;
  /** The dashboards' reports (`POST /api/metrics/client`), kept even when metrics are off. */
  readonly clients: ClientMetricsRegistry;
  /** Every metric in Prometheus text exposition, or null when metrics are off. */
  scrape(): Promise<string | null>;
  /** Pushes a last OTLP export and stops the readers. */
  shutdown(): Promise<void>;
}

/** The `Content-Type` of {@linkcode Metrics.scrape}'s text. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

function positiveMs(
  env: Record<string, string | undefined>,
  variable: string,
  fallback: number,
): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      variable,
      `"${raw}" is not a positive number of milliseconds`,
    );
  }
  return value;
}

function otlpReader(
  env: Record<string, string | undefined>,
  producers: MetricProducer[],
): PeriodicExportingMetricReader {
  const variable = env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL
    ? "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = env[variable]?.trim() || "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new ConfigError(
      variable,
      `"${protocol}" is not supported: use http/protobuf or http/json`,
    );
  }
  const exporter = protocol === "http/json"
    ? new OtlpJsonExporter()
    : new OtlpProtoExporter();
  const exportIntervalMillis = positiveMs(
    env,
    "OTEL_METRIC_EXPORT_INTERVAL",
    60_000,
  );
  const exportTimeoutMillis = Math.min(
    positiveMs(env, "OTEL_METRIC_EXPORT_TIMEOUT", 30_000),
    exportIntervalMillis,
  );
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis,
    exportTimeoutMillis,
    metricProducers: producers,
  });
}

const info: DiagLogFunction = () => {};

/** One stderr line per SDK problem (its error handler hands over exceptions as JSON). */
function log(level: string): DiagLogFunction {
  return (message, ...args) => {
    let text = message;
    try {
      text = JSON.parse(message).message ?? message;
    } catch { /* plain text */ }
    const detail = args.map((a) =>
      a instanceof Error
        ? a.message
        : typeof a === "string"
        ? a
        : JSON.stringify(a)
    ).join(" ");
    logger.write(
      level === "error" ? "error" : "warn",
      `metrics ${level}: ${text}`,
      {
        detail: detail || undefined,
      },
    );
  };
}

function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

type Point = [Attributes, number];

function gauge(
  name: string,
  description: string,
  unit: string,
  points: Point[],
  time: [number, number],
): GaugeMetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([attributes, value]) => ({
      attributes,
      value,
      startTime: time,
      endTime: time,
    })),
  };
}

/** Client gauges, built fresh from the live clients at every collection. */
export function clientMetricData(
  clients: readonly ClientEntry[],
  now: number,
): GaugeMetricData[] {
  const memory: Point[] = [];
  const fps: Point[] = [];
  const dropRatio: Point[] = [];
  const bucketEvents: Point[] = [];
  const bucketSwitch: Point[] = [];
  const classification: Point[] = [];
  const e2e: Point[] = [];
  for (const c of clients) {
    const id = { client_id: c.clientId };
    if (c.memoryUsage !== null) memory.push([id, c.memoryUsage]);
    fps.push([id, c.fps]);
    if (c.frameDropRatio !== null) dropRatio.push([id, c.frameDropRatio]);
    for (const bucket of ["priority", "regular", "total"] as const) {
      bucketEvents.push([{ ...id, bucket }, c.eventCounts[bucket]]);
    }
    if (c.bucketSwitchMs !== null) {
      bucketSwitch.push([id, c.bucketSwitchMs / 1000]);
    }
    if (c.classificationTimeMs !== null) {
      classification.push([id, c.classificationTimeMs / 1000]);
    }
    if (c.e2eLatencyMs !== null) {
      e2e.push([{ ...id, percentile: "p50" }, c.e2eLatencyMs.p50 / 1000]);
      e2e.push([{ ...id, percentile: "p99" }, c.e2eLatencyMs.p99 / 1000]);
    }
  }
  const time = hrTime(now);
  return [
    gauge(
      "client_memory_usage_bytes",
      "Dashboard JS heap in use, as each client reports it",
      "By",
      memory,
      time,
    ),
    gauge("client_fps", "Dashboard rendering frames per second", "", fps, time),
    gauge(
      "client_frame_drop_ratio",
      "Dashboard frames dropped ÷ frames expected",
      "1",
      dropRatio,
      time,
    ),
    gauge(
      "client_bucket_events",
      "Events held in each dashboard bucket",
      "",
      bucketEvents,
      time,
    ),
    gauge(
      "client_bucket_switch_duration_seconds",
      "Time the dashboard took to switch bucket view",
      "s",
      bucketSwitch,
      time,
    ),
    gauge(
      "client_event_classification_duration_seconds",
      "Time the dashboard worker takes to classify one event",
      "s",
      classification,
      time,
    ),
    gauge(
      "event_end_to_end_latency_seconds",
      "Event timestamp to display in a dashboard, p50 and p99 as each client reports them",
      "s",
      e2e,
      time,
    ),
  ].filter((metric) => metric.dataPoints.length > 0);
}

function clientProducer(
  clients: ClientMetricsRegistry,
  resource: Resource,
): MetricProducer {
  return {
    collect: () =>
      Promise.resolve({
        resourceMetrics: {
          resource,
          scopeMetrics: [{
            scope: { name: "hookwatch.client" },
            metrics: clientMetricData(clients.live(), Date.now()),
          }],
        },
        errors: [],
      }),
  };
}

/**
 * Builds the pipeline and binds `lib/base/instruments.ts` to it. With `config.metricsEnabled` false
 * nothing is bound: the instruments stay no-op and {@linkcode Metrics.scrape} returns null.
 *
 * @throws {ConfigError} for a bad `OTEL_*` value.
 * @example
 * ```ts
 * const metrics = setupMetrics(config, { streamStats: () => broadcaster.stats(), clients });
 * const text = await metrics.scrape();
 * ```
 */
export function setupMetrics(
  config: Pick<Config, "metricsEnabled" | "otlpEndpoint">,
  sources: MetricSources,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Metrics {
  const clients = sources.clients ?? new ClientMetricsRegistry();
  if (!config.metricsEnabled) {
    return {
      enabled: false,
      otlp: false,
      clients,
      scrape: () => Promise.resolve(null),
      shutdown: () => Promise.resolve(),
    };
  }
  // Otherwise the SDK is silent: a collector that is down or refuses exports would go unnoticed.
  diag.setLogger(
    {
      error: log("error"),
      warn: log("warning"),
      info,
      debug: info,
      verbose: info,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": "hookwatch" }))
    .merge(
      detectResources({
        detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector],
      }),
    );
  const producers = [clientProducer(clients, resource)];
  const prometheus = new PrometheusExporter({
    preventServerStart: true,
    metricProducers: producers,
  });
  const serializer = new PrometheusSerializer(
    undefined,
    false,
    undefined,
    false,
    true,
  );
  const readers: MetricReader[] = [prometheus];
  const otlpEnabled = Boolean(
    config.otlpEndpoint || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
  );
  if (otlpEnabled) readers.push(otlpReader(env, producers));
  const provider = new MeterProvider({ resource, readers });
  const meter = provider.getMeter("hookwatch");
  bindInstruments(meter);
  // Counters exist from the start at zero, so rate() and alerts see them before the first event.
  for (const bucket of ["priority", "regular"]) {
    instruments.eventsTotal.add(0, { bucket });
    instruments.eventsExpiredTotal.add(0, { bucket });
  }
  instruments.priorityEventsTotal.add(0);
  instruments.regularEventsTotal.add(0);
  instruments.sseClientsDroppedTotal.add(0);

  const memory = sources.memory ?? memoryUsage;
  const connections = meter.createObservableGauge("sse_connections_active", {
    description: "Open /stream connections",
    valueType: ValueType.INT,
  });
  const queueBytes = meter.createObservableGauge("sse_queue_bytes", {
    description: "Bytes queued for stream clients, all clients together",
    unit: "By",
    valueType: ValueType.INT,
  });
  const overhead = meter.createObservableGauge("sse_message_overhead_ratio", {
    description: "Bytes of priority metadata ÷ bytes of event frames sent",
    unit: "1",
  });
  const processMemory = meter.createObservableGauge(
    "process_memory_usage_bytes",
    {
      description:
        "Server process memory, by type (rss, heap_used, heap_total)",
      unit: "By",
      valueType: ValueType.INT,
    },
  );
  const poolUtilization = meter.createObservableGauge(
    "database_pool_utilization_ratio",
    {
      description: "Busy database pool connections ÷ pool size (PostgreSQL)",
      unit: "1",
    },
  );
  meter.addBatchObservableCallback((result) => {
    const pool = sources.pool?.();
    if (pool) result.observe(poolUtilization, pool.busy / pool.size);
    const stream = sources.streamStats();
    result.observe(connections, stream.connections);
    result.observe(queueBytes, stream.queueBytes);
    result.observe(overhead, stream.overheadRatio);
    const mem = memory();
    result.observe(processMemory, mem.rss, { type: "rss" });
    result.observe(processMemory, mem.heapUsed, { type: "heap_used" });
    result.observe(processMemory, mem.heapTotal, { type: "heap_total" });
  }, [connections, queueBytes, overhead, processMemory, poolUtilization]);

  let stopped: Promise<void> | null = null;
  return {
    enabled: true,
    otlp: otlpEnabled,
    clients,
    async scrape() {
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(resourceMetrics);
    },
    shutdown() {
      stopped ??= provider.shutdown();
      return stopped;
    },
  };
}
