import assert from "node:assert/strict";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";
import { NOT_DEFAULT_AGENT } from "./event_rows.ts";
import { EVENT_MIGRATIONS } from "./event_schema.ts";
import { migrateSqlite } from "./sqlite_db.ts";
import { DatabaseSync } from "node:sqlite";

async function tempStore(): Promise<{ store: SqliteStore; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-sqlite-" });
  return { store: SqliteStore.open(`${dir}/events.db`), dir };
}

Deno.test("sqlite store - every query uses its index (EXPLAIN QUERY PLAN)", async () => {
  const { store, dir } = await tempStore();
  try {
    const plan = (sql: string, ...args: (string | number)[]) =>
      (store.connection.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as {
        detail: string;
      }[])
        .map((r) => r.detail).join(" | ");
    const cases: [string, string, (string | number)[]][] = [
      [
        "SELECT id FROM events WHERE priority = ? AND +timestamp >= ? ORDER BY id DESC LIMIT ?",
        "events_bucket_id",
        [1, 0, 200],
      ],
      [
        "SELECT id FROM events WHERE source_app = ? ORDER BY id DESC LIMIT ?",
        "events_app_id",
        ["a", 10],
      ],
      [
        "SELECT id FROM events WHERE session_id = ? ORDER BY id DESC LIMIT ?",
        "events_session_id",
        ["s", 10],
      ],
      [
        "SELECT id FROM events WHERE hook_event_type = ? ORDER BY id DESC LIMIT ?",
        "events_type_id",
        ["Stop", 10],
      ],
      [
        "SELECT id FROM events WHERE priority = ? ORDER BY id DESC LIMIT ?",
        "events_bucket_id",
        [1, 10],
      ],
      [
        "SELECT id FROM events WHERE priority = ? AND timestamp < ? LIMIT ?",
        "events_bucket_time",
        [0, 5, 1000],
      ],
      ["SELECT id FROM events WHERE event_id = ?", "events_event_id", ["x"]],
      [
        `SELECT id FROM events WHERE agent = ? AND ${NOT_DEFAULT_AGENT} ORDER BY id DESC LIMIT ?`,
        "events_agent_id",
        ["codex", 10],
      ],
      [
        "SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?",
        "INTEGER PRIMARY KEY",
        [0, 10],
      ],
    ];
    for (const [sql, index, args] of cases) {
      const detail = plan(sql, ...args);
      assert.match(detail, new RegExp(index), `${sql}\n  plan: ${detail}`);
      assert.doesNotMatch(
        detail,
        /SCAN events(?! USING)/,
        `${sql} scans the table: ${detail}`,
      );
      assert.doesNotMatch(detail, /TEMP B-TREE/, `${sql} sorts: ${detail}`);
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - insert, get with chat, dedupe by event_id, reopen keeps data", async () => {
  const { store, dir } = await tempStore();
  try {
    const [a, b] = await store.insertBatch([
      event({
        chat: [{ role: "user", content: "hi" }],
        summary: "s",
        model_name: "m",
      }),
      event({ event_id: "e-1", priority: 1, hook_event_type: "Stop" }),
    ]);
    assert.equal(a.duplicate, false);
    assert.equal(b.event.id, a.event.id + 1);
    const again = await store.insertBatch([
      event({ event_id: "e-1" }),
      event({ event_id: "e-1" }),
    ]);
    assert.deepEqual(again.map((r) => r.duplicate), [true, true]);
    assert.equal(again[0].event.id, b.event.id);
    assert.equal(again[0].event.hook_event_type, "Stop");
    const full = await store.get(a.event.id);
    assert.deepEqual(full?.chat, [{ role: "user", content: "hi" }]);
    assert.equal(full?.summary, "s");
    assert.equal(await store.get(999), null);
    await store.close();
    const reopened = SqliteStore.open(`${dir}/events.db`);
    assert.equal(await reopened.maxId(), b.event.id);
    await reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - a failing batch stores nothing", async () => {
  const { store, dir } = await tempStore();
  try {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(
      store.insertBatch([event(), event({ payload: cyclic })]),
    );
    assert.equal(await store.maxId(), 0);
    await store.insertBatch([event()]);
    assert.equal((await store.recent({ limit: 10 })).length, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - a batch over one statement's rows keeps ids, duplicates and all-or-nothing", async () => {
  const { store, dir } = await tempStore();
  try {
    const [old] = await store.insertBatch([event({ event_id: "old" })]);
    const batch = Array.from(
      { length: 250 },
      (_, i) =>
        event({ summary: `n${i}`, event_id: i % 50 === 0 ? `k${i}` : null }),
    );
    batch[120] = event({ event_id: "old", summary: "retry" }); // stored before
    batch[230] = event({ event_id: "k100", summary: "repeat" }); // earlier in this batch
    const results = await store.insertBatch(batch);
    const fresh = results.filter((r) => !r.duplicate).map((r) => r.event.id);
    assert.equal(fresh.length, 248);
    assert.deepEqual(fresh, [...fresh].sort((a, b) => a - b));
    assert.equal(new Set(fresh).size, fresh.length);
    assert.equal(results[120].event.id, old.event.id);
    assert.equal(results[230].event.id, results[100].event.id);
    assert.equal(results[230].event.summary, "n100");
    for (const [i, r] of results.entries()) {
      if (r.duplicate) continue;
      assert.equal((await store.get(r.event.id))?.summary, `n${i}`);
    }
    const max = await store.maxId();
    const bad = Array.from({ length: 250 }, () => event());
    bad[220] = { ...event(), session_id: null } as unknown as typeof bad[0];
    await assert.rejects(store.insertBatch(bad));
    assert.equal(await store.maxId(), max);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - snapshot caps each bucket and honours the retention windows", async () => {
  const { store, dir } = await tempStore();
  try {
    const now = Date.now();
    const hour = 3600_000;
    const events = [
      ...Array.from(
        { length: 250 },
        () => event({ priority: 1, hook_event_type: "Stop" }),
      ),
      ...Array.from({ length: 150 }, () => event()),
      event({ priority: 1, timestamp: now - 25 * hour }),
      event({ priority: 0, timestamp: now - 5 * hour }),
      event({
        priority: 1,
        timestamp: now - 5 * hour,
        session_id: "old-but-kept",
      }),
    ];
    await store.insertBatch(events);
    const snap = await store.snapshot({
      now,
      priorityLimit: 200,
      regularLimit: 100,
      priorityRetentionMs: 24 * hour,
      regularRetentionMs: 4 * hour,
    });
    const priority = snap.priority.map((e) => JSON.parse(e.json));
    const regular = snap.regular.map((e) => JSON.parse(e.json));
    assert.equal(priority.length, 200);
    assert.equal(regular.length, 100);
    assert.ok(
      priority.every((e) => e.priority === 1 && e.timestamp >= now - 24 * hour),
    );
    assert.ok(
      regular.every((e) => e.priority === 0 && e.timestamp >= now - 4 * hour),
    );
    assert.ok(priority[0].id > priority[1].id, "newest first");
    assert.equal(priority[0].session_id, "old-but-kept");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - deleteExpired removes exactly the expired rows, in bounded batches", async () => {
  const { store, dir } = await tempStore();
  try {
    const now = Date.now();
    const hour = 3600_000;
    const rows = [
      ...Array.from(
        { length: 7 },
        () => event({ priority: 1, timestamp: now - 25 * hour }),
      ),
      ...Array.from(
        { length: 3 },
        () => event({ priority: 1, timestamp: now - 23 * hour }),
      ),
      ...Array.from(
        { length: 5 },
        () => event({ priority: 0, timestamp: now - 5 * hour }),
      ),
      ...Array.from(
        { length: 4 },
        () => event({ priority: 0, timestamp: now - 3 * hour }),
      ),
    ];
    await store.insertBatch(rows);
    const first = await store.deleteExpired(now - 24 * hour, now - 4 * hour, 4);
    assert.deepEqual(first, { priority: 4, regular: 4 });
    const second = await store.deleteExpired(
      now - 24 * hour,
      now - 4 * hour,
      4,
    );
    assert.deepEqual(second, { priority: 3, regular: 1 });
    const left = await store.recent({ limit: 100 });
    assert.equal(left.length, 7);
    assert.ok(left.every((e) => e.timestamp >= now - 24 * hour));
    assert.equal(left.filter((e) => e.priority === 0).length, 4);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - recent filters, since and filter options", async () => {
  const { store, dir } = await tempStore();
  try {
    await store.insertBatch([
      event({ source_app: "a", session_id: "s1" }),
      event({
        source_app: "b",
        session_id: "s2",
        hook_event_type: "Stop",
        priority: 1,
      }),
      event({
        source_app: "a",
        session_id: "s2",
        hook_event_type: "Notification",
        priority: 1,
      }),
    ]);
    assert.deepEqual(
      (await store.recent({ limit: 10, source_app: "a" })).map((e) => e.id),
      [3, 1],
    );
    assert.deepEqual(
      (await store.recent({ limit: 10, priority: 1 })).map((e) => e.id),
      [3, 2],
    );
    assert.deepEqual(
      (await store.recent({
        limit: 10,
        session_id: "s2",
        hook_event_type: "Stop",
      })).map((e) => e.id),
      [2],
    );
    assert.deepEqual((await store.recent({ limit: 1 })).map((e) => e.id), [3]);
    assert.deepEqual((await store.since(1, 10)).map((e) => e.id), [2, 3]);
    assert.deepEqual(await store.filterOptions(), {
      source_apps: ["a", "b"],
      session_ids: ["s2", "s1"],
      hook_event_types: ["Notification", "PreToolUse", "Stop"],
    });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - ids are never reused after everything was deleted", async () => {
  const { store, dir } = await tempStore();
  try {
    await store.insertBatch([event({ timestamp: 1 })]);
    await store.deleteExpired(10, 10, 100);
    const [r] = await store.insertBatch([event()]);
    assert.equal(r.event.id, 2);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store - events stored before agents were told apart read back as Claude Code's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-sqlite-" });
  try {
    const old = new DatabaseSync(`${dir}/events.db`);
    migrateSqlite(old, "events", EVENT_MIGRATIONS.sqlite.slice(0, 1));
    old.prepare(
      `INSERT INTO events (source_app, session_id, hook_event_type, payload, timestamp,
         received_at, priority) VALUES ('a', 's', 'Stop', '{}', 1, 1, 1)`,
    ).run();
    old.close();
    const store = SqliteStore.open(`${dir}/events.db`);
    try {
      const [e] = await store.recent({ limit: 1 });
      assert.equal(e.agent, "claude-code");
      assert.equal(e.agent_event, null);
      assert.deepEqual(
        (await store.recent({ limit: 1, agent: "claude-code" })).length,
        1,
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
