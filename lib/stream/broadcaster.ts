/**
 * Live fan-out to stream clients. Each event's frame is encoded once; frames are coalesced and
 * written as one chunk per client per flush. A publish flushes at once unless flushing every
 * publish would cost more than {@linkcode WRITES_PER_SECOND} (clients × commits carrying
 * events, per second): then flushes are kept at least an interval apart (up to 50 ms for a
 * thousand clients under heavy load), and a publish waits only for what is left of it since
 * the last. Each client has a bounded queue: one
 * that falls further behind is disconnected (it resumes by id), so a slow or stalled reader never
 * grows memory or delays the others.
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import {
  concat,
  encodeEventFrame,
  HEARTBEAT_FRAME,
  PRIORITY_METADATA_BYTES,
} from "./sse.ts";
import { instruments } from "../base/instruments.ts";
import { log } from "../base/log.ts";
import { stages } from "../base/stages.ts";
import { type AgentName, DEFAULT_AGENT } from "../../common/adapters/names.ts";

/** Client writes per second the broadcaster allows itself before it coalesces flushes. */
export const WRITES_PER_SECOND = 50_000;

/** Window over which the rate of publishes is measured, ms. */
const RATE_WINDOW_MS = 100;

/** Which events a client wants. */
export interface StreamFilter {
  source_app?: string;
  priority?: 0 | 1;
  agent?: AgentName;
}

interface Frame {
  event: StoredEvent;
  bytes: Uint8Array;
}

/** The key of a filter: clients with equal keys get the same frames ("" for no filter). */
export function filterKey(filter: StreamFilter): string {
  return filter.source_app === undefined && filter.priority === undefined &&
      filter.agent === undefined
    ? ""
    : JSON.stringify([
      filter.source_app ?? null,
      filter.priority ?? null,
      filter.agent ?? null,
    ]);
}

/** The stream filter: the one test of whether a client wants an event (live, replay, snapshot). */
export function matches(
  filter: StreamFilter,
  event: Pick<StoredEvent, "source_app" | "priority" | "agent">,
): boolean {
  return (filter.source_app === undefined ||
    filter.source_app === event.source_app) &&
    (filter.priority === undefined || filter.priority === event.priority) &&
    (filter.agent === undefined ||
      filter.agent === (event.agent ?? DEFAULT_AGENT));
}

/** Pending writes up to this size are joined into one chunk for the connection. */
const COALESCE_BYTES = 16 * 1024;

/**
 * One connected stream; obtain it from {@linkcode Broadcaster.open}. It keeps the bytes written
 * and not yet taken itself and hands them over at each read (small writes joined into one
 * chunk): a stream with no queue of its own, so dropping a client frees its bytes at once and
 * simply ends the answer (the client resumes by id).
 */
export class StreamClient {
  readonly stream: ReadableStream<Uint8Array>;
  readonly filter: StreamFilter;
  readonly key: string;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Set while the connection waits for bytes. */
  #wake: (() => void) | null = null;
  #held: Frame[] | null = [];
  #closed = false;
  #catchUpBytes = 0;
  readonly #limit: number;
  readonly #onGone: (client: StreamClient, dropped: boolean) => void;

