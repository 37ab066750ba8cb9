/**
 * The dual-bucket snapshot kept in memory from the commit feed, so opening a stream, the first
 * paint and `/events/priority` read no rows: at 10 M stored rows the snapshot query and its 300
 * rows cost milliseconds per stream, this a filter over at most 600 events.
 *
 * Each bucket holds its newest events by id, twice the snapshot's limit: loaded once from the
 * store, then every event the feed delivers. The snapshot is the newest `limit` of them inside
 * the bucket's retention, exactly what the store's query returns, because rows older than the
 * ring have smaller ids. Only when fewer than `limit` match and the bucket holds more rows than
 * the ring does it ask the store (late events with old timestamps, a sweep running late).
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type { EventStore, Snapshot, SnapshotQuery } from "../store/store.ts";
import type { SnapshotEvent } from "./sse.ts";

/** A snapshot and the highest id it accounts for: the feed's position when it was taken. */
export interface TakenSnapshot {
  snapshot: Snapshot<SnapshotEvent>;
  upTo: number;
}

class Ring {
  entries: SnapshotEvent[] = [];
  /** True while the ring holds every row of its bucket. */
  complete = true;

  constructor(readonly capacity: number) {}

  /** Keeps at least the newest `capacity`, trimming in halves so a push stays O(1). */
  push(event: SnapshotEvent): void {
    this.entries.push(event);
    if (this.entries.length > 2 * this.capacity) {
      this.entries.splice(0, this.entries.length - this.capacity);
      this.complete = false;
    }
  }

  /** Newest first: the ones at or after `since`, at most `limit`; null when the store must say. */
  newest(since: number, limit: number): SnapshotEvent[] | null {
    const out: SnapshotEvent[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i];
      if (e.timestamp >= since) out.push(e);
    }
    return out.length < limit && !this.complete ? null : out;
  }
}

/**
 * The snapshot from memory. Feed it every committed batch ({@linkcode LiveSnapshot.observe}) from
 * the start; {@linkcode LiveSnapshot.take} loads the store's newest rows on first use.
 *
 * @example
 * ```ts
 * const live = new LiveSnapshot(store, () => ({ now: Date.now(), ...bounds }));
 * feed.observe((events) => live.observe(events));
 * const { snapshot, upTo } = await live.take();
 * ```
 */
export class LiveSnapshot {
  readonly #store: EventStore;
  readonly #query: () => SnapshotQuery;
  readonly #rings: Record<0 | 1, Ring>;
  #loading: Promise<void> | null = null;
  /** The highest id observed or loaded. */
  #position = 0;

  constructor(store: EventStore, query: () => SnapshotQuery) {
    this.#store = store;
    this.#query = query;
    const q = query();
    this.#rings = {
      1: new Ring(2 * q.priorityLimit),
      0: new Ring(2 * q.regularLimit),
    };
  }

  /** Adds a committed batch (ids ascending, as the feed delivers them). */
  observe(events: readonly StoredEvent[]): void {
    for (const event of events) {
      // Loaded already: the load read every id up to its position.
      if (event.id <= this.#position) continue;
      this.#rings[event.priority].push(event);
      this.#position = event.id;
    }
  }

  /** The snapshot for now, and the id up to which it accounts for every event. */
  async take(): Promise<TakenSnapshot> {
    this.#loading ??= this.#load().catch((error) => {
      this.#loading = null;
      throw error;
    });
    await this.#loading;
    const q = this.#query();
    const priority = this.#rings[1].newest(
      q.now - q.priorityRetentionMs,
      q.priorityLimit,
    );
    const regular = this.#rings[0].newest(
      q.now - q.regularRetentionMs,
      q.regularLimit,
    );
    if (priority !== null && regular !== null) {
      return { snapshot: { priority, regular }, upTo: this.#position };
    }
    // Every id up to maxId is committed (commit order is id order), so the snapshot read after
    // it holds all of them; later ones are left out and come live.
    const upTo = await this.#store.maxId();
    const stored = await this.#store.snapshot(q);
    const below = (e: SnapshotEvent) => e.id <= upTo;
    return {
      snapshot: {
        priority: stored.priority.filter(below),
        regular: stored.regular.filter(below),
      },
      upTo,
    };
  }

  /** Puts the store's newest rows of each bucket (up to the ring's size) before what was fed. */
  async #load(): Promise<void> {
    const q = this.#query();
    const upTo = await this.#store.maxId();
    const rows = await this.#store.snapshot({
      now: q.now,
      priorityLimit: this.#rings[1].capacity,
      regularLimit: this.#rings[0].capacity,
      priorityRetentionMs: q.now,
      regularRetentionMs: q.now,
    });
    for (const priority of [1, 0] as const) {
      const ring = this.#rings[priority];
      const loaded = priority === 1 ? rows.priority : rows.regular;
      const fed = ring.entries.filter((e) => e.id > upTo);
      ring.complete &&= loaded.length < ring.capacity;
      ring.entries = [];
      for (let i = loaded.length - 1; i >= 0; i--) {
        if (loaded[i].id <= upTo) ring.push(loaded[i]);
      }
      for (const e of fed) ring.push(e);
    }
    if (upTo > this.#position) this.#position = upTo;
  }
}
