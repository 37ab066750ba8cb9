import assert from "node:assert/strict";
import { event, storeSuite } from "../../tests/helpers/store_suite.ts";
import type { StoredEvent } from "../../common/events.ts";
import { poolSizeFromEnv, PostgresStore } from "./postgres_store.ts";
import { EVENT_MIGRATIONS } from "./event_schema.ts";
import {
  postgresIgnored,
  sharedCluster,
  startCluster,
} from "../../tests/helpers/postgres.ts";

const ignore = postgresIgnored();

async function freshStore(): Promise<PostgresStore> {
  const cluster = await sharedCluster();
  return await PostgresStore.connect(await cluster.createDatabase(), {
    poolSize: 4,
  });
}

storeSuite("postgres", async () => {
  const store = await freshStore();
  return {
    store,
    columns: async () =>
      (await store.sql<{ name: string }[]>`
        SELECT column_name AS name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'events'`)
        .map((c) => c.name),
    cleanup: () => store.close(),
  };
}, { ignore });

/** Collects a feed and resolves once it has seen `count` events. */
function collector() {
  const seen: StoredEvent[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  return {
    seen,
    onEvents(events: StoredEvent[]) {
      seen.push(...events);
      if (waiting && seen.length >= waiting.count) waiting.resolve();
    },
    async until(count: number, timeoutMs = 10_000): Promise<void> {
      if (seen.length >= count) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => waiting = { count, resolve }),
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () =>
              reject(new Error(`feed saw ${seen.length} of ${count} events`)),
            timeoutMs,
          )
        ),
      ]).finally(() => clearTimeout(timer));
    },
  };
}

