/**
 * The dashboard's live state as a plain value: both buckets of events (classified with the
 * server's own function), the per-second pulse, the filter choices, the sessions board, session
 * and inbox frames, and what the main thread already holds. The bucket worker wraps it in an
 * EventSource and flow control; the server's first paint builds its view from the same class,
 * so both draw the same thing. No timers and no I/O: every time is passed in.
 *
 * @module
 */
import { type Classifier, createClassifier } from "./classify.ts";
import {
  type BucketRetention,
  displayRegularCount,
  DualBuckets,
  newestFirst,
} from "./buckets.ts";
import {
  eventFilter,
  type FeedRow,
  type Filters,
  foldedText,
  foldKey,
  foldRow,
  NO_FILTERS,
  searchText,
  toRow,
} from "./rows.ts";
import { type BoardView, SessionBoard } from "./board.ts";
import type { SessionSummary } from "./sessions.ts";
import type { InboxItem } from "./agents.ts";
import type {
  Connection,
  FilterChoices,
  LiveUpdate,
} from "./worker_protocol.ts";
import type { StreamEvent } from "./events.ts";

/** Seconds the pulse covers. */
export const PULSE_SECONDS = 600;
/** Distinct values kept per filter menu. */
export const CHOICES_KEPT = 500;
/** The sessions board changes slower than the feed: sent at most this often, ms. */
export const PANELS_EVERY_MS = 250;
/** Pulse series sent at most this often, ms. */
export const PULSE_EVERY_MS = 500;

/** What the page draws after filters: the first paint's props, and each update's core. */
export interface DashboardView {
  /** Priority bucket after filters, newest first. */
  priority: FeedRow[];
  /** Regular bucket after filters, newest first. */
  regular: FeedRow[];
  /** The merged display holds every priority row and this many of the newest regular rows. */
  shownRegular: number;
  /** Bucket sizes before filters. */
  counts: { priority: number; regular: number; display: number };
  /** The sessions board (all sessions, whatever the feed's filters). */
  board: BoardView;
}

/** Options for {@linkcode DashboardState}. */
export interface DashboardStateOptions {
  /** The server's priority event types (`PRIORITY_EVENT_TYPES`). */
  priorityTypes?: Iterable<string>;
  retention?: Partial<BucketRetention>;
  filters?: Filters;
  /** A session silent this long is `stale` (`HOOKWATCH_STALE_AFTER`); never when absent. */
  staleAfterMs?: number;
}

/**
 * The dashboard's buckets, pulse, filters, sessions board and diffing.
 *
 * @example
 * ```ts
 * const state = new DashboardState({ priorityTypes: ["Stop"] });
 * state.receive(streamEvent, Date.now());
 * const { update } = state.update(Date.now(), performance.now());
 * ```
 */
