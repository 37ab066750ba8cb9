/**
 * Agent sessions, running: observes the committed-events feed, folds its events into tool
 * calls, session states and inbox items in the store (shortly after their commit, many commits
 * to one transaction), sweeps for stale sessions and orphaned calls, and tells listeners about
 * every inbox change — this replica's and, with PostgreSQL, every other's (NOTIFY carries the
 * inbox version; each replica reads the rows changed since the version it has seen).
 *
 * @module
 */
import type { StoredEvent } from "../../common/events.ts";
import type {
  AgentState,
  InboxItem,
  SessionActivity,
  ToolCall,
} from "../../common/agents.ts";
import type { EventStore } from "../store/store.ts";
import type { Db, Tx } from "../store/db.ts";
import type { AgentConfig } from "../base/agent_config.ts";
import { AGENT_MIGRATIONS, AGENTS_CHANNEL } from "./tables.ts";
import { foldTx, skipTx, sweepTx } from "./writes.ts";
import {
  type ActionRefusal,
  actTx,
  decideTx,
  type DecisionRefusal,
} from "./inbox_actions.ts";
import {
  activitiesOfTx,
  activitiesTx,
  activityTx,
  changesTx,
  cursorTx,
  type InboxQuery,
  inboxTx,
  itemsOfEventTx,
  itemTx,
  sessionIdsInTx,
  type SessionPick,
  type ToolQuery,
  toolsTx,
} from "./reads.ts";
import { errorFields, log } from "../base/log.ts";
import { recordAlerts, startAlertCounters } from "./alerts.ts";
import { asStoreUnavailable, whileUnavailable } from "../store/store_errors.ts";

/** Longest a committed event waits before it is folded. */
export const FOLD_DELAY_MS = 50;

/** Events folded per transaction while catching up at start-up. */
const CATCH_UP_PAGE = 200;

/** Receives inbox items after they changed (raised, resolved, acknowledged, snoozed). */
export type InboxListener = (items: readonly InboxItem[]) => void;

/** Options of {@linkcode Agents}. */
export interface AgentsOptions {
  /** Run the periodic stale/orphan sweep (default true). */
  sweep?: boolean;
  /** Clock, for tests. */
  now?: () => number;
  /** Counts written in every fold's transaction (the session aggregates). */
  tally?: Tally;
}

/**
 * Counts kept beside the agent sessions: written inside every fold's transaction, on the
 * events it folds, so each committed event counts exactly once across replicas.
 */
export interface Tally {
  /** Resolves once its tables exist: nothing is folded before. */
  readonly ready: Promise<void>;
  tallyTx(events: readonly StoredEvent[]): Tx<void>;
}

/**
 * Tool calls, session activity and the attention inbox of every session.
 *
 * @example
 * ```ts
 * const agents = new Agents(store, config.agents);
 * feed.observe((events) => agents.observe(events));
 * agents.onChange((items) => publish(items));
 * await agents.inbox({ status: "active", limit: 100 });
 * ```
 */
export class Agents {
  readonly #db: Db;
  readonly #config: AgentConfig;
  readonly #tally: ((events: readonly StoredEvent[]) => Tx<void>) | undefined;
  readonly #now: () => number;
  readonly #listeners: InboxListener[] = [];
  #pending: StoredEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #sweeper: ReturnType<typeof setInterval> | null = null;
  /** Serialises this replica's folds, sweeps and change reads. */
  #chain: Promise<unknown> = Promise.resolve();
  #seenVersion = 0;
  /** Consecutive failed folds that were not the database being away. */
  #failures = 0;
  /** Highest event id known folded (by this replica or another). */
  #through = 0;
  #pulling = false;
  #pullAgain = false;
  #closed = false;
  #migrated = false;

  /**
   * Resolves once the tables are migrated; never rejects. A migration on a database that
   * already holds events starts the fold after them (history is not folded), so nothing may
   * be stored before this resolves, or it would count as history: ingest waits for it.
   */
  readonly migrated: Promise<void>;

  /** True once {@linkcode Agents.migrated} has resolved (readiness). */
  get isMigrated(): boolean {
    return this.#migrated;
  }

  /** Resolves once the tables are migrated and missed events folded; never rejects. */
  readonly ready: Promise<void>;

