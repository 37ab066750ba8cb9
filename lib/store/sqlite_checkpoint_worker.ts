/**
 * The SQLite store's checkpointer, in a Worker thread: copies the WAL back into the database
 * every {@linkcode CHECKPOINT_INTERVAL_MS}, so commits on the server's thread rarely wait for a
 * checkpoint and its two disk flushes. PASSIVE: it never waits for, or blocks, a writer or a
 * reader; what it cannot copy yet, the next one does.
 *
 * Started by `sqlite_checkpointer.ts` with `{ path }` as its first message; `"stop"` closes
 * its connection and answers `"stopped"`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** How often the WAL is checkpointed. */
export const CHECKPOINT_INTERVAL_MS = 100;

const scope = self as unknown as {
  onmessage:
    | ((message: MessageEvent<{ path: string } | "stop">) => void)
    | null;
  postMessage(message: unknown): void;
  close(): void;
};

let db: DatabaseSync | null = null;
let timer: ReturnType<typeof setInterval> | undefined;

scope.onmessage = ({ data }) => {
  if (data === "stop") {
    clearInterval(timer);
    db?.close();
    scope.postMessage("stopped");
    scope.close();
    return;
  }
  db = new DatabaseSync(data.path);
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  let failing = false;
  timer = setInterval(() => {
    // A full disk, or the store closing meanwhile: report the first failure of a run of them,
    // and try again next time (the WAL keeps every frame until a checkpoint copies it).
    try {
      checkpoint.get();
      failing = false;
    } catch (error) {
      if (!failing) scope.postMessage({ failed: String(error) });
      failing = true;
    }
  }, CHECKPOINT_INTERVAL_MS);
  scope.postMessage("ready");
};
