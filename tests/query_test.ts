import assert from "node:assert/strict";
import { sampleEvent, startServer } from "./helpers/server.ts";
import { startApp } from "./helpers/app.ts";

Deno.test("query - recent filters, limit cap, and 400 on bad parameters", async () => {
  const server = await startApp();
  try {
    await server.postJson(`${server.url}/events/batch`, [
      sampleEvent({ source_app: "a", session_id: "s1" }),
      sampleEvent({
        source_app: "b",
        session_id: "s2",
        hook_event_type: "Stop",
      }),
      sampleEvent({
        source_app: "a",
        session_id: "s2",
        hook_event_type: "Notification",
      }),
    ]);
    const get = async (q: string) => {
      const res = await server.fetch(`${server.url}/events/recent?${q}`);
      return { status: res.status, body: await res.json() };
    };
    assert.deepEqual(
      (await get("source_app=a")).body.map((e: { session_id: string }) =>
        e.session_id
      ),
      ["s2", "s1"],
    );
    assert.equal((await get("priority=1")).body.length, 2);
    assert.equal((await get("priority=regular")).body.length, 1);
    assert.equal((await get("hook_event_type=Stop")).body[0].source_app, "b");
    assert.equal((await get("session_id=s2&source_app=a")).body.length, 1);
    assert.equal((await get("limit=1")).body.length, 1);
    assert.equal(
      (await get("limit=100000")).status,
      200,
      "limit is capped, not refused",
    );
    for (
      const bad of [
        "limit=0",
        "limit=abc",
        "limit=1.5",
        "priority=maybe",
        "hook_event_type=%3Cscript%3E",
        "source_app=",
      ]
    ) {
      const res = await get(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(typeof res.body.error, "string");
    }
  } finally {
    await server.close();
  }
});

Deno.test("query - /events/priority is the dual-bucket snapshot with caps", async () => {
  const server = await startApp();
  try {
    await server.postJson(`${server.url}/events/batch`, [
      ...Array.from(
        { length: 230 },
        () => sampleEvent({ hook_event_type: "Notification" }),
      ),
      ...Array.from({ length: 130 }, () => sampleEvent()),
    ]);
    const snap = await (await server.fetch(`${server.url}/events/priority`))
      .json();
    assert.equal(snap.priority.length, 200);
    assert.equal(snap.regular.length, 100);
    assert.ok(
      snap.priority.every((e: { priority: number }) => e.priority === 1),
    );
    assert.ok(
      snap.regular.every((e: { priority: number }) => e.priority === 0),
    );
  } finally {
    await server.close();
  }
});

Deno.test("query - filter options and event by id", async () => {
  const server = await startApp();
  try {
    await server.postJson(`${server.url}/events/batch`, [
      sampleEvent({ source_app: "b", session_id: "s1" }),
      sampleEvent({
        source_app: "a",
        session_id: "s2",
        hook_event_type: "Stop",
      }),
    ]);
    const options =
      await (await server.fetch(`${server.url}/events/filter-options`))
        .json();
    assert.deepEqual(options, {
      source_apps: ["a", "b"],
      session_ids: ["s2", "s1"],
      hook_event_types: ["PreToolUse", "Stop"],
    });
    assert.equal(
      await server.fetch(`${server.url}/events/999`).then(async (
        r,
      ) => (await r.body?.cancel(), r.status)),
      404,
    );
    assert.equal(
      await server.fetch(`${server.url}/events/abc`).then(async (
        r,
      ) => (await r.body?.cancel(), r.status)),
      400,
    );
    const unknown = await server.fetch(`${server.url}/nope`);
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /no route/);
  } finally {
    await server.close();
  }
});

Deno.test("health - the guide's JSON shape, probes, and readiness", async () => {
  const server = await startApp();
  try {
    const res = await server.fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    const health = await res.json();
    assert.equal(health.status, "healthy");
    for (const check of ["database", "memory", "priority_system", "stream"]) {
      assert.equal(health.checks[check].status, "healthy", check);
    }
    assert.equal(health.checks.priority_system.details.actualPriority, 1);
    assert.equal(typeof health.checks.database.responseTime, "number");
    assert.equal(typeof health.checks.memory.heapUsedMB, "number");
    assert.equal(health.checks.stream.activeConnections, 0);
    assert.equal(
      await server.fetch(`${server.url}/health/live`).then(async (
        r,
      ) => (await r.body?.cancel(), r.status)),
      200,
    );
    assert.equal(
      await server.fetch(`${server.url}/health/ready`).then(async (
        r,
      ) => (await r.body?.cancel(), r.status)),
      200,
    );
  } finally {
    await server.close();
  }
});

Deno.test("config - a bad value stops start-up with a message naming it", async () => {
  for (
    const [name, value] of [["PORT", "eighty"], ["RETENTION_REGULAR", "soon"], [
      "DATABASE_URL",
      "mysql://x",
    ]]
  ) {
    await assert.rejects(
      startServer({ env: { [name]: value } }),
      (error: Error) =>
        error.message.includes(name) && error.message.includes("exited with 1"),
      name,
    );
  }
});

Deno.test("start-up - a busy port or a database that cannot be opened is one line saying what to do, exit 1", async () => {
  const first = await startServer();
  try {
    const failures: { env: Record<string, string>; says: RegExp }[] = [
      {
        env: { PORT: String(first.port) },
        says: new RegExp(
          `cannot start: port ${first.port} on 127\\.0\\.0\\.1 is already in use.*PORT=`,
        ),
      },
      {
        env: { DATABASE_URL: "sqlite:/proc/hookwatch/x.db" },
        says: /DATABASE_URL: cannot open the database: .*\/proc\/hookwatch/,
      },
    ];
    for (const { env, says } of failures) {
      const error = await startServer({ env }).then(
        () => assert.fail("it started"),
        (error: Error) => error,
      );
      const [head, ...output] = error.message.split("\n");
      assert.match(head, /exited with 1 before listening/);
      // Migrations of a fresh database are logged at info level before the listen fails.
      const lines = output.filter((line) =>
        line.trim() !== "" && !/migration applied/.test(line)
      );
      assert.equal(lines.length, 1, `one line, no stack trace: ${output}`);
      assert.match(lines[0], says);
    }
  } finally {
    await first.stop();
  }
});
