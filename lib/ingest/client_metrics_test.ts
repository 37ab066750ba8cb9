import assert from "node:assert/strict";
import {
  ClientMetricsError,
  ClientMetricsRegistry,
  parseClientReport,
} from "./client_metrics.ts";

const minimal = {
  timestamp: 1764160000000,
  clientId: "tab-1",
  metrics: {
    memoryUsage: 12_000_000,
    eventCounts: { priority: 3, regular: 90, total: 93 },
    renderingStats: { fps: 59, frameDrops: 2 },
    lastCleanup: 1764160000000,
  },
};

function fieldOf(body: unknown): string {
  try {
    parseClientReport(body);
  } catch (error) {
    assert.ok(error instanceof ClientMetricsError);
    return error.field;
  }
  assert.fail("accepted");
}

Deno.test("client metrics - the guide's minimal form is accepted", () => {
  const report = parseClientReport(minimal);
  assert.equal(report.clientId, "tab-1");
  assert.equal(report.memoryUsage, 12_000_000);
  assert.equal(report.fps, 59);
  assert.equal(report.frameDropRatio, null);
  assert.equal(report.e2eLatencyMs, null);
});

Deno.test("client metrics - the full form is accepted", () => {
  const report = parseClientReport({
    ...minimal,
    metrics: {
      ...minimal.metrics,
      renderingStats: { fps: 60, frameDrops: 1, frameDropRatio: 0.005 },
      classificationTimeMs: 0.002,
      bucketSwitchMs: 6,
      e2eLatencyMs: { p50: 18, p99: 45 },
    },
  });
  assert.equal(report.frameDropRatio, 0.005);
  assert.deepEqual(report.e2eLatencyMs, { p50: 18, p99: 45 });
  assert.equal(report.bucketSwitchMs, 6);
});

Deno.test("client metrics - bad bodies name the field", () => {
  const m = minimal.metrics;
  assert.equal(fieldOf(null), "body");
  assert.equal(fieldOf({ ...minimal, clientId: "" }), "clientId");
  assert.equal(fieldOf({ ...minimal, clientId: "<script>" }), "clientId");
  assert.equal(fieldOf({ ...minimal, clientId: "x".repeat(129) }), "clientId");
  assert.equal(fieldOf({ ...minimal, timestamp: "now" }), "timestamp");
  assert.equal(fieldOf({ ...minimal, metrics: [] }), "metrics");
  assert.equal(
    fieldOf({ ...minimal, metrics: { ...m, memoryUsage: -1 } }),
    "metrics.memoryUsage",
  );
  assert.equal(
    fieldOf({ ...minimal, metrics: { ...m, eventCounts: undefined } }),
    "metrics.eventCounts",
  );
  assert.equal(
    fieldOf({
      ...minimal,
      metrics: { ...m, eventCounts: { ...m.eventCounts, regular: 1.5 } },
    }),
    "metrics.eventCounts.regular",
  );
  assert.equal(
    fieldOf({
      ...minimal,
      metrics: { ...m, renderingStats: { fps: NaN, frameDrops: 0 } },
    }),
    "metrics.renderingStats.fps",
  );
  assert.equal(
    fieldOf({
      ...minimal,
      metrics: {
        ...m,
        renderingStats: { fps: 60, frameDrops: 0, frameDropRatio: 2 },
      },
    }),
    "metrics.renderingStats.frameDropRatio",
  );
  assert.equal(
    fieldOf({ ...minimal, metrics: { ...m, e2eLatencyMs: { p50: 1 } } }),
    "metrics.e2eLatencyMs.p99",
  );
  assert.equal(
    fieldOf({
      ...minimal,
      metrics: { ...m, e2eLatencyMs: { p50: -4e6, p99: 1 } },
    }),
    "metrics.e2eLatencyMs.p50",
  );
});

Deno.test("client metrics - a latency made negative by clock skew reads as 0, not a 400", () => {
  const report = parseClientReport({
    ...minimal,
    metrics: { ...minimal.metrics, e2eLatencyMs: { p50: -40, p99: 12 } },
  });
  assert.deepEqual(report.e2eLatencyMs, { p50: 0, p99: 12 });
});

Deno.test("client metrics - latest report per client, stale clients expire, count is capped", () => {
  let now = 0;
  const registry = new ClientMetricsRegistry({
    staleMs: 1000,
    maxClients: 3,
    now: () => now,
  });
  const at = (clientId: string, fps: number) =>
    registry.record(parseClientReport({
      ...minimal,
      clientId,
      metrics: { ...minimal.metrics, renderingStats: { fps, frameDrops: 0 } },
    }));
  at("a", 10);
  now = 100;
  at("b", 20);
  at("a", 11);
  assert.deepEqual(registry.live().map((c) => [c.clientId, c.fps]), [
    ["b", 20],
    ["a", 11],
  ]);
  at("c", 30);
  at("d", 40); // over the cap: "b", silent longest, goes
  assert.deepEqual(registry.live().map((c) => c.clientId), ["a", "c", "d"]);
  now = 1100; // all reported at 100: stale now
  at("e", 50);
  assert.deepEqual(registry.live().map((c) => c.clientId), ["e"]);
});