export class DashboardState {
  readonly #classify: Classifier;
  readonly #buckets: DualBuckets<StreamEvent>;
  /** Each held event's feed row (a folded message's: with every part's text). */
  readonly #rows = new WeakMap<StreamEvent, FeedRow>();
  /** The text of every part so far, of an event folded with earlier ones. */
  readonly #foldedText = new WeakMap<StreamEvent, string>();
  #filters: Filters;
  #conn: Connection = "connecting";
  #lastId: number | null = null;
  readonly #choices = {
    source_apps: new Set<string>(),
    session_ids: new Set<string>(),
    hook_event_types: new Set<string>(),
  };
  #choicesDirty = true;
  /** `session` frames since the last update, latest per session. */
  readonly #sessions = new Map<string, SessionSummary>();
  /** `inbox` frames since the last update, in arrival order. */
  #inbox: InboxItem[] = [];
  readonly #pulseP = new Uint32Array(PULSE_SECONDS);
  readonly #pulseR = new Uint32Array(PULSE_SECONDS);
  #pulseEnd: number;
  #pulseDirty = true;
  #pulseSentAt = -Infinity;
  #panelsSentAt = 0;
  /** Set when a snapshot changes the board at once. */
  #panelsForce = true;
  readonly #board: SessionBoard;
  #classifyTotalMs = 0;
  #classifyCount = 0;
  /** Row ids the main thread holds (what the last update listed). */
  #sent = new Set<number>();
  readonly #haystacks = new WeakMap<StreamEvent, string>();

  constructor(options: DashboardStateOptions = {}, now: number = Date.now()) {
    this.#classify = createClassifier(options.priorityTypes);
    this.#buckets = new DualBuckets<StreamEvent>({
      retention: options.retention,
      // Message deltas (`MessageDisplay`) fold into one row per message.
      fold: {
        key: foldKey,
        merge: (previous, next) => {
          const text =
            (this.#foldedText.get(previous) ?? foldedText(previous)) +
            foldedText(next);
          this.#foldedText.set(next, text);
          this.#rows.set(next, foldRow(this.#rowOf(next), text));
          return next;
        },
      },
    });
    this.#filters = options.filters ?? { ...NO_FILTERS };
    this.#board = new SessionBoard({ staleAfterMs: options.staleAfterMs });
    this.#pulseEnd = Math.floor(now / 1000);
  }

  /** Highest event id received; null before the first. */
  get lastId(): number | null {
    return this.#lastId;
  }

  /** The filters in force. */
  get filters(): Filters {
    return this.#filters;
  }

  /** True when a pulse update is due (the series changed since it was last sent). */
  get pulseDirty(): boolean {
    return this.#pulseDirty;
  }

  /** The bucket an event belongs in, by the server's classification function. */
  classify(hookEventType: string): 0 | 1 {
    return this.#classify(hookEventType) ? 1 : 0;
  }

  /** Adds one live event; false when it is a replay of one already received. */
  receive(event: StreamEvent, now: number): boolean {
    if (this.#lastId !== null && event.id <= this.#lastId) return false;
    this.#lastId = event.id;
    const held = this.#classified(event);
    this.#buckets.add(held, now);
    this.#board.apply(held);
    this.#remember(held);
    this.#countPulse(held);
    return true;
  }

  /** Replaces everything with a snapshot taken up to event `id`. */
  receiveSnapshot(
    data: { priority: StreamEvent[]; regular: StreamEvent[] },
    id: number,
    now: number,
  ): void {
    const all = [...data.priority, ...data.regular].map((e) =>
      this.#classified(e)
    );
    this.#buckets.reset(all, now);
    this.#pulseP.fill(0);
    this.#pulseR.fill(0);
    for (const held of all.sort((a, b) => a.id - b.id)) {
      this.#board.apply(held);
      this.#remember(held);
      this.#countPulse(held);
    }
    this.#lastId = Math.max(id, this.#lastId ?? 0);
    this.#panelsForce = true;
  }

  /** New filters (the feed's; the board shows every session). */
  setFilters(filters: Filters): void {
    this.#filters = filters;
  }

  /** An `inbox` frame: one changed attention item, passed on with the next update. */
  inboxChanged(item: InboxItem): void {
    this.#inbox.push(item);
  }

  /** A `session` frame: sent with the next update, and what the store knows of it. */
  sessionChanged(summary: SessionSummary): void {
    this.#sessions.set(summary.session_id, summary);
    this.#board.seed([summary]);
  }

  /** The server's session list (`GET /sessions`): each session's state as the store has it. */
  seedSessions(list: readonly SessionSummary[]): void {
    this.#board.seed(list);
  }

  /** Sets the stream's state; true when it changed. */
  setConnection(next: Connection): boolean {
    if (this.#conn === next) return false;
    this.#conn = next;
    return true;
  }

  /**
   * Drops events past retention, moves the pulse on and lets silent sessions turn stale; true
   * when an update is due.
   */
  expire(now: number): boolean {
    const expired = this.#buckets.expire(now) > 0;
    this.#advancePulse(Math.floor(now / 1000));
    return expired || this.#pulseDirty || this.#board.changed(now);
  }

  /** The filtered buckets, counts and the board at `now`. */
  view(now: number): DashboardView {
    const { p, r } = this.#filtered();
    return { ...this.#core(p, r), board: this.#board.view(now) };
  }

  /**
   * The next worker → main thread update: rows the main thread does not hold yet, ids, and
   * the board, pulse, choices, sessions and inbox items when they are due. `mono` is a monotonic clock
   * (ms) for the panel and pulse rates; `panelsDueInMs` says when skipped panels fall due.
   */
  update(
    now: number,
    mono: number,
  ): { update: LiveUpdate; panelsDueInMs: number | null } {
    const { p, r } = this.#filtered();
    const { priority, regular, shownRegular, counts } = this.#core(p, r);
    this.#advancePulse(Math.floor(now / 1000));
    const prevSlot = (this.#pulseEnd - 1 + PULSE_SECONDS) % PULSE_SECONDS;
    const update: LiveUpdate = {
      type: "update",
      rows: this.#unsent(priority, regular),
      priority: Float64Array.from(priority, (row) => row.id),
      regular: Float64Array.from(regular, (row) => row.id),
      shownRegular,
      counts,
      conn: this.#conn,
      lastId: this.#lastId ?? 0,
      eventsPerSec: this.#pulseP[prevSlot] + this.#pulseR[prevSlot],
      classifyMs: this.#classifyCount
        ? this.#classifyTotalMs / this.#classifyCount
        : 0,
    };
    let panelsDueInMs: number | null = null;
    if (this.#panelsForce || this.#board.changed(now)) {
      if (mono - this.#panelsSentAt >= PANELS_EVERY_MS || this.#panelsForce) {
        update.board = this.#board.view(now);
        this.#panelsSentAt = mono;
        this.#panelsForce = false;
      } else {
        panelsDueInMs = PANELS_EVERY_MS - (mono - this.#panelsSentAt);
      }
    }
    if (this.#pulseDirty && mono - this.#pulseSentAt > PULSE_EVERY_MS) {
      update.pulse = {
        end: this.#pulseEnd,
        priority: this.#ordered(this.#pulseP),
        regular: this.#ordered(this.#pulseR),
      };
      this.#pulseDirty = false;
      this.#pulseSentAt = mono;
    }
    if (this.#inbox.length > 0) {
      update.inbox = this.#inbox;
      this.#inbox = [];
    }
    if (this.#sessions.size > 0) {
      update.sessions = [...this.#sessions.values()];
      this.#sessions.clear();
    }
    if (this.#choicesDirty) {
      update.choices = {
        source_apps: [...this.#choices.source_apps].sort(),
        session_ids: [...this.#choices.session_ids].sort(),
        hook_event_types: [...this.#choices.hook_event_types].sort(),
      } satisfies FilterChoices;
      this.#choicesDirty = false;
    }
    return { update, panelsDueInMs };
  }

  /** The event as the worker holds it: classified by the worker itself, its row made. */
  #classified(event: StreamEvent): StreamEvent {
    const t0 = performance.now();
    const priority = this.classify(event.hook_event_type);
    this.#classifyTotalMs += performance.now() - t0;
    this.#classifyCount++;
    const e: StreamEvent = { ...event, priority };
    this.#rows.set(e, toRow(e));
    return e;
  }

  #rowOf(e: StreamEvent): FeedRow {
    return this.#rows.get(e)!;
  }

  #remember(e: StreamEvent): void {
    const c = this.#choices;
    for (
      const [set, value] of [
        [c.source_apps, e.source_app],
        [c.session_ids, e.session_id],
        [c.hook_event_types, e.hook_event_type],
      ] as const
    ) {
      if (!set.has(value) && set.size < CHOICES_KEPT) {
        set.add(value);
        this.#choicesDirty = true;
      }
    }
  }

  #advancePulse(second: number): void {
    if (second <= this.#pulseEnd) return;
    const steps = Math.min(PULSE_SECONDS, second - this.#pulseEnd);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#pulseEnd + i) % PULSE_SECONDS;
      this.#pulseP[slot] = 0;
      this.#pulseR[slot] = 0;
    }
    this.#pulseEnd = second;
    this.#pulseDirty = true;
  }

  #countPulse(held: StreamEvent): void {
    const second = Math.floor(held.received_at / 1000);
    this.#advancePulse(second);
    if (second <= this.#pulseEnd - PULSE_SECONDS) return;
    (held.priority ? this.#pulseP : this.#pulseR)[second % PULSE_SECONDS]++;
    this.#pulseDirty = true;
  }

  #ordered(a: Uint32Array): number[] {
    const out = new Array<number>(PULSE_SECONDS);
    for (let i = 0; i < PULSE_SECONDS; i++) {
      out[i] = a[(this.#pulseEnd + 1 + i) % PULSE_SECONDS];
    }
    return out;
  }

  #haystack = (e: StreamEvent): string => {
    let text = this.#haystacks.get(e);
    if (text === undefined) this.#haystacks.set(e, text = searchText(e));
    return text;
  };

  #filtered() {
    const accept = eventFilter(this.#filters, this.#haystack);
    return {
      p: newestFirst(this.#buckets.priority, accept),
      r: newestFirst(this.#buckets.regular, accept),
    };
  }

  #core(p: StreamEvent[], r: StreamEvent[]) {
    const caps = this.#buckets.caps;
    return {
      priority: p.map((e) => this.#rowOf(e)),
      regular: r.map((e) => this.#rowOf(e)),
      shownRegular: displayRegularCount(p.length, r.length, caps.display),
      counts: {
        priority: this.#buckets.priority.length,
        regular: this.#buckets.regular.length,
        display: Math.min(
          caps.display,
          this.#buckets.priority.length + this.#buckets.regular.length,
        ),
      },
    };
  }

  #unsent(p: FeedRow[], r: FeedRow[]): FeedRow[] {
    const next = new Set<number>();
    const out: FeedRow[] = [];
    for (const list of [p, r]) {
      for (const row of list) {
        next.add(row.id);
        if (!this.#sent.has(row.id)) out.push(row);
      }
    }
    this.#sent = next;
    return out;
  }
}
