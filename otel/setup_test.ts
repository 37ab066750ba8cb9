import assert from "node:assert/strict";
import { setupMetrics } from "./setup.ts";
import { instruments } from "../lib/base/instruments.ts";
import {
  ClientMetricsRegistry,
  parseClientReport,
} from "../lib/ingest/client_metrics.ts";
import { ConfigError } from "../lib/base/config.ts";
import { parseExposition, sampleValue } from "../tests/helpers/exposition.ts";
import {
  IGNORE_WITHOUT_PROMTOOL,
  promtool,
} from "../tests/helpers/promtool.ts";

const ON = { metricsEnabled: true, otlpEndpoint: null };
const stream = { connections: 3, queueBytes: 2048, overheadRatio: 0.02 };

function report(clientId: string, fps = 60) {
  return parseClientReport({
    timestamp: 1,
    clientId,
    metrics: {
      memoryUsage: 20 * 1024 * 1024,
      eventCounts: { priority: 4, regular: 96, total: 100 },
      renderingStats: { fps, frameDrops: 1, frameDropRatio: 0.01 },
      bucketSwitchMs: 4,
      e2eLatencyMs: { p50: 20, p99: 80 },
    },
  });
}

Deno.test("metrics setup - instruments and gauges appear in the scrape with their types", async () => {
  const metrics = setupMetrics(ON, { streamStats: () => stream }, {});
  try {
    instruments.eventsTotal.add(5, { bucket: "priority" });
    instruments.eventsTotal.add(7, { bucket: "regular" });
    instruments.priorityEventsTotal.add(5);
    instruments.regularEventsTotal.add(7);
    instruments.queryDuration.record(0.15, { query: "snapshot" });
    instruments.queryDuration.record(0.002, { query: "snapshot" });
    const text = await metrics.scrape();
    assert.ok(text);
    const exp = parseExposition(text);
    assert.equal(exp.types.get("events_total"), "counter");
    assert.equal(exp.types.get("database_query_duration_seconds"), "histogram");
    assert.equal(exp.types.get("sse_connections_active"), "gauge");
    assert.equal(sampleValue(exp, "events_total", { bucket: "priority" }), 5);
    assert.equal(sampleValue(exp, "events_total", { bucket: "regular" }), 7);
    assert.equal(sampleValue(exp, "priority_events_total"), 5);
    assert.equal(
      sampleValue(exp, "sse_clients_dropped_total"),
      0,
      "zero before any drop",
    );
    assert.equal(
      sampleValue(exp, "events_expired_total", { bucket: "regular" }),
      0,
    );
    assert.equal(sampleValue(exp, "sse_connections_active"), 3);
    assert.equal(sampleValue(exp, "sse_queue_bytes"), 2048);
    assert.equal(sampleValue(exp, "sse_message_overhead_ratio"), 0.02);
    const q = { query: "snapshot" };
    assert.equal(
      sampleValue(exp, "database_query_duration_seconds_bucket", {
        ...q,
        le: "0.1",
      }),
      1,
      "the guide's 100 ms threshold is a bucket boundary",
    );
    assert.equal(
      sampleValue(exp, "database_query_duration_seconds_count", q),
      2,
    );
    const rss = sampleValue(exp, "process_memory_usage_bytes", { type: "rss" });
    assert.ok(rss !== undefined && rss > 1024 * 1024, `rss ${rss}`);
    assert.match(text, /service_name="hookwatch"/);
  } finally {
    await metrics.shutdown();
  }
});

Deno.test("metrics setup - off binds nothing and serves no scrape", async () => {
  const before = { ...instruments };
  const off = setupMetrics(
    { metricsEnabled: false, otlpEndpoint: null },
    { streamStats: () => stream },
    {},
  );
  assert.equal(off.enabled, false);
  assert.equal(await off.scrape(), null);
  for (const [name, instrument] of Object.entries(instruments)) {
    assert.equal(instrument, before[name as keyof typeof before], name);
  }
  await off.shutdown();
});

Deno.test("metrics setup - client gauges per client_id, stale clients leave the export", async () => {
  let now = 1_000_000;
  const clients = new ClientMetricsRegistry({
    staleMs: 300_000,
    now: () => now,
  });
  const metrics = setupMetrics(ON, { streamStats: () => stream, clients }, {});
  try {
    for (let i = 0; i < 1000; i++) clients.record(report(`tab-${i}`));
    now += 200_000;
    clients.record(report("late", 30));
    let exp = parseExposition((await metrics.scrape())!);
    const ids = new Set(
      exp.samples.filter((s) => s.name === "client_fps").map((s) =>
        s.labels.client_id
      ),
    );
    assert.equal(ids.size, 1001);
    assert.equal(sampleValue(exp, "client_fps", { client_id: "late" }), 30);
    assert.equal(
      sampleValue(exp, "client_memory_usage_bytes", { client_id: "tab-7" }),
      20 * 1024 * 1024,
    );
    assert.equal(
      sampleValue(exp, "client_bucket_events", {
        client_id: "tab-7",
        bucket: "regular",
      }),
      96,
    );
    assert.equal(
      sampleValue(exp, "client_bucket_switch_duration_seconds", {
        client_id: "tab-7",
      }),
      0.004,
    );
    assert.equal(
      sampleValue(exp, "event_end_to_end_latency_seconds", {
        client_id: "tab-7",
        percentile: "p99",
      }),
      0.08,
    );
    now += 200_000; // the thousand are 400 s silent, "late" 200 s
    exp = parseExposition((await metrics.scrape())!);
    const left = exp.samples.filter((s) => s.name.startsWith("client_"));
    assert.deepEqual(
      new Set(left.map((s) => s.labels.client_id)),
      new Set(["late"]),
    );
    assert.equal(clients.size, 1);
  } finally {
    await metrics.shutdown();
  }
});

Deno.test({
  name: "metrics setup - the scrape passes promtool check metrics",
  ignore: IGNORE_WITHOUT_PROMTOOL,
  async fn() {
    const clients = new ClientMetricsRegistry();
    clients.record(report("tab-1"));
    const metrics = setupMetrics(
      ON,
      { streamStats: () => stream, clients },
      {},
    );
    try {
      instruments.eventsTotal.add(1, { bucket: "regular" });
      instruments.insertBatchSize.record(3);
      instruments.classificationDuration.record(2e-7);
      const { code, output } = await promtool(["check", "metrics"], {
        stdin: (await metrics.scrape())!,
      });
      assert.equal(code, 0, output);
    } finally {
      await metrics.shutdown();
    }
  },
});

Deno.test("metrics setup - bad OTEL_* values name the variable", () => {
  const otlp = { metricsEnabled: true, otlpEndpoint: "http://127.0.0.1:1" };
  const sources = { streamStats: () => stream };
  assert.throws(
    () => setupMetrics(otlp, sources, { OTEL_METRIC_EXPORT_INTERVAL: "soon" }),
    (e) =>
      e instanceof ConfigError && e.variable === "OTEL_METRIC_EXPORT_INTERVAL",
  );
  assert.throws(
    () => setupMetrics(otlp, sources, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    (e) =>
      e instanceof ConfigError && e.variable === "OTEL_EXPORTER_OTLP_PROTOCOL",
  );
});