  constructor(
    filter: StreamFilter,
    limit: number,
    onGone: (client: StreamClient, dropped: boolean) => void,
  ) {
    this.filter = filter;
    this.key = filterKey(filter);
    this.#limit = limit;
    this.#onGone = onGone;
    this.stream = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (this.#pendingBytes > 0 || this.#closed) {
          return this.#deliver(controller);
        }
        return new Promise<void>((resolve) => this.#wake = resolve).then(() =>
          this.#deliver(controller)
        );
      },
      cancel: () => {
        this.#discard();
        this.#gone(false);
      },
    }, { highWaterMark: 0 });
  }

  /** Bytes written but not yet taken by the connection. */
  get queuedBytes(): number {
    return this.#pendingBytes;
  }

  /** True until the client has been sent its snapshot or replay. */
  get catchingUp(): boolean {
    return this.#held !== null;
  }

  /**
   * Writes raw bytes; drops the client when its queue is already over the bound. While catching
   * up (snapshot, replay, then the frames held meanwhile) nothing is dropped: those bytes are
   * bounded by the replay limit and count against the bound only once the reader has taken them.
   */
  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#held !== null) {
      this.#catchUpBytes += bytes.byteLength;
      this.#push(bytes);
      return;
    }
    // Catch-up bytes still queued are allowed on top of the bound (they shrink as they are read).
    this.#catchUpBytes = Math.min(this.#catchUpBytes, this.#pendingBytes);
    // Over the bound before this write: the client is not keeping up. (Checked before, not
    // after, so one frame larger than the bound still goes to a client that reads.)
    if (this.#pendingBytes > this.#limit + this.#catchUpBytes) {
      this.#discard();
      this.#gone(true);
      this.#wakeReader();
      return;
    }
    this.#push(bytes);
  }

  hold(frame: Frame): void {
    if (this.#held && matches(this.filter, frame.event)) this.#held.push(frame);
  }

  /** Ends catching up: sends the live frames held meanwhile that come after `afterId`. */
  goLive(afterId: number): void {
    const held = this.#held ?? [];
    this.#held = null;
    const due = held.filter((f) => f.event.id > afterId).map((f) => f.bytes);
    if (due.length > 0 && !this.#closed) {
      const chunk = concat(due);
      this.#catchUpBytes += chunk.byteLength;
      this.#push(chunk);
    }
  }

  /** Closes the stream, optionally after a last frame. */
  close(last?: Uint8Array): void {
    if (this.#closed) return;
    if (last) this.#push(last);
    this.#gone(false);
    this.#wakeReader();
  }

  #push(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #discard(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #deliver(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.#pendingBytes > 0) {
      const pending = this.#pending;
      const bytes = this.#pendingBytes;
      this.#discard();
      // Small writes go out as one chunk; large ones (a snapshot, shared by every client
      // opening with it) are handed over as they are, not copied.
      if (pending.length === 1 || bytes > COALESCE_BYTES) {
        for (const chunk of pending) controller.enqueue(chunk);
      } else {
        controller.enqueue(concat(pending));
      }
    } else if (this.#closed) {
      controller.close();
    }
  }

  #gone(dropped: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = null;
    this.#onGone(this, dropped);
  }
}

/** Options for {@linkcode Broadcaster}. */
export interface BroadcasterOptions {
  /** Bytes a client may have queued before it is dropped. */
  queueBytes: number;
  heartbeatMs: number;
}

/** Stream figures for health and metrics. */
export interface StreamStats {
  connections: number;
  queueBytes: number;
  droppedTotal: number;
  /** Bytes of priority metadata ÷ bytes of event frames. */
  overheadRatio: number;
  framesTotal: number;
}

/**
 * Fans committed events out to every stream client.
 *
 * @example
 * ```ts
 * const broadcaster = new Broadcaster({ queueBytes: 4 << 20, heartbeatMs: 15_000 });
 * const client = broadcaster.open({});
 * client.goLive(0);
 * broadcaster.publish(storedEvents);
 * ```
 */
export class Broadcaster {
  readonly #clients = new Set<StreamClient>();
  readonly #options: BroadcasterOptions;
  #pending: Frame[] = [];
  #pendingSince = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** When the last flush wrote (`performance.now()`). */
  #lastFlushAt = -Infinity;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #dropped = 0;
  #frameBytes = 0;
  #frames = 0;
  /** Publishes per second, measured over the last windows. */
  #publishRate = 0;
  #windowStart = 0;
  #windowPublishes = 0;

  constructor(options: BroadcasterOptions) {
    this.#options = options;
  }

