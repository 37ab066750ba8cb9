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
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import { ConfigError } from "../base/config.ts";
import { type Db, q } from "./db.ts";
import { postgresDb } from "./postgres_db.ts";
import { eventJsonOf } from "./event_rows.ts";
import { EVENT_MIGRATIONS, EVENTS_CHANNEL } from "./event_schema.ts";
import { SqlEventStore } from "./sql_event_store.ts";
import { bucketTx, insertTx, maxIdTx, rangeTx } from "./event_sql.ts";
import type {
  EventStore,
  InsertResult,
  Snapshot,
  SnapshotQuery,
} from "./store.ts";
import { instruments } from "../base/instruments.ts";
import { stages } from "../base/stages.ts";
import { errorFields, log } from "../base/log.ts";
import { whileUnavailable } from "./store_errors.ts";

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
export class PostgresStore extends SqlEventStore implements EventStore {
  readonly kind = "postgres" as const;
  readonly db: Db;
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
    super();
    this.#sql = sql;
    this.db = postgresDb(sql);
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
    const store = new PostgresStore(
      sql,
      poolSize,
      options.pingTimeoutMs ?? 2000,
    );
    try {
      await store.db.migrate("events", EVENT_MIGRATIONS);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
    return store;
  }

  /** The raw client (tests, benchmarks, archives); the domain uses {@linkcode db}. */
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

  protected override async timed<T>(
    query: string,
    run: () => Promise<T>,
  ): Promise<T> {
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
    const results = await this.timed(
      "insert_batch",
      () => this.db.read(() => insertTx("postgres", events)),
    );
    if (stages.on) {
      for (const r of results) stages.mark(r.event.event_id, "committed");
    }
    return results;
  }

  snapshot(query: SnapshotQuery): Promise<Snapshot> {
    const bucket = async (
      priority: 0 | 1,
      retentionMs: number,
      limit: number,
    ) =>
      (await this.db.read(() =>
        bucketTx("postgres", priority, query.now - retentionMs, limit)
      )).map(eventJsonOf);
    return this.timed("snapshot", async () => {
      const [priority, regular] = await Promise.all([
        bucket(1, query.priorityRetentionMs, query.priorityLimit),
        bucket(0, query.regularRetentionMs, query.regularLimit),
      ]);
      return { priority, regular };
    });
  }

  async since(afterId: number, limit: number): Promise<StoredEvent[]> {
    await this.#listening;
    const cap = this.#fed ?? Number.MAX_SAFE_INTEGER;
    return await this.timed("since", () => this.#range(afterId, cap, limit));
  }

  #range(afterId: number, upTo: number, limit: number): Promise<StoredEvent[]> {
    return this.db.read(() => rangeTx(afterId, upTo, limit));
  }

  async maxId(): Promise<number> {
    await this.#listening;
    if (this.#fed !== null) return this.#fed;
    return await this.timed("max_id", () => this.#realMaxId());
  }

  #realMaxId(): Promise<number> {
    return this.db.read(maxIdTx);
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
      // An empty notice (every reconnect): catch up on whatever was committed meanwhile.
      await this.db.listen(EVENTS_CHANNEL, (payload) => {
        const upTo = Number(payload.split(",")[1]);
        if (!Number.isSafeInteger(upTo)) return pull(true);
        this.#announced = Math.max(this.#announced, upTo);
        pull(false);
      });
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
        const events = await this.timed(
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
    return this.timed("ping", async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          this.db.read(function* () {
            yield q("SELECT 1");
          }),
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
