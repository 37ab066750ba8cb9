import assert from "node:assert/strict";
import { LiveSnapshot } from "./live_snapshot.ts";
import { jsonOf, streamEventOf } from "./sse.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";
import type { SnapshotQuery } from "../store/store.ts";
import type { ClassifiedEvent } from "../../common/events.ts";

const HOUR = 3_600_000;
const NOW = Date.now();

const query = (): SnapshotQuery => ({
  now: NOW,
  priorityLimit: 3,
  regularLimit: 4,
  priorityRetentionMs: 24 * HOUR,
  regularRetentionMs: 4 * HOUR,
});

/** A real SQLite store whose own feed fills a LiveSnapshot, as `createHookwatch` wires it. */
async function withLive(
  fn: (store: SqliteStore, live: LiveSnapshot) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/live.db`);
  const live = new LiveSnapshot(store, query);
  store.listen((events) => live.observe(events));
  try {
    await fn(store, live);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertSameAsStore(store: SqliteStore, live: LiveSnapshot) {
  const taken = await live.take();
  assert.deepEqual(
    {
      priority: taken.snapshot.priority.map(jsonOf),
      regular: taken.snapshot.regular.map(jsonOf),
    },
    {
      priority: (await store.snapshot(query())).priority.map((e) => e.json),
      regular: (await store.snapshot(query())).regular.map((e) => e.json),
    },
  );
  assert.equal(taken.upTo, await store.maxId());
}

const aged = (priority: 0 | 1, ageMs: number, i: number): ClassifiedEvent =>
  event({ priority, timestamp: NOW - ageMs, summary: `e${i}` });

Deno.test("live snapshot - equals the store's query, for rows stored before it and events fed after, late and expired ones among them", async () => {
  await withLive(async (store, live) => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const batch = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const priority = random() < 0.4 ? 1 : 0;
        // Most are recent; some are older than their bucket's retention, some arrive late.
        const age = random() < 0.2
          ? (priority ? 30 : 5) * HOUR
          : random() * 3 * HOUR;
        return aged(priority, age, i);
      });
    await store.insertBatch(batch(30));
    await assertSameAsStore(store, live);
    for (let round = 0; round < 20; round++) {
      await store.insertBatch(batch(1 + Math.floor(random() * 6)));
      await assertSameAsStore(store, live);
    }
  });
});

Deno.test("live snapshot - asks the store when its newest events are too old to fill a bucket", async () => {
  await withLive(async (store, live) => {
    // Three recent priority events, then thirteen newer ids with expired timestamps: the ring
    // (six, twice the limit, trimmed back to six past twelve) holds only expired ones, yet the
    // store has three to show.
    await store.insertBatch([0, 1, 2].map((i) => aged(1, HOUR, i)));
    await live.take();
    await store.insertBatch(
      Array.from({ length: 13 }, (_, i) => aged(1, 30 * HOUR, 3 + i)),
    );
    const { snapshot } = await live.take();
    assert.deepEqual(
      snapshot.priority.map((e) => streamEventOf(e).summary),
      ["e2", "e1", "e0"],
    );
    await assertSameAsStore(store, live);
  });
});

Deno.test("live snapshot - an event committed while it loads is in it once", async () => {
  await withLive(async (store, live) => {
    await store.insertBatch([aged(0, 1000, 0), aged(1, 1000, 1)]);
    const taking = live.take();
    // The load awaits the store between reading the highest id and the rows.
    await store.insertBatch([aged(0, 500, 2), aged(1, 500, 3)]);
    const { snapshot, upTo } = await taking;
    const ids = [...snapshot.priority, ...snapshot.regular].map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, "no event twice");
    assert.ok(upTo >= 2);
    await assertSameAsStore(store, live);
  });
});

Deno.test("live snapshot - an event the feed delivers after the load read it is in it once (PostgreSQL's feed lags the commit)", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/lag.db`);
  const live = new LiveSnapshot(store, query);
  try {
    const stored =
      (await store.insertBatch([aged(1, 1000, 0), aged(0, 1000, 1)]))
        .map((r) => r.event);
    const before = await live.take();
    live.observe(stored);
    const after = await live.take();
    assert.deepEqual(after, before);
    assert.equal(after.snapshot.priority.length, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
