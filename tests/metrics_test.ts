import assert from "node:assert/strict";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";
import { openSse } from "./helpers/sse.ts";
import { parseExposition, sampleValue } from "./helpers/exposition.ts";
import { IGNORE_WITHOUT_PROMTOOL, promtool } from "./helpers/promtool.ts";
import { clientReport, traffic } from "./helpers/metrics_traffic.ts";

/** Scrapes `/metrics` of a server or an in-process app. */
async function scrape(
  server: { url: string; fetch: typeof fetch },
  headers: Record<string, string> = {},
) {
  const res = await server.fetch(`${server.url}/metrics`, { headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text };
}

Deno.test("metrics - /metrics after real traffic: names, types and counts per bucket", async () => {
  const server = await startServer();
  const stream = await openSse(`${server.url}/stream`);
  try {
    await stream.next(); // the snapshot: the client is registered
    const expected = await traffic(server.url);
    await stream.until((frames) => frames.length >= 23);
    for (const [id, memory] of [["tab-a", 21e6], ["tab-b", 35e6]] as const) {
      const res = await postJson(
        `${server.url}/api/metrics/client`,
        clientReport(id, memory),
      );
      assert.equal(res.status, 204);
    }

    const { status, type, text } = await scrape(server);
    assert.equal(status, 200);
    assert.match(type ?? "", /^text\/plain; version=0\.0\.4/);
    const exp = parseExposition(text);
    const types: Record<string, string> = {
      events_total: "counter",
      priority_events_total: "counter",
      regular_events_total: "counter",
      events_processed_total: "counter",
      events_expired_total: "counter",
      sse_clients_dropped_total: "counter",
      event_classification_duration_seconds: "histogram",
      database_query_duration_seconds: "histogram",
      database_insert_batch_size: "histogram",
      sse_broadcast_latency_seconds: "histogram",
      sse_connections_active: "gauge",
      sse_queue_bytes: "gauge",
      sse_message_overhead_ratio: "gauge",
      process_memory_usage_bytes: "gauge",
      client_memory_usage_bytes: "gauge",
      client_fps: "gauge",
      client_frame_drop_ratio: "gauge",
      client_bucket_events: "gauge",
      client_bucket_switch_duration_seconds: "gauge",
      event_end_to_end_latency_seconds: "gauge",
    };
    for (const [name, kind] of Object.entries(types)) {
      assert.equal(exp.types.get(name), kind, `# TYPE ${name}`);
    }

    assert.equal(sampleValue(exp, "events_total", { bucket: "priority" }), 9);
    assert.equal(sampleValue(exp, "events_total", { bucket: "regular" }), 14);
    assert.equal(sampleValue(exp, "priority_events_total"), 9);
    assert.equal(sampleValue(exp, "regular_events_total"), 14);
    for (const [hookType, n] of expected) {
      const label = hookType === "CustomThing" ? "other" : hookType;
      assert.equal(
        sampleValue(exp, "events_processed_total", { hook_event_type: label }),
        n,
        hookType,
      );
    }
    assert.equal(
      sampleValue(exp, "database_insert_batch_size_sum"),
      23,
      "every committed event",
    );
    const commits = sampleValue(exp, "database_insert_batch_size_count")!;
    assert.ok(
      commits >= 1 && commits <= 19,
      `${commits} commits for 19 requests`,
    );
    const inserts = sampleValue(exp, "database_query_duration_seconds_count", {
      query: "insert_batch",
    });
    assert.equal(inserts, commits, "one timed insert per commit");
    const classified = sampleValue(
      exp,
      "event_classification_duration_seconds_count",
    )!;
    const classifiedSum = sampleValue(
      exp,
      "event_classification_duration_seconds_sum",
    )!;
    assert.ok(classified >= 19, `${classified} classification records`);
    assert.ok(
      classifiedSum / classified < 1e-3,
      "under the guide's 1 ms per event",
    );
    assert.ok(sampleValue(exp, "sse_broadcast_latency_seconds_count")! >= 1);
    assert.equal(sampleValue(exp, "sse_connections_active"), 1);
    const overhead = sampleValue(exp, "sse_message_overhead_ratio")!;
    assert.ok(overhead > 0 && overhead < 1, `overhead ${overhead}`);
    const rss = sampleValue(exp, "process_memory_usage_bytes", {
      type: "rss",
    })!;
    const heapUsed = sampleValue(exp, "process_memory_usage_bytes", {
      type: "heap_used",
    })!;
    const heapTotal = sampleValue(exp, "process_memory_usage_bytes", {
      type: "heap_total",
    })!;
    assert.ok(rss > 10e6 && rss < 2e9, `rss ${rss}`);
    assert.ok(heapUsed > 0 && heapUsed <= heapTotal);

    assert.equal(
      sampleValue(exp, "client_memory_usage_bytes", { client_id: "tab-b" }),
      35e6,
    );
    assert.equal(sampleValue(exp, "client_fps", { client_id: "tab-a" }), 58);
    assert.equal(
      sampleValue(exp, "client_frame_drop_ratio", { client_id: "tab-a" }),
      0.01,
    );
    assert.equal(
      sampleValue(exp, "client_bucket_events", {
        client_id: "tab-a",
        bucket: "priority",
      }),
      9,
    );
    assert.equal(
      sampleValue(exp, "client_bucket_switch_duration_seconds", {
        client_id: "tab-a",
      }),
      0.007,
    );
    assert.equal(
      sampleValue(exp, "event_end_to_end_latency_seconds", {
        client_id: "tab-b",
        percentile: "p99",
      }),
      0.048,
    );

    // Health reads the same stream figures as the gauges.
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.checks.stream.activeConnections, 1);
  } finally {
    await stream.close();
    await server.stop();
  }
});

