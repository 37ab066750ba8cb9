/**
 * The events table's queries, written once as {@linkcode Tx} for both databases: inserting a
 * batch (idempotent by `event_id`), the lists, the snapshot's buckets, the feed's range, the
 * filter options and the retention delete. Where the two dialects differ, the query says so
 * in one place (`DIALECT`).
 *
 * @module
 */
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import { type Db, q, type Row, rowsIn, type Tx } from "./db.ts";
import {
  ALL_COLUMNS,
  type EventRow,
  INSERT_COLUMNS,
  LIST_COLUMNS,
  NOT_DEFAULT_AGENT,
  PG_TYPES,
  recentFilters,
  rowValues,
  storedEvent,
  toEvent,
} from "./event_rows.ts";
import type { FilterOptions, InsertResult, RecentQuery } from "./store.ts";
import { DEFAULT_AGENT } from "../../common/adapters/names.ts";

/** Rows per SQLite `INSERT` (14 columns: 1,400 parameters, far below SQLite's 32,766). */
export const ROWS_PER_INSERT = 100;

const QUOTED = INSERT_COLUMNS.map((c) => `"${c}"`).join(", ");
const CONFLICT =
  "ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING RETURNING id, event_id";

const DIALECT = {
  sqlite: {
    /** `+` keeps SQLite on the (priority, id) index, reading newest first until the limit. */
    bucketTime: `+"timestamp"`,
    collate: "",
    skipLocked: "",
  },
  postgres: {
    bucketTime: `"timestamp"`,
    collate: ` COLLATE "C"`,
    skipLocked: " FOR UPDATE SKIP LOCKED",
  },
} as const;

const sqliteInserts: string[] = [];

/** SQLite: one multi-row statement of `count` rows (the same string each time: cheap to look up). */
function sqliteInsert(count: number): string {
  return sqliteInserts[count] ??= `INSERT INTO events (${QUOTED}) VALUES ${
    Array(count).fill(`(${INSERT_COLUMNS.map(() => "?").join(", ")})`).join(
      ", ",
    )
  } ${CONFLICT}`;
}

/** PostgreSQL: one array parameter per column, unnested together in input order. */
const POSTGRES_INSERT = `INSERT INTO events (${QUOTED})
  SELECT ${INSERT_COLUMNS.map((_, i) => `c${i}`).join(", ")}
  FROM unnest(${PG_TYPES.map((t) => `?::${t}[]`).join(", ")})
    WITH ORDINALITY AS i(${
  INSERT_COLUMNS.map((_, i) => `c${i}`).join(", ")
}, ord)
  ORDER BY ord ${CONFLICT}`;

/**
 * Inserts `events` and returns them stored, in order; an event whose `event_id` is stored
 * already (or repeats within the batch) is returned as that copy with `duplicate: true`.
 * SQLite: one statement per {@linkcode ROWS_PER_INSERT} events (run more than one in a write
 * transaction); PostgreSQL: one statement.
 */
export function* insertTx(
  kind: Db["kind"],
  events: readonly ClassifiedEvent[],
): Tx<InsertResult[]> {
  // A repeated event_id inside the batch is a duplicate of its first occurrence.
  const firstOf = new Map<string, number>();
  const fresh: number[] = [];
  const dupOf: (number | null)[] = events.map((e, i) => {
    if (e.event_id == null) {
      fresh.push(i);
      return null;
    }
    const first = firstOf.get(e.event_id);
    if (first !== undefined) return first;
    firstOf.set(e.event_id, i);
    fresh.push(i);
    return null;
  });
  const inserted: Row[] = [];
  if (kind === "postgres") {
    const values = fresh.map((i) => rowValues(events[i]));
    inserted.push(
      ...yield q(
        POSTGRES_INSERT,
        ...INSERT_COLUMNS.map((_, c) => values.map((v) => v[c])),
      ),
    );
  } else {
    for (let at = 0; at < fresh.length; at += ROWS_PER_INSERT) {
      const chunk = fresh.slice(at, at + ROWS_PER_INSERT);
      const values: (string | number | null)[] = [];
      for (const i of chunk) values.push(...rowValues(events[i]));
      inserted.push(...yield q(sqliteInsert(chunk.length), ...values));
    }
  }
  // Inserted rows get ascending ids in input order (SQLite: VALUES order; PostgreSQL: ORDER BY
  // ord under the insert lock); a skipped row may have used one up.
  const ids = inserted.map((r) => Number(r.id)).sort((a, b) => a - b);
  const results: InsertResult[] = new Array(events.length);
  if (ids.length === fresh.length) {
    fresh.forEach((i, n) => {
      results[i] = { duplicate: false, event: storedEvent(ids[n], events[i]) };
    });
  } else {
    const stored = new Set(inserted.map((r) => r.event_id).filter(Boolean));
    const existing = fresh.map((i) => events[i].event_id)
      .filter((id): id is string => id != null && !stored.has(id));
    const known = new Map<string, StoredEvent>();
    for (
      const row of yield* rowsIn(
        (in_) =>
          `SELECT ${LIST_COLUMNS} FROM events WHERE event_id IN (${in_})`,
        existing,
      )
    ) known.set(String(row.event_id), toEvent(row as EventRow));
    let next = 0;
    for (const i of fresh) {
      const e = events[i];
      const copy = e.event_id == null ? undefined : known.get(e.event_id);
      if (copy && !stored.has(e.event_id!)) {
        results[i] = { duplicate: true, event: copy };
      } else if (e.event_id != null && !stored.has(e.event_id)) {
        throw new Error(`event_id ${e.event_id} vanished while inserting`);
      } else {
        results[i] = { duplicate: false, event: storedEvent(ids[next++], e) };
      }
    }
  }
  dupOf.forEach((first, i) => {
    if (first !== null) {
      results[i] = { duplicate: true, event: results[first].event };
    }
  });
  return results;
}

