import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";

/** A store that checkpoints in its worker, in a fresh folder; `after` runs once it is closed. */
async function withCheckpointer(
  run: (store: SqliteStore, path: string) => Promise<void>,
  after: (path: string) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/events.db`;
  try {
    const store = SqliteStore.open(path, { checkpointInWorker: true });
    try {
      await store.checkpointer!.ready;
      await run(store, path);
    } finally {
      await store.close();
    }
    await after(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const framesInWal = (store: SqliteStore) =>
  (store.connection.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
    log: number;
  })
    .log;

Deno.test("sqlite checkpointer - the worker checkpoints, commits only past 32 MB of WAL, and closing leaves no WAL", async () => {
  await withCheckpointer(async (store) => {
    // The main connection checkpoints only as a backstop, at 32 MB of WAL.
    assert.equal(
      (store.connection.prepare("PRAGMA wal_autocheckpoint").get() as {
        wal_autocheckpoint: number;
      }).wal_autocheckpoint,
      8000,
    );
    for (let i = 0; i < 300; i++) await store.insertBatch([event()]);
    // Three checkpoint intervals: the worker has copied every frame; the next commit starts
    // the WAL over (without the worker it would hold every frame of the 300 commits).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.insertBatch([event()]);
    const frames = framesInWal(store);
    assert.ok(frames < 100, `${frames} frames still in the WAL`);
  }, async (path) => {
    assert.equal(existsSync(`${path}-wal`), false, "the WAL was left behind");
    const reopened = SqliteStore.open(path);
    assert.equal(await reopened.maxId(), 301);
    await reopened.close();
  });
});

Deno.test("sqlite checkpointer - under writes that never pause, the WAL stays bounded", async () => {
  await withCheckpointer(async (store, path) => {
    // About 32 KB of WAL per one-event commit (the row and its index pages): 6,000 commits
    // write 190 MB of it, as fast as this loop goes. The worker alone never lets the WAL start
    // over while commits keep coming; with the backstop it stays near 60 MB here.
    const wal = () => Deno.statSync(`${path}-wal`).size;
    let largest = 0;
    for (let i = 0; i < 6000; i++) {
      await store.insertBatch([event({ summary: `steady-${i}` })]);
      if (i % 100 === 0) largest = Math.max(largest, wal());
    }
    largest = Math.max(largest, wal());
    assert.ok(
      largest < 100e6,
      `the WAL grew to ${(largest / 1e6).toFixed(1)} MB`,
    );
  });
});