Deno.test({
  name: "metrics - a real scrape passes promtool check metrics",
  ignore: IGNORE_WITHOUT_PROMTOOL,
  async fn() {
    const server = await startServer();
    try {
      await traffic(server.url);
      assert.equal(
        (await postJson(
          `${server.url}/api/metrics/client`,
          clientReport("tab-1", 1e7),
        )).status,
        204,
      );
      const { text } = await scrape(server);
      const { code, output } = await promtool(["check", "metrics"], {
        stdin: text,
      });
      assert.equal(code, 0, output);
    } finally {
      await server.stop();
    }
  },
});

Deno.test("metrics - events_expired_total counts what retention deleted, by bucket", async () => {
  const server = await startServer();
  const now = Date.now();
  const old = [
    sampleEvent({ hook_event_type: "PreToolUse", timestamp: now - 5 * 3600e3 }),
    sampleEvent({
      hook_event_type: "PostToolUse",
      timestamp: now - 6 * 3600e3,
    }),
    sampleEvent({ hook_event_type: "Stop", timestamp: now - 25 * 3600e3 }),
    sampleEvent({ hook_event_type: "Stop", timestamp: now - 5 * 3600e3 }), // priority keeps 24 h
    sampleEvent({ hook_event_type: "PreToolUse", timestamp: now }),
  ];
  assert.equal((await postJson(`${server.url}/events/batch`, old)).status, 200);
  await server.stop();
  // The sweeper runs at start: the restarted server deletes what expired meanwhile.
  const again = await startServer({ dbPath: server.dbPath });
  try {
    const read = async () => parseExposition((await scrape(again)).text);
    let exp = await read();
    const deadline = Date.now() + 5000;
    while (
      sampleValue(exp, "events_expired_total", { bucket: "regular" }) !== 2 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      exp = await read();
    }
    assert.equal(
      sampleValue(exp, "events_expired_total", { bucket: "regular" }),
      2,
    );
    assert.equal(
      sampleValue(exp, "events_expired_total", { bucket: "priority" }),
      1,
    );
    assert.ok(
      sampleValue(exp, "database_query_duration_seconds_count", {
        query: "delete_expired",
      })! >= 1,
    );
  } finally {
    await again.stop();
  }
});

Deno.test("metrics - /metrics has its own token; the client route needs some token", async () => {
  const server = await startApp({
    HOOKWATCH_TOKEN: "ingest-token-123",
    HOOKWATCH_METRICS_TOKEN: "metrics-token-456",
  }, { metrics: true });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  try {
    assert.equal((await scrape(server)).status, 401);
    assert.equal(
      (await scrape(server, bearer("wrong-token-123"))).status,
      401,
    );
    const ok = await scrape(server, bearer("metrics-token-456"));
    assert.equal(ok.status, 200);
    assert.match(ok.text, /# TYPE events_total counter/);
    const report = clientReport("tab-1", 1e7);
    assert.equal(
      (await server.postJson(`${server.url}/api/metrics/client`, report))
        .status,
      401,
    );
    assert.equal(
      (await server.postJson(
        `${server.url}/api/metrics/client`,
        report,
        bearer("ingest-token-123"),
      )).status,
      204,
    );
  } finally {
    await server.close();
  }
});

Deno.test("metrics - bad client reports get a 400 naming the field, oversized ones 413", async () => {
  const server = await startApp({}, { metrics: true });
  try {
    const url = `${server.url}/api/metrics/client`;
    const bad = clientReport("tab-1", 1e7);
    bad.metrics.renderingStats.fps = -3;
    let res = await server.postJson(url, bad);
    assert.equal(res.status, 400);
    assert.equal(res.body.field, "metrics.renderingStats.fps");
    res = await server.postJson(url, {
      ...clientReport("tab-1", 1),
      clientId: "<img src=x>",
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.field, "clientId");
    res = await server.postJson(url, "{not json");
    assert.equal(res.status, 400);
    res = await server.postJson(url, {
      ...clientReport("tab-1", 1),
      pad: "x".repeat(20_000),
    });
    assert.equal(res.status, 413);
    const exp = parseExposition((await scrape(server)).text);
    assert.equal(
      exp.samples.some((s) => s.name.startsWith("client_")),
      false,
      "nothing stored",
    );
  } finally {
    await server.close();
  }
});

Deno.test("metrics - HOOKWATCH_METRICS=off: /metrics answers 404, ingest and client reports still work", async () => {
  const server = await startApp({ HOOKWATCH_METRICS: "off" }, {
    metrics: true,
  });
  try {
    const res = await scrape(server);
    assert.equal(res.status, 404);
    assert.match(res.text, /HOOKWATCH_METRICS=off/);
    assert.equal(
      (await server.postJson(`${server.url}/events`, sampleEvent())).status,
      200,
    );
    assert.equal(
      (await server.postJson(
        `${server.url}/api/metrics/client`,
        clientReport("tab-1", 1e7),
      )).status,
      204,
    );
  } finally {
    await server.close();
  }
});
