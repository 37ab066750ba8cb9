import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { RetentionSweeper } from "./retention.ts";
import { SqliteStore } from "./sqlite_store.ts";

Deno.test("retention - the sweeper deletes what expires as time passes, in batches", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/r.db`);
  const clock = FakeTimers.createClock(1_764_160_000_000);
  const hour = 3600_000;
  const sweeper = new RetentionSweeper(store, {
    priorityMs: 24 * hour,
    regularMs: 4 * hour,
    batchSize: 3,
    now: () => clock.now,
  });
  try {
    const at = clock.now;
    const rows = [
      ...Array.from(
        { length: 5 },
        () => ({ priority: 1 as const, timestamp: at }),
      ),
      ...Array.from(
        { length: 7 },
        () => ({ priority: 0 as const, timestamp: at }),
      ),
    ].map((r) => ({
      ...r,
      source_app: "a",
      session_id: "s",
      hook_event_type: r.priority ? "Stop" : "PreToolUse",
      payload: {},
      received_at: at,
    }));
    await store.insertBatch(rows);
    assert.deepEqual(await sweeper.sweep(), { priority: 0, regular: 0 });
    clock.tick(4 * hour + 1);
    assert.deepEqual(await sweeper.sweep(), { priority: 0, regular: 7 });
    clock.tick(20 * hour);
    assert.deepEqual(await sweeper.sweep(), { priority: 5, regular: 0 });
    assert.deepEqual(sweeper.deleted, { priority: 5, regular: 7 });
    assert.equal((await store.recent({ limit: 100 })).length, 0);
  } finally {
    await sweeper.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
