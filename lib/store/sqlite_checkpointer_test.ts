import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "./store_suite.ts";

const framesInWal = (store: SqliteStore) =>
  (store.db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number })
    .log;

Deno.test("sqlite checkpointer - commits never checkpoint; the worker does, and closing leaves no WAL", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/ckpt.db`;
  const store = SqliteStore.open(path, { checkpointInWorker: true });
  try {
    await store.checkpointer!.ready;
    assert.equal(
      (store.db.prepare("PRAGMA wal_autocheckpoint").get() as {
        wal_autocheckpoint: number;
      }).wal_autocheckpoint,
      0,
    );
    for (let i = 0; i < 300; i++) await store.insertBatch([event()]);
    // Three checkpoint intervals: the worker has copied every frame; the next commit starts
    // the WAL over (without the worker it would hold every frame of the 300 commits).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.insertBatch([event()]);
    const frames = framesInWal(store);
    assert.ok(frames < 100, `${frames} frames still in the WAL`);
  } finally {
    await store.close();
  }
  assert.equal(existsSync(`${path}-wal`), false, "the WAL was left behind");
  const reopened = SqliteStore.open(path);
  assert.equal(await reopened.maxId(), 301);
  await reopened.close();
  await Deno.remove(dir, { recursive: true });
});
