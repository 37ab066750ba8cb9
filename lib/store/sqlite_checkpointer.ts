/**
 * Moves most of the SQLite store's WAL checkpointing off the server's thread. With SQLite's
 * automatic checkpoint, the commit that fills the WAL to 1,000 pages copies it back and
 * flushes the disk twice before it returns: about 40 % of the time of a one-event commit on
 * this project's machines, and the slowest commits of all. Here a Worker thread copies the WAL
 * every 100 ms (`sqlite_checkpoint_worker.ts`), and the main connection checkpoints only once
 * the WAL reaches 32 MB, to let it start over ({@linkcode BACKSTOP_PAGES}).
 *
 * A checkpoint that fails (a full disk) is logged and retried at the next interval. If the
 * worker fails to start or dies, the main connection checkpoints automatically again.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { errorFields, log } from "../base/log.ts";

/** SQLite's own default, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The main connection still checkpoints once the WAL holds this many pages (32 MB). Under
 * steady writes the worker's checkpoints never catch up with the newest commit, and the WAL
 * starts over only after a checkpoint that copied every frame: the main connection's, which
 * no write can overtake, finds all but the last ~100 ms copied already.
 */
const BACKSTOP_PAGES = 8000;

/** After a checkpoint the WAL file is cut back to this size (it keeps its largest otherwise). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** A running checkpointer; {@linkcode Checkpointer.stop} before closing the database. */
export interface Checkpointer {
  /** Resolves once the worker has its connection open. */
  readonly ready: Promise<void>;
  /** Closes the worker's connection (at most 2 s), then ends the worker. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `path` (the file `db` has open) in a Worker.
 *
 * @example
 * ```ts
 * const checkpointer = startCheckpointer(db, "./data/hookwatch.db");
 * // … commits checkpoint only past 32 MB of WAL …
 * await checkpointer.stop();
 * db.close();
 * ```
 */
export function startCheckpointer(
  db: DatabaseSync,
  path: string,
): Checkpointer {
  db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const worker = new Worker(
    new URL("./sqlite_checkpoint_worker.ts", import.meta.url),
    { type: "module" },
  );
  let running = true;
  let stopped: (() => void) | null = null;
  let started: () => void = () => {};
  const ready = new Promise<void>((resolve) => started = resolve);
  worker.onmessage = ({ data }) => {
    if (data === "ready") started();
    else if (data === "stopped") stopped?.();
    else log.warn("sqlite checkpoint failed; retrying", { error: data.failed });
  };
  worker.onerror = (event) => {
    event.preventDefault();
    started();
    stopped?.();
    if (!running) return;
    running = false;
    worker.terminate();
    log.error(
      "sqlite checkpoint worker failed; checkpointing on the main thread",
      errorFields(event.error ?? event.message),
    );
    if (db.isOpen) {
      db.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    }
  };
  worker.postMessage({ path });
  return {
    ready,
    async stop() {
      if (!running) return;
      running = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          stopped = resolve;
          worker.postMessage("stop");
        }),
        new Promise<void>((resolve) => timer = setTimeout(resolve, 2000)),
      ]);
      clearTimeout(timer);
      worker.terminate();
    },
  };
}
