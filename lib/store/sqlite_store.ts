/**
 * The embedded store: SQLite through Deno's built-in `node:sqlite`, in WAL mode.
 *
 * Durability: a batch's `COMMIT` returns before the HTTP answer is sent, and WAL with
 * `synchronous=NORMAL` keeps every committed transaction across a killed process (the WAL is
 * in the OS's hands once written); only a power loss can take the last transactions.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { mkdirSync } from "node:fs";
import type { StoredEvent } from "../../common/events.ts";
import { migrate } from "./sqlite_migrate.ts";
import { type Checkpointer, startCheckpointer } from "./sqlite_checkpointer.ts";
import {
  ALL_COLUMNS,
  eventJsonOf,
  INSERT_COLUMNS,
  LIST_COLUMNS,
  recentFilters,
  type Row,
  rowValues,
  storedEvent,
  toEvent,
} from "./event_rows.ts";
import type {
  ClassifiedEvent,
  EventStore,
  ExpiredCount,
  FilterOptions,
  InsertResult,
  RecentQuery,
  Snapshot,
  SnapshotQuery,
} from "./store.ts";
import { instruments } from "../base/instruments.ts";

/** How long a write waits for another process's lock on the file before failing (busy). */
export const SQLITE_BUSY_TIMEOUT_MS = 250;

/** Rows per `INSERT` statement (12 columns: 1,200 parameters, far below SQLite's 32,766). */
const ROWS_PER_INSERT = 100;

const ROW_PLACEHOLDERS = `(${INSERT_COLUMNS.map(() => "?").join(", ")})`;

