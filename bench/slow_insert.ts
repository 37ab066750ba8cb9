/**
 * A deliberately slowed build, for proving that `deno task perf:ci` catches regressions:
 * preloaded into the server (`deno run --preload bench/slow_insert.ts main.ts`), it makes every
 * `SqliteStore.insertBatch` wait `HOOKWATCH_SLOW_INSERT_MS` milliseconds per event first.
 *
 * @module
 */
import { SqliteStore } from "../lib/store/sqlite_store.ts";
import type { ClassifiedEvent } from "../common/events.ts";

const ms = Number(Deno.env.get("HOOKWATCH_SLOW_INSERT_MS") ?? 0);
if (ms > 0) {
  const insertBatch = SqliteStore.prototype.insertBatch;
  SqliteStore.prototype.insertBatch = async function (
    this: SqliteStore,
    events: ClassifiedEvent[],
  ) {
    await new Promise((resolve) => setTimeout(resolve, ms * events.length));
    return insertBatch.call(this, events);
  };
}
