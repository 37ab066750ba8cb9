/**
 * The embedded store: SQLite through Deno's built-in `node:sqlite`, in WAL mode, its queries
 * (`event_sql.ts`) run through the one {@linkcode Db} of its connection, which the domain's
 * tables share.
 *
 * Durability: a batch's `COMMIT` returns before the HTTP answer is sent, and WAL with
 * `synchronous=NORMAL` keeps every committed transaction across a killed process (the WAL is
 * in the OS's hands once written); only a power loss can take the last transactions.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import { type Db, q } from "./db.ts";
import { migrateSqlite, sqliteDb } from "./sqlite_db.ts";
import { type Checkpointer, startCheckpointer } from "./sqlite_checkpointer.ts";
import { eventJsonOf } from "./event_rows.ts";
import { EVENT_MIGRATIONS } from "./event_schema.ts";
import { SqlEventStore } from "./sql_event_store.ts";
import {
  bucketTx,
  insertTx,
  maxIdTx,
  rangeTx,
  ROWS_PER_INSERT,
} from "./event_sql.ts";
import {
  type EventStore,
  type InsertResult,
  newlyStored,
  type Snapshot,
  type SnapshotQuery,
} from "./store.ts";
import { instruments } from "../base/instruments.ts";
import { stages } from "../base/stages.ts";

/** How long a write waits for another process's lock on the file before failing (busy). */
export const SQLITE_BUSY_TIMEOUT_MS = 250;

/** Options for {@linkcode SqliteStore.open}. */
export interface SqliteOptions {
  /** Build without the query indexes (benchmarks of the guide's "10× with indexes"). */
  withoutIndexes?: boolean;
  /**
   * Checkpoint the WAL in a Worker thread, and inside a commit only past 32 MB of it
   * (`sqlite_checkpointer.ts`); what the server does. A file database only.
   */
  checkpointInWorker?: boolean;
}

/**
 * {@linkcode EventStore} on a SQLite file.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open("./data/hookwatch.db");
 * await store.insertBatch([{ ...event, priority: 1, received_at: Date.now() }]);
 * ```
 */
export class SqliteStore extends SqlEventStore implements EventStore {
  readonly kind = "sqlite" as const;
  readonly db: Db;
  #onCommitted: ((events: StoredEvent[]) => void) | null = null;
  #checkpointer: Checkpointer | null = null;

  private constructor(
    /** The raw connection (tests, benchmarks, backups); the domain uses {@linkcode db}. */
    readonly connection: DatabaseSync,
    readonly path: string,
  ) {
    super();
    this.db = sqliteDb(connection);
  }

  /** Opens (creating when absent) and migrates the database at `path`. */
  static open(path: string, options: SqliteOptions = {}): SqliteStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const connection = new DatabaseSync(path);
    connection.exec("PRAGMA journal_mode = WAL");
    connection.exec("PRAGMA synchronous = NORMAL");
    // node:sqlite waits for a lock synchronously, freezing every request and stream meanwhile:
    // wait briefly, then answer 503 (the sender retries) rather than stall the server.
    connection.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    connection.exec("PRAGMA foreign_keys = ON");
    migrateSqlite(connection, "events", EVENT_MIGRATIONS.sqlite);
    if (options.withoutIndexes) {
      for (
        const name of [
          "bucket_id",
          "bucket_time",
          "app_id",
          "session_id",
          "type_id",
        ]
      ) {
        connection.exec(`DROP INDEX IF EXISTS events_${name}`);
      }
    }
    const store = new SqliteStore(connection, path);
    if (options.checkpointInWorker && path !== ":memory:") {
      store.#checkpointer = startCheckpointer(connection, path);
    }
    return store;
  }

  /** The checkpoint worker, when it checkpoints ({@linkcode SqliteOptions.checkpointInWorker}). */
  get checkpointer(): Checkpointer | null {
    return this.#checkpointer;
  }

  /** Times a query (a synchronous one: the driver's promise is settled when it returns). */
  protected override timed<T>(
    query: string,
    run: () => Promise<T>,
  ): Promise<T> {
    const start = performance.now();
    try {
      return run();
    } finally {
      instruments.queryDuration.record((performance.now() - start) / 1000, {
        query,
      });
    }
  }

  /**
   * One multi-row `INSERT` per 100 events; a batch that fits one statement needs no explicit
   * transaction (a statement is atomic), a larger one runs in `BEGIN IMMEDIATE … COMMIT`.
   */
  insertBatch(events: ClassifiedEvent[]): Promise<InsertResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    const tx = () => insertTx("sqlite", events);
    return this.timed(
      "insert_batch",
      () =>
        events.length > ROWS_PER_INSERT ? this.db.write(tx) : this.db.read(tx),
    ).then((results) => {
      if (stages.on) {
        for (const r of results) stages.mark(r.event.event_id, "committed");
      }
      if (this.#onCommitted) {
        const fresh = newlyStored(results);
        if (fresh.length > 0) this.#onCommitted(fresh);
      }
      return results;
    });
  }

  snapshot(query: SnapshotQuery): Promise<Snapshot> {
    return this.timed("snapshot", () =>
      this.db.read(function* () {
        const bucket = function* (
          priority: 0 | 1,
          retentionMs: number,
          limit: number,
        ) {
          return (yield* bucketTx(
            "sqlite",
            priority,
            query.now - retentionMs,
            limit,
          )).map(eventJsonOf);
        };
        return {
          priority: yield* bucket(
            1,
            query.priorityRetentionMs,
            query.priorityLimit,
          ),
          regular: yield* bucket(
            0,
            query.regularRetentionMs,
            query.regularLimit,
          ),
        };
      }));
  }

  since(afterId: number, limit: number): Promise<StoredEvent[]> {
    return this.timed(
      "since",
      () =>
        this.db.read(() => rangeTx(afterId, Number.MAX_SAFE_INTEGER, limit)),
    );
  }

  maxId(): Promise<number> {
    return this.timed("max_id", () => this.db.read(maxIdTx));
  }

  /** Feeds `onEvents` this store's commits, in id order, right after each `COMMIT`. */
  listen(onEvents: (events: StoredEvent[]) => void): void {
    if (this.#onCommitted) throw new Error("already listening");
    this.#onCommitted = onEvents;
  }

  ping(): Promise<void> {
    return this.timed("ping", () =>
      this.db.read(function* () {
        yield q("SELECT 1");
      }));
  }

  close(): Promise<void> {
    const close = () => {
      if (this.connection.isOpen) this.connection.close();
    };
    if (this.#checkpointer === null) {
      close();
      return Promise.resolve();
    }
    // Closed last, the main connection checkpoints the whole WAL and removes it.
    return this.#checkpointer.stop().then(close);
  }
}