  /**
   * Opens the agent tables in the store's database (and, with PostgreSQL, listens for other
   * replicas' inbox changes); {@linkcode Agents.ready} then catches up on events committed but
   * not folded (a crash between commit and fold).
   */
  constructor(
    store: EventStore,
    config: AgentConfig,
    options: AgentsOptions = {},
  ) {
    this.#config = config;
    this.#now = options.now ?? Date.now;
    startAlertCounters(config);
    this.#db = store.db;
    const tally = options.tally;
    this.#tally = tally && ((events) => tally.tallyTx(events));
    // The database may be away at start-up (PostgreSQL restarting with its replicas).
    const migrated = whileUnavailable(async () => {
      await tally?.ready;
      await this.#db.migrate("agents", AGENT_MIGRATIONS);
      await this.#db.listen(AGENTS_CHANNEL, () => this.#pull());
    }, {
      message: "agent tables not created yet, the database is away; retrying",
      stopped: () => this.#closed,
    });
    this.migrated = migrated.catch(() => {}).finally(() => {
      this.#migrated = true;
    });
    this.ready = migrated.then(async () => {
      const cursor = await this.#db.read(() => cursorTx());
      this.#seenVersion = cursor.version;
      this.#through = cursor.lastEventId;
      let after = cursor.lastEventId;
      // In pages, yielding between them: ingest goes on while a restart catches up.
      while (!this.#closed) {
        const missed = await store.since(after, CATCH_UP_PAGE);
        if (missed.length === 0) break;
        await this.#foldNow(missed);
        after = missed[missed.length - 1].id;
        if (missed.length < CATCH_UP_PAGE) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (options.sweep !== false && !this.#closed) this.#startSweeper();
    }).catch((error) => {
      log.error("agent sessions could not start", errorFields(error));
    });
    this.#chain = this.ready;
  }

  /** Adds a listener for every inbox change from now on (any replica's). */
  onChange(listener: InboxListener): void {
    this.#listeners.push(listener);
  }

  /** For the committed-events feed: folds the events at most {@linkcode FOLD_DELAY_MS} later. */
  observe(events: readonly StoredEvent[]): void {
    if (this.#closed) return;
    for (const e of events) this.#pending.push(e);
    if (this.#pending.length >= 5_000) void this.flush();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => void this.flush(), FOLD_DELAY_MS);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Folds what {@linkcode observe} holds; resolves when it is in the store. Never rejects. */
  flush(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const events = this.#pending;
    this.#pending = [];
    return this.#fold(events);
  }

  #fold(events: StoredEvent[]): Promise<void> {
    const run = this.#chain.then(() => this.#foldNow(events));
    this.#chain = run;
    return run;
  }

  async #foldNow(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const result = await this.#db.write(() =>
        foldTx(events, this.#config, this.#now(), this.#tally)
      );
      this.#failures = 0;
      recordAlerts(result);
      this.#through = Math.max(this.#through, result.cursor);
      if (result.version > this.#seenVersion) await this.#pullNow();
    } catch (error) {
      if (this.#closed) return;
      // The database is away: keep everything and retry. Anything else failing three times
      // is an event the store refuses: fold one by one and step over the ones that fail.
      if (!asStoreUnavailable(error) && ++this.#failures >= 3) {
        this.#failures = 0;
        await this.#foldOneByOne(events);
        return;
      }
      log.error("agent sessions not updated, retrying", errorFields(error));
      // Kept for the next fold: the cursor makes a retry exactly-once.
      this.#pending = [...events, ...this.#pending].slice(-100_000);
      this.#timer ??= setTimeout(() => void this.flush(), 1000);
    }
  }

  async #foldOneByOne(events: StoredEvent[]): Promise<void> {
    for (const e of events) {
      try {
        const result = await this.#db.write(() =>
          foldTx([e], this.#config, this.#now(), this.#tally)
        );
        recordAlerts(result);
        this.#through = Math.max(this.#through, result.cursor);
      } catch (error) {
        log.error("event skipped by agent sessions", {
          event_id: e.id,
          ...errorFields(error),
        });
        this.#through = Math.max(
          this.#through,
          await this.#db.write(() => skipTx(e.id)),
        );
      }
    }
    await this.#pullNow();
  }

  /**
   * Resolves once events up to `eventId` are folded here: with PostgreSQL the feed delivers a
   * commit a moment after it (read-your-writes for a client that just posted, and tests).
   */
  async settled(eventId: number, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      await this.flush();
      if (this.#through >= eventId) return true;
      if (Date.now() > deadline || this.#closed) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Marks stale sessions and orphaned tool calls now, and deletes sessions not seen for
   * `AGENT_RETENTION_MS` with their calls and items; any replica may run it at any time.
   * Returns how many of each it found.
   */
  sweep(): Promise<{ stale: number; orphaned: number; pruned: number }> {
    const run = this.#chain.then(async () => {
      const result = await this.#db.write(() =>
        sweepTx(this.#config, this.#now())
      );
      recordAlerts(result);
      if (result.version > this.#seenVersion) await this.#pullNow();
      return {
        stale: result.stale,
        orphaned: result.orphaned,
        pruned: result.pruned ?? 0,
      };
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  #startSweeper(): void {
    const every = Math.min(
      60_000,
      Math.max(
        1000,
        Math.min(this.#config.staleAfterMs, this.#config.orphanAfterMs) / 5,
      ),
    );
    this.#sweeper = setInterval(() => {
      this.sweep().catch((error) => {
        if (!this.#closed) {
          log.error("agent sweep failed", errorFields(error));
        }
      });
    }, every);
    Deno.unrefTimer(this.#sweeper);
  }

  /** Reads inbox changes since the version seen and tells the listeners (coalesced). */
  #pull(): void {
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = true;
    void this.#pullNow().finally(() => {
      this.#pulling = false;
      if (this.#pullAgain) {
        this.#pullAgain = false;
        this.#pull();
      }
    });
  }

  async #pullNow(): Promise<void> {
    if (this.#closed) return;
    try {
      while (true) {
        const { items, version } = await this.#db.read(() =>
          changesTx(this.#seenVersion, this.#now())
        );
        if (version <= this.#seenVersion) return;
        this.#seenVersion = version;
        for (const listener of this.#listeners) {
          try {
            listener(items);
          } catch (error) {
            log.error("an inbox listener failed", errorFields(error));
          }
        }
      }
    } catch (error) {
      if (!this.#closed) {
        log.error("reading inbox changes failed", errorFields(error));
      }
    }
  }

  /** Reads after folding what is pending: a reader sees what was committed before it asked. */
  async #read<T>(tx: () => Tx<T>): Promise<T> {
    await this.flush();
    return await this.#db.read(tx);
  }

  /** A session's tool calls, oldest first (after folding what is pending). */
  async tools(sessionId: string, query: ToolQuery): Promise<ToolCall[]> {
    return await this.#read(() => toolsTx(sessionId, query));
  }

  /** A session's activity (state and since when), or null when it has none. */
  async activity(sessionId: string): Promise<SessionActivity | null> {
    return await this.#read(() => activityTx(sessionId));
  }

  /** These sessions' activities by session id (a session with none is absent). */
  async activitiesOf(
    sessionIds: readonly string[],
  ): Promise<Map<string, SessionActivity>> {
    if (sessionIds.length === 0) return new Map();
    const list = await this.#read(() => activitiesOfTx(sessionIds));
    return new Map(list.map((a) => [a.session_id, a]));
  }

  /** The ids of every session in a state (or of an agent, or both) now. */
  async sessionIdsIn(pick: SessionPick | AgentState): Promise<string[]> {
    const which = typeof pick === "string" ? { state: pick } : pick;
    return await this.#read(() => sessionIdsInTx(which));
  }

  /** The most recently active sessions' activity, newest first. */
  async activities(limit: number): Promise<SessionActivity[]> {
    return await this.#read(() => activitiesTx(limit));
  }

  /** Inbox items, newest first. */
  async inbox(query: InboxQuery): Promise<InboxItem[]> {
    return await this.#read(() => inboxTx(query, this.#now()));
  }

  /** One inbox item, or null. */
  async item(id: number): Promise<InboxItem | null> {
    return await this.#read(() => itemTx(id, this.#now()));
  }

  /**
   * The items a stored event raised, once it is folded (waits up to `timeoutMs` for the feed):
   * how a held `PermissionRequest` finds its `permission` item.
   */
  async itemsOfEvent(eventId: number, timeoutMs = 5000): Promise<InboxItem[]> {
    await this.settled(eventId, timeoutMs);
    return await this.#db.read(() => itemsOfEventTx(eventId, this.#now()));
  }

  /** Acknowledges an item (`by`: who): it leaves the default inbox until it is resolved. */
  ack(id: number, by: string): Promise<InboxItem | ActionRefusal> {
    return this.#act(id, "ack", null, by);
  }

  /** Snoozes an item until `until` (ms), by `by`: it is back in the default inbox then. */
  snooze(
    id: number,
    until: number,
    by: string,
  ): Promise<InboxItem | ActionRefusal> {
    return this.#act(id, "snooze", until, by);
  }

  /**
   * Moves a permission item's decision on, at most once across replicas: `hold` (the request
   * that will answer), `allow` / `deny` (a person), `expire` (the held request gave up).
   */
  async decide(
    id: number,
    change: Parameters<typeof decideTx>[1],
  ): Promise<InboxItem | DecisionRefusal> {
    const result = await this.#db.write(() =>
      decideTx(id, change, this.#now())
    );
    if (typeof result !== "string") await this.#pullNow();
    return result;
  }

  async #act(
    id: number,
    action: "ack" | "snooze",
    until: number | null,
    by: string,
  ): Promise<InboxItem | ActionRefusal> {
    await this.flush();
    const result = await this.#db.write(() =>
      actTx(id, action, until, by, this.#now())
    );
    if (typeof result !== "string") await this.#pullNow();
    return result;
  }

  /** Folds what is pending and stops the timers; call before closing the store. */
  async close(): Promise<void> {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    await this.flush();
    await this.#chain.catch(() => {});
    this.#closed = true;
  }
}