/** The events schema, one migration per entry; append, never edit. */
export const EVENT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     source_app TEXT NOT NULL,
     session_id TEXT NOT NULL,
     hook_event_type TEXT NOT NULL,
     payload TEXT NOT NULL,
     chat TEXT,
     summary TEXT,
     model_name TEXT,
     timestamp INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     priority INTEGER NOT NULL,
     event_id TEXT,
     agent_id TEXT
   );
   CREATE UNIQUE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
   CREATE INDEX events_bucket_id ON events (priority, id);
   CREATE INDEX events_bucket_time ON events (priority, timestamp);
   CREATE INDEX events_app_id ON events (source_app, id);
   CREATE INDEX events_session_id ON events (session_id, id);
   CREATE INDEX events_type_id ON events (hook_event_type, id);`,
];

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
export class SqliteStore implements EventStore {
  readonly kind = "sqlite" as const;
  /** Multi-row inserts by row count, prepared on first use. */
  readonly #inserts = new Map<number, StatementSync>();
  readonly #byEventId: StatementSync;
  readonly #newest: StatementSync;
  readonly #get: StatementSync;
  readonly #bucket: StatementSync;
  readonly #since: StatementSync;
  readonly #maxId: StatementSync;
  readonly #expired: StatementSync;
  readonly #recent = new Map<string, StatementSync>();
  #onCommitted: ((events: StoredEvent[]) => void) | null = null;
  #checkpointer: Checkpointer | null = null;

  private constructor(readonly db: DatabaseSync, readonly path: string) {
    this.#byEventId = db.prepare(
      `SELECT ${LIST_COLUMNS} FROM events WHERE event_id = ?`,
    );
    this.#newest = db.prepare(
      "SELECT id FROM events WHERE id <= ? ORDER BY id DESC LIMIT ?",
    );
    this.#get = db.prepare(
      `SELECT ${ALL_COLUMNS} FROM events WHERE id = ?`,
    );
    this.#bucket = db.prepare(
      `SELECT ${LIST_COLUMNS} FROM events WHERE priority = ? AND +timestamp >= ?
       ORDER BY id DESC LIMIT ?`,
    );
    this.#since = db.prepare(
      `SELECT ${LIST_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`,
    );
    this.#maxId = db.prepare("SELECT COALESCE(MAX(id), 0) AS id FROM events");
    this.#expired = db.prepare(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE priority = ? AND timestamp < ? LIMIT ?)`,
    );
  }

  /** Opens (creating when absent) and migrates the database at `path`. */
  static open(path: string, options: SqliteOptions = {}): SqliteStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    // node:sqlite waits for a lock synchronously, freezing every request and stream meanwhile:
    // wait briefly, then answer 503 (the sender retries) rather than stall the server.
    db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, "events", EVENT_MIGRATIONS);
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
        db.exec(`DROP INDEX IF EXISTS events_${name}`);
      }
    }
    const store = new SqliteStore(db, path);
    if (options.checkpointInWorker && path !== ":memory:") {
      store.#checkpointer = startCheckpointer(db, path);
    }
    return store;
  }

  /** The checkpoint worker, when it checkpoints ({@linkcode SqliteOptions.checkpointInWorker}). */
  get checkpointer(): Checkpointer | null {
    return this.#checkpointer;
  }

  /** Runs a synchronous query as a promise (errors become rejections) and times it. */
  #timed<T>(query: string, run: () => T): Promise<T> {
    const start = performance.now();
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
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
    return (this.#timed("insert_batch", () => {
      const results: InsertResult[] = [];
      if (events.length === 0) return results;
      const transaction = events.length > ROWS_PER_INSERT;
      if (transaction) this.db.exec("BEGIN IMMEDIATE");
      try {
        for (let at = 0; at < events.length; at += ROWS_PER_INSERT) {
          this.#insertRows(
            events,
            at,
            Math.min(events.length, at + ROWS_PER_INSERT),
            results,
          );
        }
        if (transaction) this.db.exec("COMMIT");
      } catch (error) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
      if (this.#onCommitted) {
        const fresh: StoredEvent[] = [];
        for (const r of results) if (!r.duplicate) fresh.push(r.event);
        if (fresh.length > 0) this.#onCommitted(fresh);
      }
      return results;
    }));
  }

  /** Inserts `events[from, to)` in one statement; ids follow from the rows it inserted. */
  #insertRows(
    events: ClassifiedEvent[],
    from: number,
    to: number,
    results: InsertResult[],
  ): void {
    const count = to - from;
    let statement = this.#inserts.get(count);
    if (!statement) {
      statement = this.db.prepare(
        `INSERT INTO events (${
          INSERT_COLUMNS.map((c) => `"${c}"`).join(", ")
        }) VALUES ${Array(count).fill(ROW_PLACEHOLDERS).join(", ")}
         ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING`,
      );
      this.#inserts.set(count, statement);
    }
    const values: (string | number | null)[] = [];
    for (let i = from; i < to; i++) values.push(...rowValues(events[i]));
    const { changes, lastInsertRowid } = statement.run(...values);
    const inserted = Number(changes);
    // With every row inserted, a statement's rows get consecutive ids in VALUES order.
    const first = Number(lastInsertRowid) - inserted + 1;
    if (inserted === count) {
      for (let i = from; i < to; i++) {
        results.push({
          duplicate: false,
          event: storedEvent(first + i - from, events[i]),
        });
      }
      return;
    }
    // Some event_ids were stored already (or repeat within the batch): those rows were skipped,
    // and may have used up ids. The rows inserted are the newest `inserted` ones up to the last.
    const ids = inserted === 0
      ? []
      : (this.#newest.all(lastInsertRowid, inserted) as { id: number }[])
        .map((r) => r.id).reverse();
    const fresh = new Set(ids);
    let next = 0;
    for (let i = from; i < to; i++) {
      const e = events[i];
      const key = e.event_id ?? null;
      const existing = key === null
        ? null
        : this.#byEventId.get(key) as unknown as Row;
      if (existing === null || fresh.delete(Number(existing.id))) {
        results.push({ duplicate: false, event: storedEvent(ids[next++], e) });
      } else {
        results.push({ duplicate: true, event: toEvent(existing) });
      }
    }
  }

  recent(query: RecentQuery): Promise<StoredEvent[]> {
    const pairs = recentFilters(query);
    const filters = pairs.map(([column]) => `${column} = ?`);
    const values = pairs.map(([, value]) => value);
    const where = filters.length ? `WHERE ${filters.join(" AND ")}` : "";
    const sql =
      `SELECT ${LIST_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`;
    let statement = this.#recent.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#recent.set(sql, statement);
    }
    const prepared = statement;
    return this.#timed(
      "recent",
      () =>
        (prepared.all(...values, query.limit) as unknown as Row[]).map(toEvent),
    );
  }

  get(id: number): Promise<StoredEvent | null> {
    return this.#timed("get", () => {
      const row = this.#get.get(id) as unknown as Row | undefined;
      return row ? toEvent(row) : null;
    });
  }

  snapshot(q: SnapshotQuery): Promise<Snapshot> {
    const bucket = (priority: 0 | 1, retentionMs: number, limit: number) =>
      (this.#bucket.all(
        priority,
        q.now - retentionMs,
        limit,
      ) as unknown as Row[])
        .map(eventJsonOf);
    return this.#timed("snapshot", () => ({
      priority: bucket(1, q.priorityRetentionMs, q.priorityLimit),
      regular: bucket(0, q.regularRetentionMs, q.regularLimit),
    }));
  }

  since(afterId: number, limit: number): Promise<StoredEvent[]> {
    return this.#timed(
      "since",
      () => (this.#since.all(afterId, limit) as unknown as Row[]).map(toEvent),
    );
  }

  maxId(): Promise<number> {
    return this.#timed(
      "max_id",
      () => (this.#maxId.get() as { id: number }).id,
    );
  }

  filterOptions(): Promise<FilterOptions> {
    const column = (sql: string) =>
      (this.db.prepare(sql).all() as Record<string, string>[]).map((r) => r.v);
    return this.#timed("filter_options", () => ({
      source_apps: column(
        "SELECT DISTINCT source_app AS v FROM events ORDER BY v",
      ),
      session_ids: column(
        "SELECT session_id AS v FROM events GROUP BY session_id ORDER BY MAX(id) DESC LIMIT 500",
      ),
      hook_event_types: column(
        "SELECT DISTINCT hook_event_type AS v FROM events ORDER BY v",
      ),
    }));
  }

  deleteExpired(
    priorityBefore: number,
    regularBefore: number,
    batchSize: number,
  ): Promise<ExpiredCount> {
    return (this.#timed("delete_expired", () => ({
      priority: Number(this.#expired.run(1, priorityBefore, batchSize).changes),
      regular: Number(this.#expired.run(0, regularBefore, batchSize).changes),
    })));
  }

  /** Feeds `onEvents` this store's commits, in id order, right after each `COMMIT`. */
  listen(onEvents: (events: StoredEvent[]) => void): void {
    if (this.#onCommitted) throw new Error("already listening");
    this.#onCommitted = onEvents;
  }

  ping(): Promise<void> {
    return this.#timed("ping", () => {
      this.db.prepare("SELECT 1").get();
    });
  }

  close(): Promise<void> {
    const close = () => {
      if (this.db.isOpen) this.db.close();
    };
    if (this.#checkpointer === null) {
      close();
      return Promise.resolve();
    }
    // Closed last, the main connection checkpoints the whole WAL and removes it.
    return this.#checkpointer.stop().then(close);
  }
}
