import assert from "node:assert/strict";
import { Hono } from "hono";
import { loadConfig } from "../lib/base/config.ts";
import { createHookwatch } from "../lib/hookwatch.ts";
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import { decodeStatus } from "../lib/telemetry/otlp.ts";
import { otlpRoutes } from "./otlp.ts";
import { answerError } from "../app.ts";
import { metricsBody } from "../tests/fixtures/otlp/fixtures.ts";

const PROTO = { "content-type": "application/x-protobuf" };

Deno.test("otlp routes - overload answers 429 and shutdown 503, each with Retry-After", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-otlp-route-" });
  const hw = createHookwatch(
    loadConfig({}),
    SqliteStore.open(`${dir}/test.db`),
    { sweep: false },
  );
  try {
    const app = new Hono().route("/", otlpRoutes(hw, { maxInFlight: 1 }))
      .onError(answerError);
    let release!: () => void;
    const slow = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(metricsBody("delta", 1, "protobuf"));
        release = () => controller.close();
      },
    });
    const first = app.request("/v1/metrics", {
      method: "POST",
      headers: PROTO,
      body: slow,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const busy = await app.request("/v1/metrics", {
      method: "POST",
      headers: PROTO,
      body: metricsBody("delta", 2, "protobuf"),
    });
    assert.equal(busy.status, 429);
    assert.equal(busy.headers.get("retry-after"), "1");
    assert.equal(decodeStatus(await busy.bytes()).code, 8);
    release();
    assert.equal((await first).status, 200);

    await hw.close();
    const closing = await app.request("/v1/logs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(closing.status, 503);
    assert.equal(closing.headers.get("retry-after"), "5");
    assert.deepEqual(await closing.json(), {
      code: 14,
      message: "hookwatch is shutting down",
    });
  } finally {
    if (!hw.closing) await hw.close();
    await Deno.remove(dir, { recursive: true });
  }
});
