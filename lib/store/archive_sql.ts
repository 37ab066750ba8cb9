/**
 * The queries archiving and archive import need, on SQLite and PostgreSQL. They work on whole
 * rows (every stored column, `id` included) and on one bucket-hour at a time, addressed by
 * `(priority, [from, to), id ≤ upTo)`: ids only grow and rows never change, so that predicate
 * names the same rows before and after a crash.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type postgres from "postgres";
import type { EventStore } from "./store.ts";

/** Every stored column of an `events` row (payload and chat as their stored JSON text). */
export interface FullRow {
  id: number;
  source_app: string;
  session_id: string;
  hook_event_type: string;
  payload: string;
  chat: string | null;
  summary: string | null;
  model_name: string | null;
  timestamp: number;
  received_at: number;
  priority: number;
  event_id: string | null;
  agent_id: string | null;
}

/** The columns in the order rows are read, written and imported. */
export const ROW_COLUMNS: readonly (keyof FullRow)[] = [
  "id",
  "source_app",
  "session_id",
  "hook_event_type",
  "payload",
  "chat",
  "summary",
  "model_name",
  "timestamp",
  "received_at",
  "priority",
  "event_id",
  "agent_id",
];

/** What the archiver and the importer need from a store. */
export interface ArchiveSource {
  /**
   * Runs `work` as the only archiver of the database (PostgreSQL: a session advisory lock, and
   * `work` gets a source on that one connection); resolves null without running it when another
   * replica is archiving.
   */
  exclusive<T>(work: (source: ArchiveSource) => Promise<T>): Promise<T | null>;
  /** The oldest `timestamp` in the bucket before `before`, or null. */
  oldest(priority: 0 | 1, before: number): Promise<number | null>;
  /** Smallest and largest id of the bucket's rows with `from ≤ timestamp < to`, or null. */
  idRange(
    priority: 0 | 1,
    from: number,
    to: number,
  ): Promise<{ lo: number; hi: number } | null>;
  /** Those rows with `afterId < id ≤ upTo`, in id order, at most `limit`. */
  page(
    priority: 0 | 1,
    from: number,
    to: number,
    afterId: number,
    upTo: number,
    limit: number,
  ): Promise<FullRow[]>;
  /** Deletes at most `limit` of those rows with `id ≤ upTo`; returns how many. */
  deleteUpTo(
    priority: 0 | 1,
    from: number,
    to: number,
    upTo: number,
    limit: number,
  ): Promise<number>;
  /** Inserts rows with their ids, in one transaction, skipping ids and event_ids present. */
  importRows(rows: FullRow[]): Promise<number>;
}

const COLUMNS = ROW_COLUMNS.join(", ");

class SqliteArchiveSource implements ArchiveSource {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  exclusive<T>(
    work: (source: ArchiveSource) => Promise<T>,
  ): Promise<T | null> {
    return work(this); // one process owns a SQLite database
  }