/** Newest first, with filters. */
export function* recentTx(query: RecentQuery): Tx<StoredEvent[]> {
  const pairs = recentFilters(query);
  const terms = pairs.map(([column]) => `${column} = ?`);
  // The other agents' rows are indexed apart (`events_agent_id`): name its predicate.
  if (query.agent !== undefined && query.agent !== DEFAULT_AGENT) {
    terms.push(NOT_DEFAULT_AGENT);
  }
  const where = terms.length ? `WHERE ${terms.join(" AND ")}` : "";
  const rows = yield q(
    `SELECT ${LIST_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`,
    ...pairs.map(([, value]) => value),
    query.limit,
  );
  return (rows as EventRow[]).map(toEvent);
}

/** One event with its chat, or null. */
export function* getTx(id: number): Tx<StoredEvent | null> {
  const [row] = yield q(`SELECT ${ALL_COLUMNS} FROM events WHERE id = ?`, id);
  return row ? toEvent(row as EventRow) : null;
}

/** One bucket's newest rows at or after `since`, newest first. */
export function* bucketTx(
  kind: Db["kind"],
  priority: 0 | 1,
  since: number,
  limit: number,
): Tx<EventRow[]> {
  return (yield q(
    `SELECT ${LIST_COLUMNS} FROM events
     WHERE priority = ? AND ${DIALECT[kind].bucketTime} >= ?
     ORDER BY id DESC LIMIT ?`,
    priority,
    since,
    limit,
  )) as EventRow[];
}

/** Events with `afterId < id <= upTo`, oldest first, at most `limit`. */
export function* rangeTx(
  afterId: number,
  upTo: number,
  limit: number,
): Tx<StoredEvent[]> {
  return ((yield q(
    `SELECT ${LIST_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
    afterId,
    upTo,
    limit,
  )) as EventRow[]).map(toEvent);
}

/** The highest stored id, 0 when empty. */
export function* maxIdTx(): Tx<number> {
  const [row] = yield q("SELECT COALESCE(MAX(id), 0) AS id FROM events");
  return Number(row.id);
}

/** Distinct apps and types, and the 500 most recent sessions. */
export function* filterOptionsTx(kind: Db["kind"]): Tx<FilterOptions> {
  const c = DIALECT[kind].collate;
  const values = (rows: Row[]) => rows.map((r) => String(r.v));
  return {
    source_apps: values(
      yield q(`SELECT DISTINCT source_app${c} AS v FROM events ORDER BY v`),
    ),
    session_ids: values(
      yield q(
        "SELECT session_id AS v FROM events GROUP BY session_id ORDER BY MAX(id) DESC LIMIT 500",
      ),
    ),
    hook_event_types: values(
      yield q(
        `SELECT DISTINCT hook_event_type${c} AS v FROM events ORDER BY v`,
      ),
    ),
  };
}

/** Deletes at most `limit` rows of each bucket older than its bound; how many of each. */
export function* expireTx(
  kind: Db["kind"],
  priorityBefore: number,
  regularBefore: number,
  limit: number,
): Tx<{ priority: number; regular: number }> {
  return {
    priority: yield* expireBucketTx(kind, 1, priorityBefore, limit),
    regular: yield* expireBucketTx(kind, 0, regularBefore, limit),
  };
}

function* expireBucketTx(
  kind: Db["kind"],
  priority: 0 | 1,
  before: number,
  limit: number,
): Tx<number> {
  return (yield q(
    `DELETE FROM events WHERE id IN (
       SELECT id FROM events WHERE priority = ? AND "timestamp" < ?
       LIMIT ?${DIALECT[kind].skipLocked}) RETURNING id`,
    priority,
    before,
    limit,
  )).length;
}
