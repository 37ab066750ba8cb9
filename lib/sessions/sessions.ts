/**
 * Per-session aggregates, maintained incrementally as hook events and Claude Code telemetry
 * arrive: first/last seen, event counts by bucket, cost, tokens by kind, requests, errors,
 * models, lines of code, active time, and the same per prompt. The session's state is not
 * among them: the agent sessions own it, and `session_views.ts` serves the two together.
 *
 * Cost and tokens arrive twice from Claude Code: once per API call as `api_request` events and
 * again, summed, as the `claude_code.cost.usage` / `claude_code.token.usage` metrics. Both sums
 * are kept apart per session, model and kind, and the aggregate is the larger of the two, so
 * the same spend is never counted twice, and whichever signal is ahead (logs every 5 s,
 * metrics every 60 s, or only one of them enabled) is shown. Delta points are deduplicated by
 * series and window; cumulative points contribute their growth since the series' last point.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { StoredEvent } from "../../common/events.ts";
import type {
  SessionAggregates,
  SessionDetailAggregates,
} from "../../common/sessions.ts";
import {
  pointTime,
  TOKEN_KINDS,
  type UsageKind,
  type UsagePoint,
  type UsageRecord,
} from "./usage.ts";
import { type SessionQuery, SessionTables } from "./schema.ts";
import { foldHookEvents } from "./tally.ts";
import { TelemetryDedupe } from "./dedupe.ts";

export {
  SESSION_MIGRATIONS,
  SESSION_RETENTION_MS,
  SESSION_SORTS,
  type SessionQuery,
} from "./schema.ts";
import { errorFields, log } from "../base/log.ts";
export { OTEL_TYPE_PREFIX } from "./tally.ts";

/** Spend that newly counts, for the `claude_cost_usd_total` / `claude_tokens_total` counters. */
export interface SpendDelta {
  model: string;
  kind: "cost" | (typeof TOKEN_KINDS)[number];
  amount: number;
}

/** What one recording call changed. */
export interface Changes {
  /** Sessions whose aggregates changed. */
  sessions: Set<string>;
  spend: SpendDelta[];
}

/** Longest time a committed hook event waits before it is folded into the aggregates. */
export const OBSERVE_DELAY_MS = 100;

/**
 * Session aggregates in the events database (own tables, own migration).
 *
 * @example
 * ```ts
 * const tracker = new SessionTracker(store.db);
 * tracker.recordHookEvents(committedEvents);
 * const { fresh } = tracker.recordUsageRecords(events, Date.now());
 * tracker.list({ limit: 50, sort: "cost_usd", order: "desc" });
 * ```
 */
export class SessionTracker {
  readonly #tables: SessionTables;
  readonly #dedupe: TelemetryDedupe;
  #pending: StoredEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  // The first automatic prune comes an hour after start, not on the first export.
  #lastPrune = Date.now();

  /** Opens (migrating) the sessions tables on `db`: the events database's own connection. */
  constructor(db: DatabaseSync) {
    this.#tables = new SessionTables(db);
    this.#dedupe = new TelemetryDedupe(this.#tables);
  }

