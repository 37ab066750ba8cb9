/**
 * Group commit: every submission that arrives in one I/O turn is written in one transaction,
 * and each submitter is answered only after that transaction committed. One transaction per
 * turn instead of one per request is where ingest throughput comes from.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { ClassifiedEvent, StoredEvent } from "../../common/events.ts";
import {
  type EventStore,
  type InsertResult,
  newlyStored,
} from "../store/store.ts";
import { StoreUnavailableError } from "../store/store_errors.ts";
import { instruments } from "../base/instruments.ts";
import { stages } from "../base/stages.ts";

interface Pending {
  events: ClassifiedEvent[];
  resolve: (results: InsertResult[]) => void;
  reject: (error: unknown) => void;
}

/** Options for {@linkcode GroupCommitter}. */
export interface GroupCommitOptions {
  /** Most events per transaction; a single larger submission still goes in one. */
  maxBatch?: number;
  /** Called with the newly stored events (duplicates left out) after each commit, in id order. */
  onCommitted?: (events: StoredEvent[]) => void;
}

/**
 * Queues submissions and commits them together.
 *
 * @example
 * ```ts
 * const committer = new GroupCommitter(store, { onCommitted: (e) => broadcaster.publish(e) });
 * const [result] = await committer.submit([classified]); // resolves after COMMIT
 * ```
 */
export class GroupCommitter {
  readonly #store: EventStore;
  readonly #maxBatch: number;
  readonly #onCommitted: (events: StoredEvent[]) => void;
  #queue: Pending[] = [];
  #scheduled = false;
  #flushing: Promise<void> | null = null;
  #closed = false;

  constructor(store: EventStore, options: GroupCommitOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 5000;
    this.#onCommitted = options.onCommitted ?? (() => {});
  }

  /** Events waiting for the next commit. */
  get pending(): number {
    return this.#queue.reduce((n, p) => n + p.events.length, 0);
  }

  /** Stores `events` all or nothing; resolves after they are committed. */
  submit(events: ClassifiedEvent[]): Promise<InsertResult[]> {
    if (this.#closed) {
      return Promise.reject(
        new StoreUnavailableError("the store is closing"),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = null;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.#queue.length > 0) {
        const next = this.#queue[0];
        if (batch.length > 0 && size + next.events.length > this.#maxBatch) {
          break;
        }
        batch.push(this.#queue.shift()!);
        size += next.events.length;
      }
      const all = batch.length === 1
        ? batch[0].events
        : batch.flatMap((p) => p.events);
      let results: InsertResult[];
      try {
        results = await this.#store.insertBatch(all);
      } catch (error) {
        for (const p of batch) p.reject(error);
        continue;
      }
      instruments.insertBatchSize.record(all.length);
      if (stages.on) {
        for (const r of results) stages.mark(r.event.event_id, "answered");
      }
      let offset = 0;
      for (const p of batch) {
        p.resolve(results.slice(offset, offset + p.events.length));
        offset += p.events.length;
      }
      const fresh = newlyStored(results);
      if (fresh.length > 0) this.#onCommitted(fresh);
    }
  }

  /** Commits everything queued and refuses new submissions. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      if (this.#flushing) await this.#flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
