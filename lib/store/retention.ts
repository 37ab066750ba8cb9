/**
 * Retention enforced in the database: priority events older than 24 h and regular events older
 * than 4 h (configurable) are deleted in bounded batches, yielding between batches so ingest
 * never waits long behind the sweeper.
 *
 * @module
 */
import type { EventStore, ExpiredCount } from "./store.ts";
import { instruments } from "../base/instruments.ts";
import { errorFields, log } from "../base/log.ts";

/** Options for {@linkcode RetentionSweeper}. */
export interface RetentionOptions {
  priorityMs: number;
  regularMs: number;
  /** Rows per delete statement. */
  batchSize?: number;
  /** Time between sweeps. */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Deletes expired events periodically.
 *
 * @example
 * ```ts
 * const sweeper = new RetentionSweeper(store, { priorityMs: 864e5, regularMs: 144e5 });
 * sweeper.start();
 * ```
 */
export class RetentionSweeper {
  readonly #store: Pick<EventStore, "deleteExpired">;
  readonly #options: Required<RetentionOptions>;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<ExpiredCount> | null = null;
  #stopped = true;
  /** Totals since start. */
  readonly deleted: ExpiredCount = { priority: 0, regular: 0 };

  constructor(
    store: Pick<EventStore, "deleteExpired">,
    options: RetentionOptions,
  ) {
    this.#store = store;
    this.#options = {
      batchSize: 1000,
      intervalMs: 60_000,
      now: Date.now,
      ...options,
    };
  }

  /** Deletes every expired row now, batch by batch; returns what it deleted. */
  sweep(): Promise<ExpiredCount> {
    this.#running ??= this.#sweep().finally(() => this.#running = null);
    return this.#running;
  }

  async #sweep(): Promise<ExpiredCount> {
    const { priorityMs, regularMs, batchSize, now } = this.#options;
    const at = now();
    const start = performance.now();
    const total: ExpiredCount = { priority: 0, regular: 0 };
    while (true) {
      const round = await this.#store.deleteExpired(
        at - priorityMs,
        at - regularMs,
        batchSize,
      );
      total.priority += round.priority;
      total.regular += round.regular;
      if (round.priority < batchSize && round.regular < batchSize) break;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (total.priority) {
      instruments.eventsExpiredTotal.add(total.priority, {
        bucket: "priority",
      });
    }
    if (total.regular) {
      instruments.eventsExpiredTotal.add(total.regular, { bucket: "regular" });
    }
    this.deleted.priority += total.priority;
    this.deleted.regular += total.regular;
    log.write(
      total.priority + total.regular > 0 ? "info" : "debug",
      "retention sweep",
      {
        priority_deleted: total.priority,
        regular_deleted: total.regular,
        duration_ms: Math.round(performance.now() - start),
      },
    );
    return total;
  }

  /** Sweeps now and then every `intervalMs`. */
  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.sweep().catch((error) =>
        log.error("retention sweep failed", errorFields(error))
      )
        .finally(() => {
          if (!this.#stopped) {
            this.#timer = setTimeout(tick, this.#options.intervalMs);
          }
        });
    };
    tick();
  }

  /** Stops the timer and waits for a running sweep. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }
}
