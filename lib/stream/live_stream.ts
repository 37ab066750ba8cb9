/**
 * Opening one live stream: snapshot (or replay after `Last-Event-ID`), then live frames, with no
 * gap and no duplicate between the two.
 *
 * The client is registered with the broadcaster *before* the store is read, so every event
 * committed meanwhile is held; after the snapshot or replay up to id N is written, the held
 * frames with ids above N follow.
 *
 * @module
 */
import {
  type Broadcaster,
  filterKey,
  matches,
  type StreamFilter,
} from "./broadcaster.ts";
import {
  encodeEventFrame,
  encodeSnapshotFrame,
  RETRY_FRAME,
  type SnapshotEvent,
} from "./sse.ts";
import type { EventStore, Snapshot } from "../store/store.ts";
import type { TakenSnapshot } from "./live_snapshot.ts";
import type { StoredEvent } from "../../common/events.ts";

/** How long an encoded snapshot is shared by streams opening after it, while no event arrives. */
const SNAPSHOT_REUSE_MS = 1000;

interface CachedSnapshot {
  maxId: number;
  at: number;
  bytes: Uint8Array;
}

// Streams that open together (a dashboard reload, a reconnect wave) share one encoded snapshot
// frame per filter instead of one large garbage string each.
const snapshots = new WeakMap<EventStore, Map<string, CachedSnapshot>>();

/** What a new stream asks for. */
export interface OpenStreamOptions {
  /** Resume after this id; null for a fresh snapshot. */
  lastEventId: number | null;
  filter: StreamFilter;
  /** Most missed events replayed; beyond it the client gets a fresh snapshot. */
  replayLimit: number;
  /** The snapshot and the id it accounts for (`LiveSnapshot.take`). */
  snapshot: () => Promise<TakenSnapshot>;
  /** Called once when the stream ends, fails or is cancelled. */
  onClose?: () => void;
  /** Ends the stream when aborted (its client lost access). */
  signal?: AbortSignal;
}

/**
 * Opens a stream for one client and returns its body.
 *
 * @example
 * ```ts
 * const body = await openEventStream(store, broadcaster, {
 *   lastEventId: null, filter: {}, replayLimit: 5000, snapshot: () => live.take(),
 * });
 * ```
 */
export async function openEventStream(
  store: EventStore,
  broadcaster: Broadcaster,
  options: OpenStreamOptions,
): Promise<ReadableStream<Uint8Array>> {
  const { signal } = options;
  const revoked = () => client.close();
  const client = broadcaster.open(options.filter, () => {
    signal?.removeEventListener("abort", revoked);
    options.onClose?.();
  });
  if (signal?.aborted) client.close();
  else signal?.addEventListener("abort", revoked, { once: true });
  const wanted = (e: StoredEvent) => matches(options.filter, e);
  try {
    client.write(RETRY_FRAME);
    if (options.lastEventId !== null) {
      const missed = await store.since(
        options.lastEventId,
        options.replayLimit + 1,
      );
      if (missed.length <= options.replayLimit) {
        const frames = missed.filter(wanted).map(encodeEventFrame);
        for (const frame of frames) client.write(frame);
        client.goLive(missed.at(-1)?.id ?? options.lastEventId);
        return client.stream;
      }
    }
    const { snapshot, upTo } = await options.snapshot();
    const cache = snapshots.get(store) ?? new Map<string, CachedSnapshot>();
    snapshots.set(store, cache);
    const key = filterKey(options.filter);
    let cached = cache.get(key);
    if (
      !cached || cached.maxId !== upTo ||
      performance.now() - cached.at > SNAPSHOT_REUSE_MS
    ) {
      const kept = (e: SnapshotEvent) => matches(options.filter, e);
      const view: Snapshot<SnapshotEvent> = {
        priority: snapshot.priority.filter(kept),
        regular: snapshot.regular.filter(kept),
      };
      cached = {
        maxId: upTo,
        at: performance.now(),
        bytes: encodeSnapshotFrame(view, upTo),
      };
      cache.set(key, cached);
    }
    client.write(cached.bytes);
    client.goLive(upTo);
    return client.stream;
  } catch (error) {
    client.close();
    throw error;
  }
}
