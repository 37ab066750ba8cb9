import assert from "node:assert/strict";
import type { StoredEvent } from "../../common/events.ts";
import { CommitFeed } from "./commit_feed.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { event } from "../../tests/helpers/store_suite.ts";
import { log } from "../base/log.ts";

const encoder = new TextEncoder();

Deno.test("commit feed - SQLite: each committed event once, in id order, duplicates left out; a failing observer does not starve the others", async () => {
  const store = SqliteStore.open(":memory:");
  const errors: string[] = [];
  log.configure({ write: (line) => errors.push(line) });
  try {
    const feed = new CommitFeed(store);
    await feed.ready;
    const seen: StoredEvent[] = [];
    feed.observe(() => {
      throw new Error("observer bug");
    });
    feed.observe((events) => seen.push(...events));
    const first = await store.insertBatch([
      event({ event_id: "a" }),
      event({ event_id: "b" }),
    ]);
    const second = await store.insertBatch([event({ event_id: "a" }), event()]);
    assert.equal(second[0].duplicate, true);
    assert.deepEqual(seen.map((e) => e.id), [
      first[0].event.id,
      first[1].event.id,
      second[1].event.id,
    ]);
    assert.equal(errors.length, 2, "the failing observer was logged per batch");
    assert.match(errors[0], /a commit observer failed error="?observer bug/);
    assert.throws(() => new CommitFeed(store), /already listening/);
  } finally {
    log.configure({
      write: (line) => Deno.stderr.writeSync(encoder.encode(line)),
    });
    await store.close();
  }
});