Deno.test({
  name: "postgres store - every query uses its index (EXPLAIN)",
  ignore,
  fn: async () => {
    const store = await freshStore();
    try {
      const sql = store.sql;
      const now = Date.now();
      await sql`INSERT INTO events (source_app, session_id, hook_event_type, payload,
          "timestamp", received_at, priority, event_id)
        SELECT 'app' || (g % 500), 's' || (g % 2000), 'Type' || (g % 300), '{}',
          ${now}::bigint - g * 1000, ${now}::bigint, (g % 7 = 0)::int, CASE WHEN g % 3 = 0 THEN 'e' || g END
        FROM generate_series(1, 30000) g`;
      // Selective filters (as with many apps and sessions): each one should use its index.
      await sql`ANALYZE events`;
      const plan = async (text: string, args: (string | number)[]) =>
        (await sql.unsafe<{ "QUERY PLAN": string }[]>(
          `EXPLAIN ${text}`,
          args,
        )).map((r) => r["QUERY PLAN"]).join("\n");
      const cases: [string, RegExp, (string | number)[]][] = [
        [
          `SELECT id FROM events WHERE priority = $1 AND "timestamp" >= $2 ORDER BY id DESC LIMIT $3`,
          /events_bucket_(id|time)/,
          [1, now - 24 * 3600_000, 200],
        ],
        [
          "SELECT id FROM events WHERE source_app = $1 ORDER BY id DESC LIMIT $2",
          /events_app_id/,
          ["app7", 100],
        ],
        [
          "SELECT id FROM events WHERE session_id = $1 ORDER BY id DESC LIMIT $2",
          /events_session_id/,
          ["s5", 100],
        ],
        [
          "SELECT id FROM events WHERE hook_event_type = $1 ORDER BY id DESC LIMIT $2",
          /events_type_id/,
          ["Type3", 100],
        ],
        [
          "SELECT id FROM events WHERE priority = $1 ORDER BY id DESC LIMIT $2",
          /events_bucket_id/,
          [1, 100],
        ],
        [
          `SELECT id FROM events WHERE priority = $1 AND "timestamp" < $2 LIMIT $3 FOR UPDATE SKIP LOCKED`,
          /events_bucket_time/,
          [0, now - 29990 * 1000, 1000],
        ],
        ["SELECT id FROM events WHERE event_id = $1", /events_event_id/, [
          "e3",
        ]],
        [
          "SELECT id FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
          /events_pkey/,
          [29000, 9007199254740991, 1000],
        ],
      ];
      for (const [text, index, args] of cases) {
        const detail = await plan(text, args);
        assert.match(detail, index, `${text}\n  plan: ${detail}`);
        assert.doesNotMatch(
          detail,
          /Seq Scan/,
          `${text} scans the table: ${detail}`,
        );
      }
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name:
    "postgres store - replicas migrating at once agree on one schema version",
  ignore,
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const stores = await Promise.all(
      [1, 2, 3].map(() => PostgresStore.connect(url, { poolSize: 2 })),
    );
    try {
      const rows = await stores[0].sql<
        { component: string; version: number }[]
      >`
        SELECT component, version FROM schema_migrations`;
      assert.deepEqual([...rows], [{
        component: "events",
        version: EVENT_MIGRATIONS.postgres.length,
      }]);
      const again = await PostgresStore.connect(url, { poolSize: 1 });
      await again.close();
      const [r] = await stores[1].insertBatch([event()]);
      assert.equal(r.event.id, 1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  },
});

Deno.test({
  name:
    "postgres store - every replica's feed gets every event once, in id order, under concurrent inserts",
  ignore,
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const a = await PostgresStore.connect(url, { poolSize: 4 });
    const b = await PostgresStore.connect(url, { poolSize: 4 });
    try {
      const feedA = collector();
      const feedB = collector();
      await a.listen((e) => feedA.onEvents(e));
      await b.listen((e) => feedB.onEvents(e));
      const big = "x".repeat(20_000); // larger than NOTIFY's 8000-byte limit
      const writers = [a, b].flatMap((store, w) =>
        [0, 1, 2, 3].map(async (lane) => {
          for (let i = 0; i < 15; i++) {
            await store.insertBatch(
              Array.from(
                { length: 1 + (i % 4) },
                (_, k) =>
                  event({
                    summary: i === 7 && k === 0
                      ? big
                      : `w${w}-${lane}-${i}-${k}`,
                  }),
              ),
            );
          }
        })
      );
      await Promise.all(writers);
      const total = await a.sql<{ n: number }[]>`
        SELECT count(*)::bigint AS n FROM events`;
      const expected = total[0].n;
      assert.equal(expected, 8 * 36);
      await feedA.until(expected);
      await feedB.until(expected);
      const all = (await a.since(0, 10_000)).map((e) => e.id);
      for (const feed of [feedA, feedB]) {
        assert.deepEqual(feed.seen.map((e) => e.id), all);
      }
      assert.ok(feedB.seen.some((e) => e.summary === big));
      assert.equal(await b.maxId(), all.at(-1));
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "postgres store - replicas sweeping retention at once delete each expired row once",
  ignore,
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const stores = await Promise.all(
      [1, 2, 3].map(() => PostgresStore.connect(url, { poolSize: 2 })),
    );
    try {
      const now = Date.now();
      const old = Array.from(
        { length: 500 },
        (_, i) => event({ timestamp: now - 5 * 3600_000 - i }),
      );
      await stores[0].insertBatch([...old, event({ summary: "keep" })]);
      const sweep = async (store: PostgresStore) => {
        let n = 0;
        while (true) {
          const round = await store.deleteExpired(
            now - 24 * 3600_000,
            now - 4 * 3600_000,
            50,
          );
          n += round.regular;
          if (round.regular === 0) return n;
        }
      };
      const deleted = await Promise.all(stores.map(sweep));
      assert.equal(deleted.reduce((s, n) => s + n, 0), 500);
      const left = await stores[1].recent({ limit: 10 });
      assert.deepEqual(left.map((e) => e.summary), ["keep"]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  },
});

Deno.test({
  name:
    "postgres store - pool size comes from DATABASE_POOL_SIZE and busy connections are counted",
  ignore,
  fn: async () => {
    assert.equal(poolSizeFromEnv({}), 10);
    assert.equal(poolSizeFromEnv({ DATABASE_POOL_SIZE: "25" }), 25);
    for (const bad of ["0", "abc", "2.5", "5000"]) {
      assert.throws(
        () => poolSizeFromEnv({ DATABASE_POOL_SIZE: bad }),
        /DATABASE_POOL_SIZE/,
      );
    }
    const store = await freshStore();
    try {
      assert.deepEqual(store.poolStats(), { size: 4, busy: 0 });
      const slow = Promise.all(
        [1, 2].map(() => store.sql`SELECT pg_sleep(0.3)`),
      );
      const reads = Promise.all(
        [1, 2, 3].map(() =>
          store.recent({ limit: 1 }).then(() => store.sql`SELECT pg_sleep(0)`)
        ),
      );
      // Three store queries queued at once: the pool counts them busy until they answer.
      assert.equal(store.poolStats().busy, 3);
      await reads;
      await slow;
      assert.deepEqual(store.poolStats(), { size: 4, busy: 0 });
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name:
    "postgres store - while the database is down ping fails; after restart it recovers and the feed catches up",
  ignore,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const a = await PostgresStore.connect(url, {
      poolSize: 2,
      pingTimeoutMs: 1000,
    });
    const b = await PostgresStore.connect(url, { poolSize: 2 });
    try {
      const feed = collector();
      await a.listen((e) => feed.onEvents(e));
      await b.insertBatch([event({ summary: "before" })]);
      await feed.until(1);
      await cluster.pause();
      try {
        await assert.rejects(a.ping());
        await assert.rejects(b.insertBatch([event({ summary: "lost" })]));
      } finally {
        await cluster.start();
      }
      await a.ping();
      await b.insertBatch([event({ summary: "after-1" })]);
      await b.insertBatch([event({ summary: "after-2" })]);
      await feed.until(3, 20_000);
      assert.deepEqual(feed.seen.map((e) => e.summary), [
        "before",
        "after-1",
        "after-2",
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "postgres store - an insert waits for an earlier open insert, so commit order is id order",
  ignore,
  fn: async () => {
    const url = await (await sharedCluster()).createDatabase();
    const a = await PostgresStore.connect(url, { poolSize: 2 });
    const b = await PostgresStore.connect(url, { poolSize: 2 });
    try {
      const feed = collector();
      await b.listen((e) => feed.onEvents(e));
      let inserted!: () => void;
      const holding = new Promise<void>((resolve) => inserted = resolve);
      const slow = a.sql.begin(async (tx) => {
        await tx`INSERT INTO events (source_app, session_id, hook_event_type, payload,
            "timestamp", received_at, priority)
          VALUES ('app', 's', 'Stop', '{}', 0, 0, 1)`;
        inserted();
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      await holding;
      const [later] = await b.insertBatch([event({ summary: "later" })]);
      await slow;
      await feed.until(2);
      assert.deepEqual(feed.seen.map((e) => e.id), [
        later.event.id - 1,
        later.event.id,
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "postgres store - an acknowledged batch survives PostgreSQL crashing right after it",
  ignore,
  fn: async () => {
    // Its own cluster: crashing the shared one would fail the other tests of this file.
    const cluster = await startCluster();
    try {
      const url = await cluster.createDatabase();
      const acknowledged: number[] = [];
      for (let round = 0; round < 4; round++) {
        const store = await PostgresStore.connect(url, { poolSize: 2 });
        const batch = await store.insertBatch(
          Array.from(
            { length: 20 },
            (_, i) => event({ summary: `${round}-${i}` }),
          ),
        );
        await cluster.crash();
        acknowledged.push(...batch.map((r) => r.event.id));
        await store.close().catch(() => {});
        await cluster.start();
      }
      const check = await PostgresStore.connect(url, { poolSize: 1 });
      try {
        const stored = await check.sql<{ id: number }[]>`
          SELECT id FROM events WHERE id = ANY(${acknowledged}::bigint[])`;
        assert.equal(
          stored.length,
          acknowledged.length,
          "acknowledged, then lost",
        );
      } finally {
        await check.close();
      }
    } finally {
      await cluster.destroy();
    }
  },
});