  /**
   * Registers a client; it holds live frames until {@linkcode StreamClient.goLive}. `onClose`
   * runs once when its stream ends, fails or is cancelled.
   */
  open(filter: StreamFilter = {}, onClose?: () => void): StreamClient {
    const client = new StreamClient(
      filter,
      this.#options.queueBytes,
      (gone, dropped) => {
        onClose?.();
        this.#clients.delete(gone);
        if (dropped) {
          this.#dropped++;
          instruments.sseClientsDroppedTotal.add(1);
          log.warn("stream client dropped: it fell too far behind", {
            queue_limit_bytes: this.#options.queueBytes,
            source_app: gone.filter.source_app,
            priority: gone.filter.priority,
            connections: this.#clients.size,
            dropped_total: this.#dropped,
          });
        }
        if (this.#clients.size === 0) this.#stopHeartbeat();
      },
    );
    this.#clients.add(client);
    this.#startHeartbeat();
    return client;
  }

  /** Queues committed events (in id order) for every client. */
  publish(events: readonly StoredEvent[]): void {
    const now = performance.now();
    this.#countPublish(now);
    if (this.#clients.size === 0) return;
    if (this.#pending.length === 0) this.#pendingSince = now;
    for (const event of events) {
      const bytes = encodeEventFrame(event);
      if (stages.on) stages.mark(event.event_id, "encoded");
      this.#pending.push({ event, bytes });
      this.#frameBytes += bytes.byteLength;
      this.#frames++;
    }
    // Throttled, not delayed: a publish flushes at once unless the last flush was less than
    // the interval ago, so events spaced wider than it wait for nothing.
    const wait = this.#lastFlushAt + this.flushInterval() - now;
    if (wait <= 0) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), Math.ceil(wait));
  }

  /**
   * Sends a frame that is not a stored event (e.g. `session`, without `id:`) to every live
   * client that has no `source_app` filter or the same `sourceApp`, and (when the frame names
   * its `agent`) no agent filter or the same agent, after the event frames already queued.
   */
  publishFrame(
    bytes: Uint8Array,
    sourceApp: string | null = null,
    agent: string | null = null,
  ): void {
    this.flush();
    for (const client of [...this.#clients]) {
      const app = client.filter.source_app;
      const wanted = client.filter.agent;
      if (
        client.catchingUp || (app !== undefined && app !== sourceApp) ||
        (wanted !== undefined && agent !== null && wanted !== agent)
      ) {
        continue;
      }
      client.write(bytes);
    }
  }

  #countPublish(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      const rate = this.#windowPublishes * 1000 / elapsed;
      // A long quiet spell counts fully: the first publish after it goes out at once.
      this.#publishRate = elapsed > 4 * RATE_WINDOW_MS
        ? rate
        : (this.#publishRate + rate) / 2;
      this.#windowStart = now;
      this.#windowPublishes = 0;
    }
    this.#windowPublishes++;
  }

  /**
   * Milliseconds flushes are kept apart: 0 while writing every publish at once to every client
   * stays within {@linkcode WRITES_PER_SECOND}; else long enough that it does (at most 50).
   */
  flushInterval(): number {
    const n = this.#clients.size;
    if (n * this.#publishRate <= WRITES_PER_SECOND) return 0;
    return Math.min(50, Math.ceil((1000 * n) / WRITES_PER_SECOND));
  }

  /** Writes everything pending: one chunk per client. */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const frames = this.#pending;
    if (frames.length === 0) return;
    this.#pending = [];
    this.#lastFlushAt = performance.now();
    let all: Uint8Array | null = null;
    const byKey = new Map<string, Uint8Array | null>();
    for (const client of [...this.#clients]) {
      if (client.catchingUp) {
        for (const frame of frames) client.hold(frame);
        continue;
      }
      let chunk: Uint8Array | null | undefined;
      if (client.key === "") {
        chunk = all ??= concat(frames.map((f) => f.bytes));
      } else {
        chunk = byKey.get(client.key);
        if (chunk === undefined) {
          const mine = frames.filter((f) => matches(client.filter, f.event))
            .map((f) => f.bytes);
          chunk = mine.length > 0 ? concat(mine) : null;
          byKey.set(client.key, chunk);
        }
      }
      if (chunk) client.write(chunk);
    }
    if (stages.on) {
      for (const f of frames) stages.mark(f.event.event_id, "written");
    }
    instruments.sseBroadcastLatency.record(
      (performance.now() - this.#pendingSince) / 1000,
    );
  }

  /** Closes every stream (shutdown), sending `last` first. */
  closeAll(last?: Uint8Array): void {
    this.flush();
    for (const client of [...this.#clients]) client.close(last);
    this.#stopHeartbeat();
  }

  stats(): StreamStats {
    let queueBytes = 0;
    for (const client of this.#clients) queueBytes += client.queuedBytes;
    return {
      connections: this.#clients.size,
      queueBytes,
      droppedTotal: this.#dropped,
      overheadRatio: this.#frameBytes === 0
        ? 0
        : (this.#frames * PRIORITY_METADATA_BYTES) / this.#frameBytes,
      framesTotal: this.#frames,
    };
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== null) return;
    this.#heartbeat = setInterval(() => {
      for (const client of [...this.#clients]) {
        if (!client.catchingUp) client.write(HEARTBEAT_FRAME);
      }
    }, this.#options.heartbeatMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
