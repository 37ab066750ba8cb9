/**
 * The committed-events feed: every event once it is committed, once each and in id order,
 * the same for both stores. SQLite delivers its own commits; PostgreSQL delivers every
 * replica's through LISTEN/NOTIFY (this replica's own included), so an observer cannot tell
 * which store or which replica wrote an event.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type { EventStore } from "./store.ts";
import { errorFields, log } from "../base/log.ts";
import { stages } from "../base/stages.ts";

/** Receives each batch of committed events. */
export type CommitObserver = (events: readonly StoredEvent[]) => void;

/**
 * Fans the store's feed out to its observers; one that throws is logged and the others still
 * get the batch.
 *
 * @example
 * ```ts
 * const feed = new CommitFeed(store);
 * feed.observe((events) => broadcaster.publish(events));
 * ```
 */
export class CommitFeed {
  readonly #observers: CommitObserver[] = [];
  /** Resolves once the store's feed is live (PostgreSQL: LISTEN is active). */
  readonly ready: Promise<void>;

  constructor(store: EventStore) {
    this.ready = Promise.resolve(
      store.listen((events) => this.#deliver(events)),
    );
  }

  /** Adds an observer for every batch committed from now on. */
  observe(observer: CommitObserver): void {
    this.#observers.push(observer);
  }

  #deliver(events: readonly StoredEvent[]): void {
    if (stages.on) { for (const e of events) stages.mark(e.event_id, "fed"); }
    for (const observer of this.#observers) {
      try {
        observer(events);
      } catch (error) {
        log.error("a commit observer failed", errorFields(error));
      }
    }
  }
}
