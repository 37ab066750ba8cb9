import assert from "node:assert/strict";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";
import { clientReport } from "./helpers/metrics_traffic.ts";

// deno-lint-ignore no-explicit-any -- OTLP JSON documents
type Json = any;

interface Export {
  path: string;
  contentType: string;
  headers: Headers;
  body: Uint8Array;
  json: Json | null;
}

/** A small OTLP/HTTP receiver on loopback that keeps every request. */
function receiver() {
  const exports: Export[] = [];
  let notify = () => {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      const contentType = req.headers.get("content-type") ?? "";
      exports.push({
        path: new URL(req.url).pathname,
        contentType,
        headers: req.headers,
        body,
        json: contentType.includes("json")
          ? JSON.parse(new TextDecoder().decode(body))
          : null,
      });
      notify();
      return Response.json({}, { status: 200 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    exports,
    /** Waits until `predicate` holds for some export. */
    async until(predicate: (e: Export) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = exports.findLast(predicate);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no matching export among ${exports.length}`);
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          notify = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
    },
    close: () => server.shutdown(),
  };
}

/** Every metric of an OTLP JSON export, by name. */
function metricsOf(json: Json): Map<string, Json> {
  const byName = new Map<string, Json>();
  for (const rm of json.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) byName.set(m.name, m);
    }
  }
  return byName;
}

function attrs(point: Json): Record<string, string> {
  return Object.fromEntries(
    (point.attributes ?? []).map((a: Json) => [
      a.key,
      a.value.stringValue ?? String(Object.values(a.value)[0]),
    ]),
  );
}

function pointValue(
  metric: Json,
  labels: Record<string, string> = {},
): number | undefined {
  const data = metric.sum ?? metric.gauge;
  const point = data.dataPoints.find((p: Json) =>
    Object.entries(labels).every(([k, v]) => attrs(p)[k] === v)
  );
  return point === undefined
    ? undefined
    : Number(point.asDouble ?? point.asInt);
}

function resourceAttrs(json: Json): Record<string, string> {
  return attrs(json.resourceMetrics[0].resource);
}

const hasEvents = (n: number) => (e: Export) => {
  if (!e.json) return false;
  const events = metricsOf(e.json).get("events_total");
  return events !== undefined &&
    pointValue(events, { bucket: "priority" }) === n;
};

Deno.test("otlp - metric points arrive at an OTLP/HTTP JSON receiver with the right names and values", async () => {
  const otlp = receiver();
  const server = await startServer({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json",
      OTEL_METRIC_EXPORT_INTERVAL: "200",
      OTEL_SERVICE_NAME: "hookwatch-otlp-test",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
      OTEL_EXPORTER_OTLP_HEADERS: "x-hookwatch-test=yes",
    },
  });
  try {
    for (const type of ["Stop", "Notification", "Stop"]) {
      await postJson(
        `${server.url}/events`,
        sampleEvent({ hook_event_type: type }),
      );
    }
    for (let i = 0; i < 4; i++) {
      await postJson(
        `${server.url}/events`,
        sampleEvent({ hook_event_type: "PreToolUse" }),
      );
    }
    assert.equal(
      (await postJson(
        `${server.url}/api/metrics/client`,
        clientReport("tab-otlp", 3e7),
      )).status,
      204,
    );
    // An export taken between the posts can show the 3 priority events before all 4 regular.
    const got = await otlp.until((e) =>
      hasEvents(3)(e) &&
      pointValue(metricsOf(e.json).get("events_total"), {
          bucket: "regular",
        }) === 4
    );
    assert.equal(got.path, "/v1/metrics");
    assert.match(got.contentType, /^application\/json/);
    assert.equal(got.headers.get("x-hookwatch-test"), "yes");
    const resource = resourceAttrs(got.json);
    assert.equal(resource["service.name"], "hookwatch-otlp-test");
    assert.equal(resource["deployment.environment"], "test");

    const metrics = metricsOf(got.json);
    const events = metrics.get("events_total");
    assert.equal(events.sum.isMonotonic, true);
    assert.equal(pointValue(events, { bucket: "regular" }), 4);
    assert.equal(pointValue(metrics.get("priority_events_total")), 3);
    assert.equal(pointValue(metrics.get("regular_events_total")), 4);
    assert.equal(
      pointValue(metrics.get("events_processed_total"), {
        hook_event_type: "Stop",
      }),
      2,
    );
    const batch =
      metrics.get("database_insert_batch_size").histogram.dataPoints[0];
    assert.equal(Number(batch.sum), 7, "every committed event");
    const query = metrics.get("database_query_duration_seconds");
    assert.equal(query.unit, "s");
    assert.ok(
      query.histogram.dataPoints.some((p: Json) =>
        attrs(p).query === "insert_batch"
      ),
    );
    assert.equal(pointValue(metrics.get("sse_connections_active")), 0);
    const rss = pointValue(metrics.get("process_memory_usage_bytes"), {
      type: "rss",
    })!;
    assert.ok(rss > 10e6, `rss ${rss}`);
    assert.equal(
      pointValue(metrics.get("client_memory_usage_bytes"), {
        client_id: "tab-otlp",
      }),
      3e7,
    );
  } finally {
    await server.stop();
    await otlp.close();
  }
});

Deno.test("otlp - the default http/protobuf export arrives, and SIGTERM pushes a last one", async () => {
  const otlp = receiver();
  const server = await startServer({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_METRIC_EXPORT_INTERVAL: "600000", // no periodic export during the test
    },
  });
  try {
    await postJson(
      `${server.url}/events`,
      sampleEvent({ hook_event_type: "Stop" }),
    );
    assert.equal(otlp.exports.length, 0);
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0);
    await otlp.close();
  }
  assert.equal(otlp.exports.length, 1, "one export, at shutdown");
  const [last] = otlp.exports;
  assert.equal(last.path, "/v1/metrics");
  assert.equal(last.contentType, "application/x-protobuf");
  // Protobuf carries names as plain UTF-8 strings.
  const body = new TextDecoder("utf-8", { fatal: false }).decode(last.body);
  for (
    const name of [
      "events_total",
      "priority_events_total",
      "service.name",
      "hookwatch",
    ]
  ) {
    assert.ok(body.includes(name), `${name} in the protobuf body`);
  }
});

Deno.test("otlp - an unsupported OTLP protocol stops start-up naming the variable", async () => {
  await assert.rejects(
    startServer({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      },
    }),
    /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/,
  );
});

Deno.test("otlp - a collector refusing exports is reported on stderr in one readable line", async () => {
  const refusing = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      await req.body?.cancel();
      return new Response("no", { status: 400 });
    },
  );
  const server = await startServer({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${refusing.addr.port}`,
      OTEL_METRIC_EXPORT_INTERVAL: "100",
    },
  });
  try {
    const deadline = Date.now() + 10_000;
    while (
      !server.output().includes("export failed") && Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const line = server.output().split("\n").find((l) =>
      l.includes("export failed")
    );
    assert.match(
      line ?? "",
      /^hookwatch: metrics error: .*metrics export failed.*Bad Request/,
    );
    assert.equal(
      (await fetch(`${server.url}/health/live`)).status,
      200,
      "still serving",
    );
  } finally {
    await server.stop();
    await refusing.shutdown();
  }
});
