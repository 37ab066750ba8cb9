/**
 * Session aggregates with two hookwatch processes on one PostgreSQL database.
 */
import assert from "node:assert/strict";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";
import { postgresIgnored, sharedCluster } from "./helpers/postgres.ts";

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
