/**
 * The dashboard's dual buckets: a priority bucket and a regular bucket with their own caps and
 * retention, and the merged display drawn from them. Pure and synchronous, so the browser worker
 * and the server's first paint share it.
 *
 * @module
 */

/** What the buckets need from an event. */
export interface BucketEvent {
  /** Server id: increasing in arrival order. */
  id: number;
  priority: 0 | 1;
  /** The event's own time, ms since the epoch; retention is measured from it. */
  timestamp: number;
}

/** Bucket sizes from the product contract. */
export interface BucketCaps {
  priority: number;
  regular: number;
  display: number;
}

/** Retention per bucket, ms. */
export interface BucketRetention {
  priority: number;
  regular: number;
}

/** Priority ≤ 200, regular ≤ 100, display ≤ 250. */
export const DEFAULT_CAPS: Readonly<BucketCaps> = Object.freeze({
  priority: 200,
  regular: 100,
  display: 250,
});

/** Priority 24 h, regular 4 h. */
export const DEFAULT_RETENTION: Readonly<BucketRetention> = Object.freeze({
  priority: 24 * 3_600_000,
  regular: 4 * 3_600_000,
});

/**
 * How many of the newest regular events the display holds: every priority event up to the
 * display cap, then regular events in the room left, so regular events leave first and a
 * regular event never displaces a priority one.
 */
export function displayRegularCount(
  priorityCount: number,
  regularCount: number,
  displayCap: number = DEFAULT_CAPS.display,
): number {
  return Math.max(
    0,
    Math.min(regularCount, displayCap - Math.min(priorityCount, displayCap)),
  );
}

/**
 * Merges two newest-first lists into one newest-first list by id, taking at most `takeA` from
 * `a` and `takeB` from `b`.
 */
export function mergeNewestFirst<T extends { id: number }>(
  a: readonly T[],
  b: readonly T[],
  takeA: number = a.length,
  takeB: number = b.length,
): T[] {
  const na = Math.min(takeA, a.length);
  const nb = Math.min(takeB, b.length);
  const out: T[] = new Array(na + nb);
  let i = 0, j = 0, k = 0;
  while (i < na && j < nb) out[k++] = a[i].id >= b[j].id ? a[i++] : b[j++];
  while (i < na) out[k++] = a[i++];
  while (j < nb) out[k++] = b[j++];
  return out;
}

/**
 * The merged display of two newest-first buckets: all priority events (up to the display cap)
 * and the newest regular events that fit, newest first.
 *
 * @example
 * ```ts
 * const shown = mergeDisplay(priorityNewestFirst, regularNewestFirst); // ≤ 250 events
 * ```
 */
export function mergeDisplay<T extends { id: number }>(
  priority: readonly T[],
  regular: readonly T[],
  displayCap: number = DEFAULT_CAPS.display,
): T[] {
  return mergeNewestFirst(
    priority,
    regular,
    displayCap,
    displayRegularCount(priority.length, regular.length, displayCap),
  );
}

function insertById<E extends BucketEvent>(list: E[], event: E): void {
  // Events arrive in id order, so this is almost always a push.
  let at = list.length;
  while (at > 0 && list[at - 1].id > event.id) at--;
  if (at === list.length) list.push(event);
  else list.splice(at, 0, event);
}

/**
 * How a bucket folds events that are parts of one thing (the text deltas of one message) into
 * one held event: the newest part takes the place of the ones before, merged with them.
 */
export interface BucketFold<E> {
  /** Events with the same key are parts of one thing; null for an event that stands alone. */
  key(event: E): string | null;
  /** The held event for `next`, a later part of what `previous` holds. */
  merge(previous: E, next: E): E;
}

/**
 * Two capped buckets, oldest first inside each. Adding beyond a cap drops that bucket's oldest
 * events, so priority events only ever leave because of newer priority events or retention.
 *
 * @example
 * ```ts
 * const buckets = new DualBuckets();
 * buckets.add({ id: 1, priority: 1, timestamp: Date.now() });
 * buckets.display(); // newest first, ≤ 250
 * ```
 */
