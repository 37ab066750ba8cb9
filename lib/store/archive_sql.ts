/**
 * The queries archiving and archive import need, written once over {@linkcode Db} for SQLite and
 * PostgreSQL. They work on whole rows (every stored column, `id` included) and on one
 * bucket-hour at a time, addressed by `(priority, [from, to), id ≤ upTo)`: ids only grow and
 * rows never change, so that predicate names the same rows before and after a crash.
 *
 * @module
 */
import { type Db, insertRows, q } from "./db.ts";

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
  agent: string;
  agent_event: string | null;
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
  "agent",
  "agent_event",
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

const COLUMNS = ROW_COLUMNS.map((c) => `"${c}"`).join(", ");
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
  agent: "text",
  agent_event: "text",
};

const asNumber = (value: unknown) => value === null ? null : Number(value);

/**
 * The {@linkcode ArchiveSource} of a database (an open store's `db`).
 *
 * @example
 * ```ts
 * const source = archiveSource(SqliteStore.open("./data/hookwatch.db").db);
 * ```
 */
export function archiveSource(db: Db): ArchiveSource {
  const skipLocked = db.kind === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
  return {
    exclusive: (work) =>
      db.exclusive("archive", (locked) => work(archiveSource(locked))),
    oldest: (priority, before) =>
      db.read(function* () {
        const [row] = yield q(
          `SELECT MIN("timestamp") AS t FROM events WHERE priority = ? AND "timestamp" < ?`,
          priority,
          before,
        );
        return asNumber(row.t);
      }),
    idRange: (priority, from, to) =>
      db.read(function* () {
        const [row] = yield q(
          `SELECT MIN(id) AS lo, MAX(id) AS hi FROM events
           WHERE priority = ? AND "timestamp" >= ? AND "timestamp" < ?`,
          priority,
          from,
          to,
        );
        return row.lo === null || row.hi === null
          ? null
          : { lo: Number(row.lo), hi: Number(row.hi) };
      }),
    page: (priority, from, to, afterId, upTo, limit) =>
      db.read(function* () {
        return (yield q(
          `SELECT ${COLUMNS} FROM events
           WHERE priority = ? AND id > ? AND id <= ? AND "timestamp" >= ? AND "timestamp" < ?
           ORDER BY id LIMIT ?`,
          priority,
          afterId,
          upTo,
          from,
          to,
          limit,
        )) as unknown as FullRow[];
      }),
    deleteUpTo: (priority, from, to, upTo, limit) =>
      db.read(function* () {
        return (yield q(
          `DELETE FROM events WHERE id IN (
             SELECT id FROM events
             WHERE priority = ? AND "timestamp" >= ? AND "timestamp" < ? AND id <= ?
             LIMIT ?${skipLocked}) RETURNING id`,
          priority,
          from,
          to,
          upTo,
          limit,
        )).length;
      }),
    importRows: (rows) => {
      if (rows.length === 0) return Promise.resolve(0);
      return db.write(function* () {
        if (db.kind === "sqlite") {
          return (yield* insertRows(
            `INSERT INTO events (${COLUMNS})`,
            "ON CONFLICT DO NOTHING RETURNING id",
            rows.map((row) => ROW_COLUMNS.map((column) => row[column])),
          )).length;
        }
        const inserted = (yield q(
          `INSERT INTO events (${COLUMNS}) OVERRIDING SYSTEM VALUE
           SELECT * FROM unnest(${
            ROW_COLUMNS.map((column) => `?::${PG_TYPES[column]}[]`).join(", ")
          })
           ON CONFLICT DO NOTHING RETURNING id`,
          ...ROW_COLUMNS.map((column) => rows.map((row) => row[column])),
        )).length;
        // Imported ids may lie beyond the identity sequence: move it past them, never back.
        yield q(
          `SELECT setval(s, m) FROM (
             SELECT pg_get_serial_sequence('events', 'id')::regclass AS s,
                    (SELECT MAX(id) FROM events) AS m) AS x
           WHERE m > COALESCE(pg_sequence_last_value(s), 0)`,
        );
        return inserted;
      });
    },
  };
}