  /**
   * {@linkcode recordHookEvents} for the commit path, deferred: committed events are folded in
   * at most {@linkcode OBSERVE_DELAY_MS} later (or at the next read, or at
   * {@linkcode SessionTracker.close}), so many commits share one aggregate transaction. A
   * failure is logged, never thrown.
   */
  observe(events: readonly StoredEvent[]): void {
    for (const e of events) this.#pending.push(e);
    if (this.#pending.length >= 10_000) this.flush();
    else if (this.#timer === null && this.#pending.length > 0) {
      this.#timer = setTimeout(() => this.flush(), OBSERVE_DELAY_MS);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Folds in the hook events {@linkcode observe} is holding. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    try {
      this.recordHookEvents(events);
      this.#prune(Date.now());
    } catch (error) {
      log.error("session aggregates not updated", errorFields(error));
    }
  }

  /** Flushes and stops the timer; call before closing the database. */
  close(): void {
    this.flush();
  }

  /**
   * Counts committed hook events: folded per session and prompt first,
   * so a batch costs a few statements per session rather than per event; one transaction.
   */
  recordHookEvents(events: readonly StoredEvent[]): Changes {
    const changes: Changes = { sessions: new Set(), spend: [] };
    if (events.length === 0) return changes;
    const { sessions, prompts } = foldHookEvents(events);
    const s = this.#tables.s;
    this.#tables.tx(() => {
      for (const [id, f] of sessions) {
        s.touch.run(id, f.first, f.last);
        s.hook.run(f.app, f.otelApp, f.priority, f.regular, id);
        changes.sessions.add(id);
      }
      for (const p of prompts) {
        s.prompt.run(
          p.sessionId,
          p.promptId,
          p.first,
          p.last,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          p.hookEvents,
          null,
        );
      }
    });
    return changes;
  }

  /**
   * Applies Claude Code events; a record already applied (a retried export) is skipped.
   * Returns the events applied for the first time.
   */
  recordUsageRecords(
    events: readonly UsageRecord[],
    now: number,
  ): Changes & { fresh: UsageRecord[] } {
    this.flush();
    const changes: Changes & { fresh: UsageRecord[] } = {
      sessions: new Set(),
      spend: [],
      fresh: [],
    };
    if (events.length === 0) return changes;
    const s = this.#tables.s;
    this.#tables.tx(() => {
      for (const e of events) {
        if (!this.#dedupe.firstSeen(e.key, now)) continue;
        changes.fresh.push(e);
        changes.sessions.add(e.sessionId);
        s.touch.run(e.sessionId, e.time, e.time);
        const isRequest = e.name === "api_request";
        const isError = e.name === "api_error";
        s.otelCount.run(isRequest ? 1 : 0, isError ? 1 : 0, e.sessionId);
        if (isRequest) {
          const model = e.model ?? "unknown";
          this.#addUsage(
            e.sessionId,
            model,
            "cost",
            e.costUsd,
            "events",
            changes,
          );
          for (const kind of TOKEN_KINDS) {
            this.#addUsage(
              e.sessionId,
              model,
              kind,
              e.tokens[kind],
              "events",
              changes,
            );
          }
        }
        if (e.promptId !== null) {
          const length = e.name === "user_prompt"
            ? Number(e.attributes.prompt_length)
            : NaN;
          s.prompt.run(
            e.sessionId,
            e.promptId,
            e.time,
            e.time,
            isRequest ? e.costUsd : 0,
            isRequest ? e.tokens.input : 0,
            isRequest ? e.tokens.output : 0,
            isRequest ? e.tokens.cacheRead : 0,
            isRequest ? e.tokens.cacheCreation : 0,
            isRequest ? 1 : 0,
            isError ? 1 : 0,
            0,
            Number.isFinite(length) ? length : null,
          );
        }
      }
      this.#prune(now);
    });
    return changes;
  }

  /** Applies Claude Code metric points (delta or cumulative). */
  recordUsage(points: readonly UsagePoint[], now: number): Changes {
    this.flush();
    const changes: Changes = { sessions: new Set(), spend: [] };
    if (points.length === 0) return changes;
    const s = this.#tables.s;
    this.#tables.tx(() => {
      for (const p of points) {
        const amount = this.#dedupe.growth(p, now);
        if (amount === null) continue;
        const at = pointTime(p, now);
        s.touch.run(p.sessionId, at, at);
        changes.sessions.add(p.sessionId);
        if (amount > 0) {
          this.#addUsage(
            p.sessionId,
            p.model,
            p.kind,
            amount,
            "metrics",
            changes,
          );
        }
      }
      this.#prune(now);
    });
    return changes;
  }

  /**
   * Adds to one source's sum and moves the session total by the growth of max(events, metrics).
   */
  #addUsage(
    sessionId: string,
    model: string,
    kind: UsageKind,
    amount: number,
    source: "events" | "metrics",
    changes: Changes,
  ): void {
    if (amount <= 0) return;
    const s = this.#tables.s;
    const row = s.usageGet.get(sessionId, model, kind) as
      | { from_events: number; from_metrics: number }
      | undefined;
    const events = (row?.from_events ?? 0) + (source === "events" ? amount : 0);
    const metrics = (row?.from_metrics ?? 0) +
      (source === "metrics" ? amount : 0);
    s.usagePut.run(sessionId, model, kind, events, metrics);
    const before = Math.max(row?.from_events ?? 0, row?.from_metrics ?? 0);
    const growth = Math.max(events, metrics) - before;
    if (growth > 0) {
      this.#tables.addTotal[kind].run(growth, sessionId);
      if (
        kind !== "lines_added" && kind !== "lines_removed" &&
        kind !== "active_time"
      ) {
        changes.spend.push({ model, kind, amount: growth });
      }
    }
    if (model !== "" && !row) {
      const models = JSON.parse(
        (s.models.get(sessionId) as { models: string }).models,
      ) as string[];
      if (!models.includes(model)) {
        models.push(model);
        models.sort();
        s.setModels.run(JSON.stringify(models), sessionId);
      }
    }
  }

  #prune(now: number): void {
    if (now - this.#lastPrune < 3_600_000) return;
    this.#lastPrune = now;
    this.prune(now);
  }

  /**
   * Deletes dedupe keys older than a day (exporters retry within minutes) and sessions not
   * seen for {@linkcode SESSION_RETENTION_MS}, with their prompts and usage. Runs by itself
   * at most hourly while telemetry arrives.
   */
  prune(now: number): number {
    return this.#tables.prune(now);
  }

  /** Sessions, filtered and sorted. */
  list(query: SessionQuery): SessionAggregates[] {
    this.flush();
    return this.#tables.list(query);
  }

  /** One session's summary; null when unknown. */
  summary(sessionId: string): SessionAggregates | null {
    this.flush();
    return this.#tables.summary(sessionId);
  }

  /** One session with its prompts and usage by model; null when unknown. */
  detail(sessionId: string): SessionDetailAggregates | null {
    this.flush();
    return this.#tables.detail(sessionId);
  }
}
