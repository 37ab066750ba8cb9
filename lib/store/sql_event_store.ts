/**
 * What both event stores do alike on their {@linkcode Db}: the queries of `event_sql.ts` that
 * need nothing of the driver, each timed (`db_query_duration_seconds`). `SqliteStore` and
 * `PostgresStore` add what differs: opening, inserting, the commit feed, snapshots and ping.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type { Db } from "./db.ts";
import { expireTx, filterOptionsTx, getTx, recentTx } from "./event_sql.ts";
import type { ExpiredCount, FilterOptions, RecentQuery } from "./store.ts";

/** The part of {@linkcode EventStore} written once for both databases. */
export abstract class SqlEventStore {
  /** The one way to this database, for the events and every other table. */
  abstract readonly db: Db;

  /** Runs a query and records how long it took under `query` (each driver its own way). */
  protected abstract timed<T>(
    query: string,
    run: () => Promise<T>,
  ): Promise<T>;

  recent(query: RecentQuery): Promise<StoredEvent[]> {
    return this.timed("recent", () => this.db.read(() => recentTx(query)));
  }

  get(id: number): Promise<StoredEvent | null> {
    return this.timed("get", () => this.db.read(() => getTx(id)));
  }

  filterOptions(): Promise<FilterOptions> {
    return this.timed(
      "filter_options",
      () => this.db.read(() => filterOptionsTx(this.db.kind)),
    );
  }

  deleteExpired(
    priorityBefore: number,
    regularBefore: number,
    batchSize: number,
  ): Promise<ExpiredCount> {
    return this.timed(
      "delete_expired",
      () =>
        this.db.read(() =>
          expireTx(this.db.kind, priorityBefore, regularBefore, batchSize)
        ),
    );
  }
}
