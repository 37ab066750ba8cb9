/**
 * Session aggregates with two hookwatch processes on one PostgreSQL database: every replica
 * reads the same, and a restart of both forgets nothing.
 */
import assert from "node:assert/strict";
import {
  postJson,
  sampleEvent,
  startServer,
  type TestServer,
} from "./helpers/server.ts";
import { postgresIgnored, sharedCluster } from "./helpers/postgres.ts";
import { logBodies, metricsBody } from "./fixtures/otlp/fixtures.ts";
import {
  LINES_ADDED,
  PROMPTS,
  SESSION_ID,
  totals,
} from "./fixtures/otlp/scenario.ts";

Deno.test({
  name:
    "sessions replicas - hook events posted to A count in B's sessions, once",
  ignore: postgresIgnored(),
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        startServer({ env: { DATABASE_URL: url, DATABASE_POOL_SIZE: "4" } })
      ),
    );
    try {
      for (const type of ["UserPromptSubmit", "PreToolUse", "Stop"]) {
        const res = await postJson(
          `${a.url}/events`,
          sampleEvent({
            source_app: "pg-app",
            session_id: "pg-session",
            hook_event_type: type,
          }),
        );
        assert.equal(res.status, 200);
      }
      const deadline = Date.now() + 10_000;
      for (const server of [a, b]) {
        let session;
        while (Date.now() < deadline) {
          const body = await (await fetch(`${server.url}/sessions`)).json();
          session = body.sessions.find((s: { session_id: string }) =>
            s.session_id === "pg-session"
          );
          if (session?.events.priority === 2) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(session?.source_app, "pg-app");
        assert.deepEqual(session.events, { priority: 2, regular: 1, otel: 0 });
        assert.equal(session.state, "stopped");
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name:
    "sessions replicas - telemetry posted to A gives B the same cost, tokens and prompts, and both keep them across a restart",
  ignore: postgresIgnored(),
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const env = { DATABASE_URL: url, DATABASE_POOL_SIZE: "4" };
    const start = () => Promise.all([0, 1].map(() => startServer({ env })));
    let [a, b] = await start();
    try {
      const hook = await postJson(
        `${a.url}/events`,
        sampleEvent({
          source_app: "pg-app",
          session_id: SESSION_ID,
          hook_event_type: "UserPromptSubmit",
          payload: { prompt_id: PROMPTS[0] },
        }),
      );
      assert.equal(hook.status, 200);
      for (const body of logBodies("json")) {
        const res = await fetch(`${a.url}/v1/logs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      const metrics = await fetch(`${a.url}/v1/metrics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: metricsBody("cumulative", 2, "json"),
      });
      assert.equal(metrics.status, 200);
      await metrics.body?.cancel();

      const t = totals();
      const seen = async (server: TestServer) => {
        const list = await (await fetch(`${server.url}/sessions`)).json();
        const detail = await (await fetch(
          `${server.url}/sessions/${SESSION_ID}`,
        )).json();
        return { list: list.sessions, detail };
      };
      const check = async (server: TestServer, label: string) => {
        const { list, detail } = await seen(server);
        assert.deepEqual(
          list.map((s: { session_id: string }) => s.session_id),
          [SESSION_ID],
          `${label}: GET /sessions lists the session`,
        );
        assert.ok(
          Math.abs(detail.cost_usd - t.cost_usd) < 1e-9,
          `${label}: cost ${detail.cost_usd}`,
        );
        assert.equal(detail.tokens.input, t.input, label);
        assert.equal(detail.tokens.cache_read, t.cache_read, label);
        assert.equal(detail.requests, 3, label);
        assert.equal(detail.source_app, "pg-app", label);
        assert.equal(detail.lines_of_code.added, LINES_ADDED, label);
        assert.deepEqual(
          detail.prompts.map((p: { prompt_id: string }) => p.prompt_id),
          [...PROMPTS],
          label,
        );
        assert.equal(detail.prompts[0].hook_events, 1, label);
        return detail;
      };
      const onA = await check(a, "A");
      const onB = await check(b, "B");
      assert.deepEqual(onB, onA);
      await Promise.all([a.stop(), b.stop()]);
      [a, b] = await start();
      assert.deepEqual(await check(a, "A after restart"), onA);
      assert.deepEqual(await check(b, "B after restart"), onA);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});
