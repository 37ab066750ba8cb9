/**
 * The guide's health checks: database round trip, memory, the priority system and the stream.
 *
 * @module
 */
import type { Classifier } from "../common/classify.ts";
import type { EventStore } from "./store/store.ts";
import type { StreamStats } from "./stream/broadcaster.ts";
import type { StoreUnavailableError } from "./store/store_errors.ts";

/** One check's verdict. */
export type CheckStatus = "healthy" | "degraded" | "unhealthy";

/** The `/health` body. */
export interface HealthReport {
  status: "healthy" | "unhealthy";
  timestamp: number;
  checks: {
    database: {
      status: CheckStatus;
      responseTime?: number;
      error?: string;
      details: object;
    };
    memory: {
      status: CheckStatus;
      heapUsedMB: number;
      rssMB: number;
      details: object;
    };
    priority_system: {
      status: CheckStatus;
      classificationTime: number;
      details: { expectedPriority: 1; actualPriority: 0 | 1 };
    };
    stream: { status: CheckStatus; activeConnections: number; details: object };
  };
}

/** Thresholds from the monitoring guide. */
export const HEALTH_THRESHOLDS = Object.freeze({
  databaseMs: 100,
  heapMB: 1000,
  classificationMs: 10,
  connections: 1000,
});

/** Process memory in bytes, the one source for health and metrics. */
export function memoryUsage(): {
  rss: number;
  heapUsed: number;
  heapTotal: number;
} {
  const { rss, heapUsed, heapTotal } = Deno.memoryUsage();
  return { rss, heapUsed, heapTotal };
}

/** Inputs of {@linkcode checkHealth}. */
export interface HealthSources {
  store: EventStore;
  classify: Classifier;
  streamStats: () => StreamStats;
  /** The last failed write, while it counts (see `Hookwatch.writeFailure`). */
  writeFailure?: () => StoreUnavailableError | null;
}

/**
 * Runs every check.
 *
 * @example
 * ```ts
 * const report = await checkHealth({ store, classify, streamStats: () => broadcaster.stats() });
 * const status = report.status === "healthy" ? 200 : 503;
 * ```
 */
export async function checkHealth(
  sources: HealthSources,
): Promise<HealthReport> {
  const checks = {
    database: await checkDatabase(
      sources.store,
      sources.writeFailure?.() ?? null,
    ),
    memory: checkMemory(),
    priority_system: checkPrioritySystem(sources.classify),
    stream: checkStream(sources.streamStats()),
  };
  const healthy = Object.values(checks).every((c) => c.status === "healthy");
  return {
    status: healthy ? "healthy" : "unhealthy",
    timestamp: Date.now(),
    checks,
  };
}

/** Database round trip; unhealthy while writes fail (a full disk still answers reads). */
export async function checkDatabase(
  store: EventStore,
  writeFailure: StoreUnavailableError | null = null,
): Promise<HealthReport["checks"]["database"]> {
  const details = {
    threshold: HEALTH_THRESHOLDS.databaseMs,
    kind: store.kind,
    pool: store.poolStats?.() ?? null,
  };
  if (writeFailure) {
    return {
      status: "unhealthy",
      error: `writes are failing: ${writeFailure.reason}`,
      details,
    };
  }
  try {
    const start = performance.now();
    await store.ping();
    const responseTime = performance.now() - start;
    return {
      status: responseTime < HEALTH_THRESHOLDS.databaseMs
        ? "healthy"
        : "degraded",
      responseTime,
      details,
    };
  } catch (error) {
    return {
      status: "unhealthy",
      error: error instanceof Error ? error.message : String(error),
      details,
    };
  }
}

function checkMemory(): HealthReport["checks"]["memory"] {
  const { heapUsed, rss } = memoryUsage();
  const heapUsedMB = heapUsed / 1024 / 1024;
  return {
    status: heapUsedMB < HEALTH_THRESHOLDS.heapMB ? "healthy" : "unhealthy",
    heapUsedMB,
    rssMB: rss / 1024 / 1024,
    details: { threshold: HEALTH_THRESHOLDS.heapMB },
  };
}

function checkPrioritySystem(
  classify: Classifier,
): HealthReport["checks"]["priority_system"] {
  const start = performance.now();
  const actual = classify("UserPromptSubmit") ? 1 : 0;
  const classificationTime = performance.now() - start;
  return {
    status:
      actual === 1 && classificationTime < HEALTH_THRESHOLDS.classificationMs
        ? "healthy"
        : "unhealthy",
    classificationTime,
    details: { expectedPriority: 1, actualPriority: actual },
  };
}

function checkStream(stats: StreamStats): HealthReport["checks"]["stream"] {
  return {
    status: stats.connections < HEALTH_THRESHOLDS.connections
      ? "healthy"
      : "degraded",
    activeConnections: stats.connections,
    details: {
      threshold: HEALTH_THRESHOLDS.connections,
      queueBytes: stats.queueBytes,
      droppedTotal: stats.droppedTotal,
    },
  };
}
