/**
 * The one way to the database. Every table — events, session aggregates, agent sessions, the
 * inbox — is read and written through {@linkcode Db}: SQL written once with `?` placeholders as
 * generator transactions ({@linkcode Tx}) that yield queries and receive their rows. One driver
 * runs them on `node:sqlite` (`sqlite_db.ts`), one on PostgreSQL (`postgres_db.ts`); a domain
 * never knows which.
 *
 * A write is serialised against every other write of every replica: SQLite's `BEGIN IMMEDIATE`
 * takes the file's write lock, PostgreSQL's transaction first takes one advisory lock. So a
 * domain may read, decide and write inside one transaction without losing an update.
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";

/** A parameter: a value, or (PostgreSQL) an array of values. */
export type Param = SQLInputValue | readonly (string | number | null)[];

/** One statement with `?` placeholders and its parameters. */
export interface Query {
  sql: string;
  params: Param[];
  /** Run by this driver only; the other yields no rows for it (e.g. PostgreSQL's NOTIFY). */
  only?: Db["kind"];
}

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** A transaction: yields queries, receives each one's rows, returns its result. */
export type Tx<T> = Generator<Query, T, Row[]>;

/** A query of `sql` with `params`. */
export function q(sql: string, ...params: Param[]): Query {
  return { sql, params };
}

/**
 * Tells every replica listening on `channel` (PostgreSQL `NOTIFY`, sent at commit). With SQLite
 * one process holds the database and needs no notice: it yields nothing there.
 */
export function notify(channel: string, payload: string): Query {
  return {
    sql: "SELECT pg_notify(?, ?)",
    params: [channel, payload],
    only: "postgres",
  };
}

/** A component's schema, one migration per entry for each database; append, never edit. */
export interface Migrations {
  sqlite: readonly string[];
  postgres: readonly string[];
}

/** Runs transactions on one database (a SQLite connection or a PostgreSQL pool). */
export interface Db {
  readonly kind: "sqlite" | "postgres";
  /** Runs `tx` in one transaction, all or nothing, serialised against every other write. */
  write<T>(tx: () => Tx<T>): Promise<T>;
  /** Runs `tx`'s statements each on its own: reads, or one statement that is atomic alone. */
  read<T>(tx: () => Tx<T>): Promise<T>;
  /** Applies the migrations of `component` not run yet (replicas starting together wait). */
  migrate(component: string, migrations: Migrations): Promise<void>;
  /**
   * Calls `onNotice` with the payload of every {@linkcode notify} on `channel` from any replica,
   * and after a reconnect (notices may have been missed). Resolves once listening. SQLite: no
   * other process writes, so it never calls.
   */
  listen(channel: string, onNotice: (payload: string) => void): Promise<void>;
  /**
   * Runs `work` as the only holder of `lock` among every replica, on a {@linkcode Db} of its
   * own (PostgreSQL: one connection holding a session advisory lock); resolves null without
   * running it while another holds it. SQLite: one process owns the database, so it runs.
   */
  exclusive<T>(
    lock: ExclusiveLock,
    work: (db: Db) => Promise<T>,
  ): Promise<T | null>;
}

/** Work only one replica does at a time. */
export type ExclusiveLock = "archive";

/** Rows per multi-row statement or `IN (…)` list (far below both databases' parameter limits). */
export const CHUNK = 200;

/** Rows whose `sql(placeholders)` matches one of `values`, asked in chunks of {@linkcode CHUNK}. */
export function* rowsIn(
  sql: (placeholders: string) => string,
  values: readonly Param[],
): Tx<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    out.push(...yield q(sql(chunk.map(() => "?").join(", ")), ...chunk));
  }
  return out;
}

/** `head VALUES (…), (…) … tail` for `rows` (each the same width), in chunks; rows returned. */
export function* insertRows(
  head: string,
  tail: string,
  rows: readonly Param[][],
): Tx<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    out.push(
      ...yield q(
        `${head} VALUES ${values(chunk.length, chunk[0].length)} ${tail}`,
        ...chunk.flat(),
      ),
    );
  }
  return out;
}

/**
 * Inserts `rows` (the values of `columns`), or where a row with the same `key` exists, sets its
 * other columns to the new values (only where `where`, when given, holds).
 */
export function* upsertRows<R>(
  table: string,
  columns: readonly (keyof R & string)[],
  key: readonly (keyof R & string)[],
  rows: readonly R[],
  where?: string,
): Tx<void> {
  if (rows.length === 0) return;
  const set = columns.filter((c) => !key.includes(c))
    .map((c) => `${c} = excluded.${c}`).join(", ");
  yield* insertRows(
    `INSERT INTO ${table} (${columns.join(", ")})`,
    `ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${set}${
      where ? ` WHERE ${where}` : ""
    }`,
    rows.map((r) => columns.map((c) => r[c] as Param)),
  );
}

const valueLists = new Map<number, string>();

/** `(?, ?), (?, ?), …`: `count` rows of `width` placeholders. */
function values(count: number, width: number): string {
  const key = count * 1000 + width;
  let text = valueLists.get(key);
  if (text === undefined) {
    const one = `(${Array(width).fill("?").join(", ")})`;
    text = Array(count).fill(one).join(", ");
    valueLists.set(key, text);
  }
  return text;
}

/**
 * Deletes the rows of `table` whose `column` is before `cutoff`, with the rows of `children`
 * that share their `key` (children first); how many rows of `table` left.
 */
export function* deleteWithChildren(
  table: string,
  column: string,
  cutoff: number,
  children: readonly string[],
  key = "session_id",
): Tx<number> {
  for (const child of children) {
    yield q(
      `DELETE FROM ${child} WHERE ${key} IN
         (SELECT ${key} FROM ${table} WHERE ${column} < ?)`,
      cutoff,
    );
  }
  return (yield q(
    `DELETE FROM ${table} WHERE ${column} < ? RETURNING ${key}`,
    cutoff,
  )).length;
}

/** A nullable number column. */
export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A nullable text column. */
export function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
