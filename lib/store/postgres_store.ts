/**
 * The scale-out store: PostgreSQL through `npm:postgres`, shared by several hookwatch replicas.
 *
 * - Ids are global (`bigint` identity) and commit order equals id order: a statement-level
 *   `BEFORE INSERT` trigger takes a transaction advisory lock, so inserts are serialised (group
 *   commit makes that one lock per batch, not per event) and a reader that has seen id N has
 *   seen every smaller id.
 * - Fan-out: a statement-level `AFTER INSERT` trigger sends `NOTIFY hookwatch_events,
 *   '<first_id>,<last_id>'` (never the event: NOTIFY payloads are limited to 8000 bytes). Every
 *   replica LISTENs ({@linkcode PostgresStore.listen}) and reads the rows after the last id it
 *   delivered, so a lost or coalesced notification never loses an event; after a LISTEN
 *   reconnect it catches up the same way.
 * - Migrations run under an advisory lock, so replicas starting together don't race.
 * - The retention delete uses `FOR UPDATE SKIP LOCKED`: every replica may sweep at once.
 *
 * @module
 */
import postgres from "postgres";
import {
  EVENTS_CHANNEL,
  migratePostgres,
  PG_EVENT_MIGRATIONS,
} from "./postgres_migrate.ts";

export {
  EVENTS_CHANNEL,
  migratePostgres,
  PG_EVENT_MIGRATIONS,
} from "./postgres_migrate.ts";
import type { StoredEvent } from "../../common/events.ts";
import { ConfigError } from "../base/config.ts";
import {
  ALL_COLUMNS,
  eventJsonOf,
  INSERT_COLUMNS,
  LIST_COLUMNS,
  PG_TYPES,
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
import { errorFields, log } from "../base/log.ts";
import { whileUnavailable } from "./store_errors.ts";

/** One array parameter per column, unnested together in input order. */
const INSERT_SQL = `INSERT INTO events (${
  INSERT_COLUMNS.map((c) => `"${c}"`).join(", ")
})
  SELECT ${INSERT_COLUMNS.map((_, i) => `c${i}`).join(", ")}
  FROM unnest(${PG_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(", ")})
    WITH ORDINALITY AS i(${
  INSERT_COLUMNS.map((_, i) => `c${i}`).join(", ")
}, ord)
  ORDER BY ord
  ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
  RETURNING id, event_id`;

/** Options for {@linkcode PostgresStore.connect}. */
export interface PostgresOptions {
  /** Pool connections for queries (LISTEN uses one more). Default `DATABASE_POOL_SIZE` or 10. */
  poolSize?: number;
  /** Seconds to wait for a connection. */
  connectTimeoutSeconds?: number;
  /** Milliseconds after which {@linkcode PostgresStore.ping} gives up. */
  pingTimeoutMs?: number;
}

/** Pool figures for the `database_pool_utilization_ratio` gauge. */
export interface PoolStats {
  /** Connections in the query pool. */
  size: number;
  /** Connections busy now (store calls in flight, at most `size`). */
  busy: number;
}

/**
 * Reads `DATABASE_POOL_SIZE` (1–1000, default 10).
 *
 * @throws {ConfigError} naming the variable when it is not such a number.
 */
export function poolSizeFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): number {
  const raw = env.DATABASE_POOL_SIZE?.trim();
  if (!raw) return 10;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new ConfigError(
      "DATABASE_POOL_SIZE",
      `"${raw}" is not a whole number from 1 to 1000`,
    );
  }
  return size;
}

/**
 * {@linkcode EventStore} on PostgreSQL, for several replicas sharing one database.
 *
 * While {@linkcode PostgresStore.listen} is active, `since` and `maxId` only reach up to the
 * last id the feed has delivered: a stream that replays or snapshots up to id N then receives
 * exactly the ids above N from the feed, with no gap and no duplicate.
 *
 * @example
 * ```ts
 * const store = await PostgresStore.connect("postgres://hookwatch@db/hookwatch");
 * await store.listen((events) => broadcaster.publish(events));
 * ```
 */
