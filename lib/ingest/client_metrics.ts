/**
 * Client metrics: what each dashboard reports every minute at `POST /api/metrics/client`
 * (the monitoring guide's `sendMetrics`), validated and kept per client, latest only. Clients
 * that stop reporting expire, and the number kept is capped, so a thousand tabs coming and
 * going cannot grow the exported series without bound.
 *
 * @module
 */
import { HttpError } from "../../common/errors.ts";

/** One client's latest report, in the units it was sent in (bytes, ms). */
export interface ClientReport {
  clientId: string;
  /** The client's clock when it sent the report, ms. */
  timestamp: number;
  /** JS heap in use, bytes; null where the browser does not expose it. */
  memoryUsage: number | null;
  eventCounts: { priority: number; regular: number; total: number };
  fps: number;
  frameDrops: number;
  /** Dropped ÷ expected frames; null in the guide's minimal form. */
  frameDropRatio: number | null;
  classificationTimeMs: number | null;
  bucketSwitchMs: number | null;
  e2eLatencyMs: { p50: number; p99: number } | null;
}

/** A stored report with the server time it arrived. */
export interface ClientEntry extends ClientReport {
  receivedAt: number;
}

/** A report that cannot be used (400); `field` names the first bad field (dotted path). */
export class ClientMetricsError extends HttpError {
  constructor(readonly field: string, message: string) {
    super(400, `${field} ${message}`, { field });
    this.name = "ClientMetricsError";
  }
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HOUR_MS = 3_600_000;

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ClientMetricsError(field, "must be an object");
  }
  return value as Json;
}

function number(
  parent: Json,
  key: string,
  path: string,
  max: number,
  options: { integer?: boolean; optional?: boolean; min?: number } = {},
): number | null {
  const value = parent[key];
  const field = `${path}${key}`;
  if (value === undefined || value === null) {
    if (options.optional) return null;
    throw new ClientMetricsError(field, "is required");
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ClientMetricsError(field, "must be a number");
  }
  const min = options.min ?? 0;
  if (value < min || value > max) {
    throw new ClientMetricsError(field, `must be from ${min} to ${max}`);
  }
  if (options.integer && !Number.isInteger(value)) {
    throw new ClientMetricsError(field, "must be a whole number");
  }
  return value;
}

const required = (parent: Json, key: string, path: string, max: number) =>
  number(parent, key, path, max) as number;
const count = (parent: Json, key: string, path: string) =>
  number(parent, key, path, 1e9, { integer: true }) as number;
const optional = (parent: Json, key: string, path: string, max: number) =>
  number(parent, key, path, max, { optional: true });
/** Event timestamps come from the agents' clocks: skew can make a latency negative, read as 0. */
const latency = (parent: Json, key: string, path: string) =>
  Math.max(0, number(parent, key, path, HOUR_MS, { min: -HOUR_MS }) as number);

/**
 * Validates a client metrics body: the full form
 * `{ timestamp, clientId, metrics: { memoryUsage, eventCounts, renderingStats: { fps, frameDrops,
 * frameDropRatio }, classificationTimeMs, bucketSwitchMs, e2eLatencyMs: { p50, p99 } } }` or the
 * guide's minimal one (only `memoryUsage`, `eventCounts`, `renderingStats: { fps, frameDrops }`).
 *
 * @throws {ClientMetricsError} naming the first bad field.
 * @example
 * ```ts
 * const report = parseClientReport({
 *   timestamp: Date.now(), clientId: "tab-1",
 *   metrics: { memoryUsage: 12e6, eventCounts: { priority: 3, regular: 90, total: 93 },
 *     renderingStats: { fps: 60, frameDrops: 0 } },
 * });
 * ```
 */
export function parseClientReport(body: unknown): ClientReport {
  const root = object(body, "body");
  const clientId = root.clientId;
  if (typeof clientId !== "string" || !CLIENT_ID.test(clientId)) {
    throw new ClientMetricsError(
      "clientId",
      "must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'",
    );
  }
  const timestamp = required(root, "timestamp", "", 1e15);
  const metrics = object(root.metrics, "metrics");
  const counts = object(metrics.eventCounts, "metrics.eventCounts");
  const rendering = object(metrics.renderingStats, "metrics.renderingStats");
  let e2eLatencyMs: ClientReport["e2eLatencyMs"] = null;
  if (metrics.e2eLatencyMs !== undefined && metrics.e2eLatencyMs !== null) {
    const e2e = object(metrics.e2eLatencyMs, "metrics.e2eLatencyMs");
    e2eLatencyMs = {
      p50: latency(e2e, "p50", "metrics.e2eLatencyMs."),
      p99: latency(e2e, "p99", "metrics.e2eLatencyMs."),
    };
  }
  return {
    clientId,
    timestamp,
    memoryUsage: optional(metrics, "memoryUsage", "metrics.", 1e12),
    eventCounts: {
      priority: count(counts, "priority", "metrics.eventCounts."),
      regular: count(counts, "regular", "metrics.eventCounts."),
      total: count(counts, "total", "metrics.eventCounts."),
    },
    fps: required(rendering, "fps", "metrics.renderingStats.", 1000),
    frameDrops: count(rendering, "frameDrops", "metrics.renderingStats."),
    frameDropRatio: optional(
      rendering,
      "frameDropRatio",
      "metrics.renderingStats.",
      1,
    ),
    classificationTimeMs: optional(
      metrics,
      "classificationTimeMs",
      "metrics.",
      HOUR_MS,
    ),
    bucketSwitchMs: optional(metrics, "bucketSwitchMs", "metrics.", HOUR_MS),
    e2eLatencyMs,
  };
}

/** Options of {@linkcode ClientMetricsRegistry}. */
export interface ClientMetricsOptions {
  /** A client not heard from for this long is forgotten (default 5 minutes). */
  staleMs?: number;
  /** Most clients kept; past it the longest-silent one is forgotten (default 2,000). */
  maxClients?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * The latest report of each live client.
 *
 * @example
 * ```ts
 * const clients = new ClientMetricsRegistry({ staleMs: 300_000 });
 * clients.record(parseClientReport(body));
 * const fps = [...clients.live()].map((entry) => entry.fps);
 * ```
 */
export class ClientMetricsRegistry {
  readonly staleMs: number;
  readonly maxClients: number;
  readonly #now: () => number;
  /** Kept in order of last report, oldest first, so expiry stops at the first live one. */
  readonly #clients = new Map<string, ClientEntry>();

  constructor(options: ClientMetricsOptions = {}) {
    this.staleMs = options.staleMs ?? 5 * 60_000;
    this.maxClients = options.maxClients ?? 2_000;
    this.#now = options.now ?? Date.now;
  }

  /** Stores `report` as its client's latest. */
  record(report: ClientReport): void {
    this.#clients.delete(report.clientId);
    this.#clients.set(report.clientId, {
      ...report,
      receivedAt: this.#now(),
    });
    if (this.#clients.size > this.maxClients) {
      this.#clients.delete(this.#clients.keys().next().value!);
    }
  }

  /** Forgets stale clients, then returns the rest, oldest report first. */
  live(): ClientEntry[] {
    const cutoff = this.#now() - this.staleMs;
    for (const [id, entry] of this.#clients) {
      if (entry.receivedAt > cutoff) break;
      this.#clients.delete(id);
    }
    return [...this.#clients.values()];
  }

  /** Clients held (stale ones included until the next {@linkcode live}). */
  get size(): number {
    return this.#clients.size;
  }
}