  oldest(priority: 0 | 1, before: number): Promise<number | null> {
    const row = this.#db.prepare(
      "SELECT MIN(timestamp) AS t FROM events WHERE priority = ? AND timestamp < ?",
    ).get(priority, before) as { t: number | null };
    return Promise.resolve(row.t);
  }

  idRange(priority: 0 | 1, from: number, to: number) {
    const row = this.#db.prepare(
      `SELECT MIN(id) AS lo, MAX(id) AS hi FROM events
       WHERE priority = ? AND timestamp >= ? AND timestamp < ?`,
    ).get(priority, from, to) as { lo: number | null; hi: number | null };
    return Promise.resolve(
      row.lo === null || row.hi === null ? null : { lo: row.lo, hi: row.hi },
    );
  }

  page(
    priority: 0 | 1,
    from: number,
    to: number,
    afterId: number,
    upTo: number,
    limit: number,
  ): Promise<FullRow[]> {
    return Promise.resolve(
      this.#db.prepare(
        `SELECT ${COLUMNS} FROM events
         WHERE priority = ? AND id > ? AND id <= ? AND timestamp >= ? AND timestamp < ?
         ORDER BY id LIMIT ?`,
      ).all(priority, afterId, upTo, from, to, limit) as unknown as FullRow[],
    );
  }

  deleteUpTo(
    priority: 0 | 1,
    from: number,
    to: number,
    upTo: number,
    limit: number,
  ): Promise<number> {
    return Promise.resolve(Number(
      this.#db.prepare(
        `DELETE FROM events WHERE id IN (
           SELECT id FROM events
           WHERE priority = ? AND timestamp >= ? AND timestamp < ? AND id <= ? LIMIT ?)`,
      ).run(priority, from, to, upTo, limit).changes,
    ));
  }

  importRows(rows: FullRow[]): Promise<number> {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO events (${COLUMNS})
       VALUES (${ROW_COLUMNS.map(() => "?").join(", ")})`,
    );
    let inserted = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const row of rows) {
        inserted += Number(
          insert.run(...ROW_COLUMNS.map((column) => row[column])).changes,
        );
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    return Promise.resolve(inserted);
  }
}

// The class of postgres_store.ts's advisory locks ("hook"); 3 is the archiver's.
const LOCK_CLASS = 0x686f6f6b;
const LOCK_ARCHIVE = 3;
const PG_COLUMNS = COLUMNS.replace("timestamp", '"timestamp"');
const PG_TYPES: Record<keyof FullRow, string> = {
  id: "bigint",
  source_app: "text",
  session_id: "text",
  hook_event_type: "text",
  payload: "text",
  chat: "text",
  summary: "text",
  model_name: "text",
  timestamp: "bigint",
  received_at: "bigint",
  priority: "smallint",
  event_id: "text",
  agent_id: "text",
};

class PostgresArchiveSource implements ArchiveSource {
  readonly #sql: postgres.Sql;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  async exclusive<T>(
    work: (source: ArchiveSource) => Promise<T>,
  ): Promise<T | null> {
    // Every archive query on the locked connection: a pool of one cannot starve.
    const session = await this.#sql.reserve();
    try {
      const [{ locked }] = await session<{ locked: boolean }[]>`
        SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${LOCK_ARCHIVE}) AS locked`;
      if (!locked) return null;
      try {
        return await work(new PostgresArchiveSource(session));
      } finally {
        await session`SELECT pg_advisory_unlock(${LOCK_CLASS}, ${LOCK_ARCHIVE})`;
      }
    } finally {
      session.release();
    }
  }

  async oldest(priority: 0 | 1, before: number): Promise<number | null> {
    const [row] = await this.#sql<{ t: number | null }[]>`
      SELECT MIN("timestamp") AS t FROM events
      WHERE priority = ${priority} AND "timestamp" < ${before}`;
    return row.t === null ? null : Number(row.t);
  }

  async idRange(priority: 0 | 1, from: number, to: number) {
    const [row] = await this.#sql<{ lo: number | null; hi: number | null }[]>`
      SELECT MIN(id) AS lo, MAX(id) AS hi FROM events
      WHERE priority = ${priority} AND "timestamp" >= ${from} AND "timestamp" < ${to}`;
    return row.lo === null || row.hi === null
      ? null
      : { lo: Number(row.lo), hi: Number(row.hi) };
  }

  async page(
    priority: 0 | 1,
    from: number,
    to: number,
    afterId: number,
    upTo: number,
    limit: number,
  ): Promise<FullRow[]> {
    return await this.#sql<FullRow[]>`
      SELECT ${this.#sql.unsafe(PG_COLUMNS)} FROM events
      WHERE priority = ${priority} AND id > ${afterId} AND id <= ${upTo}
        AND "timestamp" >= ${from} AND "timestamp" < ${to}
      ORDER BY id LIMIT ${limit}`;
  }

  async deleteUpTo(
    priority: 0 | 1,
    from: number,
    to: number,
    upTo: number,
    limit: number,
  ): Promise<number> {
    return (await this.#sql`
      DELETE FROM events WHERE id IN (
        SELECT id FROM events
        WHERE priority = ${priority} AND "timestamp" >= ${from} AND "timestamp" < ${to}
          AND id <= ${upTo}
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count;
  }

  async importRows(rows: FullRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const arrays = ROW_COLUMNS.map((column, i) =>
      `$${i + 1}::${PG_TYPES[column]}[]`
    );
    const values = ROW_COLUMNS.map((column) => rows.map((row) => row[column]));
    return await this.#sql.begin(async (tx) => {
      const inserted = await tx.unsafe(
        `INSERT INTO events (${PG_COLUMNS}) OVERRIDING SYSTEM VALUE
         SELECT * FROM unnest(${arrays.join(", ")})
         ON CONFLICT DO NOTHING`,
        // deno-lint-ignore no-explicit-any -- column arrays of mixed element types
        values as any[],
      );
      // Imported ids may lie beyond the identity sequence: move it past them, never back.
      await tx`
        SELECT setval(s, m) FROM (
          SELECT pg_get_serial_sequence('events', 'id')::regclass AS s,
                 (SELECT MAX(id) FROM events) AS m) AS x
        WHERE m > COALESCE(pg_sequence_last_value(s), 0)`;
      return inserted.count;
    });
  }
}

/**
 * The {@linkcode ArchiveSource} of an open store (its SQLite handle or PostgreSQL client).
 *
 * @example
 * ```ts
 * const source = archiveSource(SqliteStore.open("./data/hookwatch.db"));
 * ```
 */
export function archiveSource(store: EventStore): ArchiveSource {
  if (store.kind === "sqlite") {
    return new SqliteArchiveSource(
      (store as unknown as { db: DatabaseSync }).db,
    );
  }
  return new PostgresArchiveSource(
    (store as unknown as { sql: postgres.Sql }).sql,
  );
}
