import assert from "node:assert/strict";
import { GroupCommitter } from "./group_commit.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { InsertResult } from "../store/store.ts";
import type { ClassifiedEvent } from "../../common/events.ts";

function event(i: number): ClassifiedEvent {
  return {
    source_app: "app",
    session_id: `s${i}`,
    hook_event_type: "PreToolUse",
    payload: {},
    timestamp: Date.now(),
    received_at: Date.now(),
    priority: 0,
  };
}

/** A real SQLite store that records the size of each transaction. */
function countingStore(path: string): SqliteStore & { transactions: number[] } {
  const store = Object.assign(SqliteStore.open(path), {
    transactions: [] as number[],
  });
  const insert = store.insertBatch.bind(store);
  store.insertBatch = (events: ClassifiedEvent[]): Promise<InsertResult[]> => {
    store.transactions.push(events.length);
    return insert(events);
  };
  return store;
}

Deno.test("group commit - submissions in one turn share one transaction, answered in order", async () => {
  const dir = await Deno.makeTempDir();
  const store = countingStore(`${dir}/g.db`);
  const published: number[] = [];
  const committer = new GroupCommitter(store, {
    onCommitted: (events) => published.push(...events.map((e) => e.id)),
  });
  try {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => committer.submit([event(i)])),
    );
    assert.deepEqual(store.transactions, [50]);
    assert.deepEqual(
      results.map(([r]) => r.event.session_id),
      results.map((_, i) => `s${i}`),
    );
    assert.deepEqual(published, Array.from({ length: 50 }, (_, i) => i + 1));
  } finally {
    await committer.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group commit - maxBatch splits transactions but never a submission", async () => {
  const dir = await Deno.makeTempDir();
  const store = countingStore(`${dir}/g.db`);
  const committer = new GroupCommitter(store, { maxBatch: 10 });
  try {
    await Promise.all([
      committer.submit(Array.from({ length: 6 }, (_, i) => event(i))),
      committer.submit(Array.from({ length: 6 }, (_, i) => event(i))),
      committer.submit(Array.from({ length: 25 }, (_, i) => event(i))),
    ]);
    assert.deepEqual(store.transactions, [6, 6, 25]);
  } finally {
    await committer.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group commit - a failed transaction rejects its submitters; close drains", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/g.db`);
  const committer = new GroupCommitter(store);
  try {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = committer.submit([{ ...event(0), payload: cyclic }]);
    await assert.rejects(bad);
    const pending = committer.submit([event(1)]);
    await committer.close();
    assert.equal((await pending)[0].event.id, 1);
    await assert.rejects(committer.submit([event(2)]), /closing/);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