export class PostgresStore implements EventStore {
  readonly kind = "postgres" as const;
  readonly #sql: postgres.Sql;
  readonly #poolSize: number;
  readonly #pingTimeoutMs: number;
  #inflight = 0;
  /** Highest id handed to the feed's listener; null while not listening. */
  #fed: number | null = null;
  /** Set once {@linkcode PostgresStore.listen} was called; resolves when LISTEN is active. */
  #listening: Promise<void> | null = null;
  /** Highest id announced by NOTIFY so far. */
  #announced = 0;
  #feed: Promise<void> = Promise.resolve();
  #retry: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  private constructor(sql: postgres.Sql, poolSize: number, pingMs: number) {
    this.#sql = sql;
    this.#poolSize = poolSize;
    this.#pingTimeoutMs = pingMs;
  }

  /** Connects, migrates (under an advisory lock) and returns the store. */
  static async connect(
    url: string,
    options: PostgresOptions = {},
  ): Promise<PostgresStore> {
    const poolSize = options.poolSize ?? poolSizeFromEnv();
    const sql = postgres(url, {
      max: poolSize,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      idle_timeout: 60,
      // Seconds before reconnect attempt n (the default grows to 20 s): a LISTEN connection
      // that lost the database comes back within ~2 s of it returning.
      backoff: (n: number) => Math.min(0.05 * 2 ** n, 2),
      onnotice: () => {},
      connection: { application_name: "hookwatch" },
      types: {
        bigint: {
          to: 20,
          from: [20],
          parse: (x: string) => Number(x),
          serialize: (x: number) => String(x),
        },
      },
    });
    try {
      await migratePostgres(sql, "events", PG_EVENT_MIGRATIONS);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
    return new PostgresStore(sql, poolSize, options.pingTimeoutMs ?? 2000);
  }

  /** The underlying client, for tests and benchmarks (EXPLAIN, direct reads). */
  get sql(): postgres.Sql {
    return this.#sql;
  }

  /** Pool size and connections busy now, for the utilization gauge. */
  poolStats(): PoolStats {
    return {
      size: this.#poolSize,
      busy: Math.min(this.#inflight, this.#poolSize),
    };
  }

  async #timed<T>(query: string, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    this.#inflight++;
    try {
      return await run();
    } finally {
      this.#inflight--;
      instruments.queryDuration.record((performance.now() - start) / 1000, {
        query,
      });
    }
  }

  async insertBatch(events: ClassifiedEvent[]): Promise<InsertResult[]> {
    if (events.length === 0) return [];
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
    const rows = fresh.map((i) => events[i]);
    const values = rows.map(rowValues);
    const columns = INSERT_COLUMNS.map((_, c) => values.map((v) => v[c]));
    return await this.#timed("insert_batch", async () => {
      const inserted = await this.#sql.unsafe<
        { id: number; event_id: string | null }[]
      >(INSERT_SQL, columns as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      });
      // Rows are numbered in input order (ORDER BY ord under the insert lock).
      const ids = inserted.map((r) => r.id).sort((a, b) => a - b);
      const stored = new Set(
        inserted.map((r) => r.event_id).filter((id) => id !== null),
      );
      const existing = rows.filter((e) =>
        e.event_id != null && !stored.has(e.event_id)
      ).map((e) => e.event_id!);
      const known = new Map<string, StoredEvent>();
      if (existing.length > 0) {
        const found = await this.#sql<Row[]>`
          SELECT ${this.#sql.unsafe(LIST_COLUMNS)} FROM events
          WHERE event_id = ANY(${existing}::text[])`;
        for (const row of found) known.set(String(row.event_id), toEvent(row));
      }
      const results: InsertResult[] = new Array(events.length);
      let next = 0;
      fresh.forEach((i) => {
        const e = events[i];
        if (e.event_id != null && !stored.has(e.event_id)) {
          const event = known.get(e.event_id);
          if (!event) {
            throw new Error(`event_id ${e.event_id} vanished while inserting`);
          }
          results[i] = { duplicate: true, event };
          return;
        }
        results[i] = { duplicate: false, event: storedEvent(ids[next++], e) };
      });
      dupOf.forEach((first, i) => {
        if (first !== null) {
          results[i] = { duplicate: true, event: results[first].event };
        }
      });
      return results;
    });
  }

  recent(query: RecentQuery): Promise<StoredEvent[]> {
    const pairs = recentFilters(query);
    const filters = pairs.map(([column], i) => `${column} = $${i + 1}`);
    const values: (string | number)[] = pairs.map(([, value]) => value);
    values.push(query.limit);
    const where = filters.length ? `WHERE ${filters.join(" AND ")}` : "";
    const text =
      `SELECT ${LIST_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT $${values.length}`;
    return this.#timed(
      "recent",
      async () =>
        (await this.#sql.unsafe<Row[]>(text, values, { prepare: true })).map(
          toEvent,
        ),
    );
  }

  get(id: number): Promise<StoredEvent | null> {
    return this.#timed("get", async () => {
      const [row] = await this.#sql<Row[]>`
        SELECT ${this.#sql.unsafe(ALL_COLUMNS)} FROM events WHERE id = ${id}`;
      return row ? toEvent(row) : null;
    });
  }

  snapshot(q: SnapshotQuery): Promise<Snapshot> {
    const bucket = async (
      priority: 0 | 1,
      retentionMs: number,
      limit: number,
    ) =>
      (await this.#sql<Row[]>`
        SELECT ${this.#sql.unsafe(LIST_COLUMNS)} FROM events
        WHERE priority = ${priority} AND "timestamp" >= ${q.now - retentionMs}
        ORDER BY id DESC LIMIT ${limit}`).map(eventJsonOf);
    return this.#timed("snapshot", async () => {
      const [priority, regular] = await Promise.all([
        bucket(1, q.priorityRetentionMs, q.priorityLimit),
        bucket(0, q.regularRetentionMs, q.regularLimit),
      ]);
      return { priority, regular };
    });
  }

  async since(afterId: number, limit: number): Promise<StoredEvent[]> {
    await this.#listening;
    const cap = this.#fed ?? Number.MAX_SAFE_INTEGER;
    return await this.#timed("since", () => this.#range(afterId, cap, limit));
  }

  async #range(
    afterId: number,
    upTo: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    return (await this.#sql<Row[]>`
      SELECT ${this.#sql.unsafe(LIST_COLUMNS)} FROM events
      WHERE id > ${afterId} AND id <= ${upTo} ORDER BY id LIMIT ${limit}`)
      .map(toEvent);
  }

  async maxId(): Promise<number> {
    await this.#listening;
    if (this.#fed !== null) return this.#fed;
    return await this.#timed("max_id", () => this.#realMaxId());
  }

  async #realMaxId(): Promise<number> {
    const [row] = await this.#sql<{ id: number }[]>`
      SELECT COALESCE(MAX(id), 0)::bigint AS id FROM events`;
    return row.id;
  }

  filterOptions(): Promise<FilterOptions> {
    return this.#timed("filter_options", async () => {
      const [apps, sessions, types] = await Promise.all([
        this.#sql<{ v: string }[]>`
          SELECT DISTINCT source_app COLLATE "C" AS v FROM events ORDER BY v`,
        this.#sql<{ v: string }[]>`
          SELECT session_id AS v FROM events GROUP BY session_id
          ORDER BY MAX(id) DESC LIMIT 500`,
        this.#sql<{ v: string }[]>`
          SELECT DISTINCT hook_event_type COLLATE "C" AS v FROM events ORDER BY v`,
      ]);
      return {
        source_apps: apps.map((r) => r.v),
        session_ids: sessions.map((r) => r.v),
        hook_event_types: types.map((r) => r.v),
      };
    });
  }

  deleteExpired(
    priorityBefore: number,
    regularBefore: number,
    batchSize: number,
  ): Promise<ExpiredCount> {
    const expire = async (priority: 0 | 1, before: number) =>
      (await this.#sql`
        DELETE FROM events WHERE id IN (
          SELECT id FROM events WHERE priority = ${priority} AND "timestamp" < ${before}
          LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`).count;
    return this.#timed("delete_expired", async () => ({
      priority: await expire(1, priorityBefore),
      regular: await expire(0, regularBefore),
    }));
  }

  /**
   * Feeds `onEvents` every event committed by any replica, once and in id order, from now on.
   * Resolves once LISTEN is active; until then `since` and `maxId` wait, so a stream opened
   * meanwhile still has no gap.
   */
  listen(onEvents: (events: StoredEvent[]) => void): Promise<void> {
    if (this.#listening) throw new Error("already listening");
    const pull = (catchUp: boolean) => {
      this.#feed = this.#feed.then(() => this.#pull(onEvents, catchUp));
    };
    this.#listening = (async () => {
      // The database may be away at start-up (a restart of both): try again until it is back,
      // for the feed, `since` and `maxId` all wait on this.
      this.#fed = await whileUnavailable(() => this.#realMaxId(), {
        message: "the event feed cannot start yet, retrying",
        stopped: () => this.#closed,
      });
      await this.#sql.listen(
        EVENTS_CHANNEL,
        (payload) => {
          const upTo = Number(payload.split(",")[1]);
          if (!Number.isSafeInteger(upTo)) return pull(true);
          this.#announced = Math.max(this.#announced, upTo);
          pull(false);
        },
        // Also on every reconnect: catch up on whatever was committed while not listening.
        () => pull(true),
      );
    })();
    return this.#listening;
  }

  /**
   * Delivers the rows after the last one delivered: up to the highest id announced so far
   * (notifications that queued up meanwhile cost no extra query), or all of them on catch-up.
   */
  async #pull(
    onEvents: (events: StoredEvent[]) => void,
    catchUp: boolean,
  ): Promise<void> {
    if (this.#closed) return;
    const page = 1000;
    try {
      while (true) {
        const from = this.#fed!;
        const upTo = catchUp ? Number.MAX_SAFE_INTEGER : this.#announced;
        if (upTo <= from) return;
        const events = await this.#timed(
          "feed",
          () => this.#range(from, upTo, page),
        );
        if (events.length === 0 || this.#closed) return;
        this.#fed = events[events.length - 1].id;
        onEvents(events);
        if (events.length < page && catchUp) return;
      }
    } catch (error) {
      if (this.#closed) return;
      log.error("reading the event feed failed, retrying", errorFields(error));
      this.#retry ??= setTimeout(() => {
        this.#retry = null;
        this.#feed = this.#feed.then(() => this.#pull(onEvents, true));
      }, 1000);
    }
  }

  /** A round trip through the pool; rejects when the database does not answer in time. */
  ping(): Promise<void> {
    return this.#timed("ping", async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          this.#sql`SELECT 1`.execute(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `database did not answer within ${this.#pingTimeoutMs} ms`,
                  ),
                ),
              this.#pingTimeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    await this.#feed.catch(() => {});
    await this.#sql.end({ timeout: 5 });
  }
}