export class DualBuckets<E extends BucketEvent = BucketEvent> {
  readonly caps: Readonly<BucketCaps>;
  readonly retention: Readonly<BucketRetention>;
  #priority: E[] = [];
  #regular: E[] = [];
  #ids = new Set<number>();
  readonly #fold: BucketFold<E> | null;
  /** Held events by fold key. */
  #folded = new Map<string, E>();

  constructor(
    options: {
      caps?: Partial<BucketCaps>;
      retention?: Partial<BucketRetention>;
      /** Events that are parts of one thing are held as one (see {@linkcode BucketFold}). */
      fold?: BucketFold<E>;
    } = {},
  ) {
    this.#fold = options.fold ?? null;
    this.caps = Object.freeze({ ...DEFAULT_CAPS, ...options.caps });
    this.retention = Object.freeze({
      ...DEFAULT_RETENTION,
      ...options.retention,
    });
  }

  /** Priority events, oldest first. */
  get priority(): readonly E[] {
    return this.#priority;
  }

  /** Regular events, oldest first. */
  get regular(): readonly E[] {
    return this.#regular;
  }

  /** Number of events held in both buckets. */
  get size(): number {
    return this.#priority.length + this.#regular.length;
  }

  /** True when an event with this id is held. */
  has(id: number): boolean {
    return this.#ids.has(id);
  }

  /**
   * Adds one event to its bucket; returns the events it evicted. An id already held, or an event
   * older than its bucket's retention at `now`, is ignored.
   */
  add(event: E, now: number = Date.now()): E[] {
    if (this.#ids.has(event.id)) return [];
    const priority = event.priority === 1;
    if (
      event.timestamp <
        now - (priority ? this.retention.priority : this.retention.regular)
    ) return [];
    const list = priority ? this.#priority : this.#regular;
    const cap = priority ? this.caps.priority : this.caps.regular;
    const key = this.#fold?.key(event) ?? null;
    if (key !== null) {
      const previous = this.#folded.get(key);
      if (previous && previous.id < event.id) {
        const at = list.indexOf(previous);
        if (at >= 0) list.splice(at, 1);
        this.#ids.delete(previous.id);
        event = this.#fold!.merge(previous, event);
      }
      this.#folded.set(key, event);
    }
    insertById(list, event);
    this.#ids.add(event.id);
    if (list.length <= cap) return [];
    const evicted = list.splice(0, list.length - cap);
    for (const e of evicted) this.#forget(e);
    return evicted;
  }

  #forget(e: E): void {
    this.#ids.delete(e.id);
    const key = this.#fold?.key(e) ?? null;
    if (key !== null && this.#folded.get(key) === e) this.#folded.delete(key);
  }

  /** Replaces both buckets with a snapshot (any order), keeping the caps and retention. */
  reset(events: Iterable<E>, now: number = Date.now()): void {
    this.#priority = [];
    this.#regular = [];
    this.#ids.clear();
    this.#folded.clear();
    const sorted = [...events].sort((a, b) => a.id - b.id);
    for (const e of sorted) this.add(e, now);
  }

  /** Drops events older than their bucket's retention at `now`; returns how many left. */
  expire(now: number = Date.now()): number {
    const before = this.size;
    const keep = (cutoff: number) => (e: E) => {
      if (e.timestamp >= cutoff) return true;
      this.#forget(e);
      return false;
    };
    this.#priority = this.#priority.filter(
      keep(now - this.retention.priority),
    );
    this.#regular = this.#regular.filter(keep(now - this.retention.regular));
    return before - this.size;
  }

  /** The merged display, newest first, optionally only the events `accept` keeps. */
  display(accept?: (event: E) => boolean): E[] {
    const p = newestFirst(this.#priority, accept);
    const r = newestFirst(this.#regular, accept);
    return mergeDisplay(p, r, this.caps.display);
  }
}

/** A copy of an oldest-first list, newest first, optionally filtered. */
export function newestFirst<E>(
  list: readonly E[],
  accept?: (event: E) => boolean,
): E[] {
  const out: E[] = [];
  for (let i = list.length - 1; i >= 0; i--) {
    if (!accept || accept(list[i])) out.push(list[i]);
  }
  return out;
}
