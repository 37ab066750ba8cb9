/**
 * Configuration from the environment, validated once at start-up: a bad value stops the
 * process with a message naming the variable.
 *
 * @module
 */
import { DEFAULT_PRIORITY_TYPES } from "../../common/classify.ts";
import { DEFAULT_RETENTION } from "../../common/buckets.ts";
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./log.ts";
import { type AgentConfig, loadAgentConfig } from "./agent_config.ts";
import { type AccessConfig, loadAccessConfig } from "./access_config.ts";
import { ConfigError, parseDuration } from "./config_values.ts";

export { ConfigError, parseDuration } from "./config_values.ts";
import {
  parseRedactFlag,
  parseRedactPatterns,
  RedactConfigError,
  type RedactPattern,
} from "./redact_config.ts";

/** hookwatch's configuration. */
export interface Config {
  port: number;
  host: string;
  /** `sqlite:<path>` / a plain path for SQLite, or `postgres://…`. */
  databaseUrl: string;
  /** `HOOKWATCH_TOKEN` (the admin token), for the log to mask; who may do what is `access`. */
  token: string | null;
  /** `HOOKWATCH_METRICS_TOKEN`, for the log to mask. */
  metricsToken: string | null;
  /** Named tokens, roles, the SSO proxy, sign-in sessions (`lib/base/access_config.ts`). */
  access: AccessConfig;
  priorityEventTypes: string[];
  retentionPriorityMs: number;
  retentionRegularMs: number;
  otlpEndpoint: string | null;
  /** Largest accepted body for one event, bytes. */
  maxBodyBytes: number;
  /** Largest accepted batch body, bytes. */
  maxBatchBytes: number;
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Bytes a stream client may fall behind before it is disconnected. */
  streamClientQueueBytes: number;
  /** How many missed events a resuming client gets replayed before it gets a fresh snapshot. */
  streamReplayLimit: number;
  heartbeatMs: number;
  /** A request body must arrive whole within this many milliseconds (slow-loris guard). */
  bodyTimeoutMs: number;
  /** Most open streams in all (503 beyond). */
  streamMaxClients: number;
  /** Most open streams from one client address (429 beyond). */
  streamMaxClientsPerIp: number;
  /** Browser origins allowed by CORS; empty allows none beyond same-origin. */
  corsOrigins: string[];
  /** false turns instrumentation off (`HOOKWATCH_METRICS=off`), for measuring its cost. */
  metricsEnabled: boolean;
  /** `LOG_FORMAT`: `text` (default) or `json` lines. */
  logFormat: LogFormat;
  /** `LOG_LEVEL`: records below it are dropped. */
  logLevel: LogLevel;
  /** `HOOKWATCH_ARCHIVE_DIR`: expired events are archived here before deletion; null deletes. */
  archiveDir: string | null;
  /** `RETENTION_SWEEP_INTERVAL`: time between retention sweeps. */
  retentionSweepIntervalMs: number;
  /** Tool calls, staleness and pattern alerts (`HOOKWATCH_STALE_AFTER` …). */
  agents: AgentConfig;
  /** false stores events unredacted (`HOOKWATCH_REDACT=off`). */
  redact: boolean;
  /** Extra secret patterns (`HOOKWATCH_REDACT_PATTERNS`). */
  redactPatterns: RedactPattern[];
  /** `HOOKWATCH_DECISIONS=on`: `/hooks/:app/decide` holds permission requests for a person. */
  decisions: boolean;
  /** `HOOKWATCH_DECISION_WAIT`: longest a held permission request waits (default 50s). */
  decisionWaitMs: number;
}

function integer(
  env: Record<string, string | undefined>,
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      variable,
      `"${raw}" is not a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

function oneOf<T extends string>(
  env: Record<string, string | undefined>,
  variable: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(
      variable,
      `"${env[variable]}" is not one of ${values.join(", ")}`,
    );
  }
  return raw as T;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((s) => s.trim()).filter((s) =>
    s.length > 0
  );
}

/** True when `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Reads and validates the configuration.
 *
 * @throws {ConfigError} naming the first bad variable.
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Config {
  const host = env.HOST?.trim() || "127.0.0.1";
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(host)) {
    throw new ConfigError("HOST", `"${host}" is not a host name or address`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() || "sqlite:./data/hookwatch.db";
  if (
    !/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl) &&
    !databaseUrl.endsWith(".db")
  ) {
    throw new ConfigError(
      "DATABASE_URL",
      "must be sqlite:<path>, a path ending in .db, or postgres://…",
    );
  }
  const priorityEventTypes = env.PRIORITY_EVENT_TYPES === undefined
    ? [...DEFAULT_PRIORITY_TYPES]
    : list(env.PRIORITY_EVENT_TYPES);
  for (const type of priorityEventTypes) {
    if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(type)) {
      throw new ConfigError(
        "PRIORITY_EVENT_TYPES",
        `"${type}" is not a hook event name`,
      );
    }
  }
  const otlp = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || null;
  if (otlp !== null && !URL.canParse(otlp)) {
    throw new ConfigError(
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      `"${otlp}" is not a URL`,
    );
  }
  const token = env.HOOKWATCH_TOKEN || null;
  if (token !== null && token.length < 8) {
    throw new ConfigError("HOOKWATCH_TOKEN", "must be at least 8 characters");
  }
  const decisionsFlag = (env.HOOKWATCH_DECISIONS ?? "off").toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(decisionsFlag)) {
    throw new ConfigError(
      "HOOKWATCH_DECISIONS",
      `"${env.HOOKWATCH_DECISIONS}" is not on or off`,
    );
  }
  const decisions = ["on", "true", "1"].includes(decisionsFlag);
  const access = loadAccessConfig(env);
  const guarded = access.admin !== null || access.fileTokens.length > 0 ||
    access.proxy !== null;
  if (decisions && !guarded && !isLoopback(host)) {
    throw new ConfigError(
      "HOOKWATCH_DECISIONS",
      `is on while HOST ${host} is beyond loopback and no HOOKWATCH_TOKEN, HOOKWATCH_TOKENS_FILE or auth proxy is set: anyone reaching the port could allow an agent's tool calls`,
    );
  }
  const decisionWaitMs = parseDuration(
    env.HOOKWATCH_DECISION_WAIT ?? "50s",
    "HOOKWATCH_DECISION_WAIT",
  );
  if (decisionWaitMs < 1000 || decisionWaitMs > 3_600_000) {
    throw new ConfigError(
      "HOOKWATCH_DECISION_WAIT",
      "must be between 1s and 1h",
    );
  }
  const metricsFlag = (env.HOOKWATCH_METRICS ?? "on").toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(metricsFlag)) {
    throw new ConfigError(
      "HOOKWATCH_METRICS",
      `"${env.HOOKWATCH_METRICS}" is not on or off`,
    );
  }
  const logFormat = oneOf(env, "LOG_FORMAT", LOG_FORMATS, "text");
  const logLevel = oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info");
  const retentionSweepIntervalMs = parseDuration(
    env.RETENTION_SWEEP_INTERVAL ?? "60s",
    "RETENTION_SWEEP_INTERVAL",
  );
  if (retentionSweepIntervalMs < 100) {
    throw new ConfigError(
      "RETENTION_SWEEP_INTERVAL",
      "must be at least 100ms",
    );
  }
  let redact: boolean, redactPatterns: RedactPattern[];
  try {
    redact = parseRedactFlag(env.HOOKWATCH_REDACT);
    redactPatterns = parseRedactPatterns(env.HOOKWATCH_REDACT_PATTERNS);
  } catch (error) {
    if (!(error instanceof RedactConfigError)) throw error;
    throw new ConfigError(error.variable, error.message);
  }
  return {
    port: integer(env, "PORT", 4000, 0, 65535),
    host,
    databaseUrl,
    token,
    metricsToken: env.HOOKWATCH_METRICS_TOKEN || null,
    access,
    priorityEventTypes,
    retentionPriorityMs: env.RETENTION_PRIORITY === undefined
      ? DEFAULT_RETENTION.priority
      : parseDuration(env.RETENTION_PRIORITY, "RETENTION_PRIORITY"),
    retentionRegularMs: env.RETENTION_REGULAR === undefined
      ? DEFAULT_RETENTION.regular
      : parseDuration(env.RETENTION_REGULAR, "RETENTION_REGULAR"),
    otlpEndpoint: otlp,
    maxBodyBytes: integer(
      env,
      "MAX_BODY_BYTES",
      4 * 1024 * 1024,
      1024,
      256 * 1024 * 1024,
    ),
    maxBatchBytes: integer(
      env,
      "MAX_BATCH_BYTES",
      32 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    maxBatchEvents: integer(env, "MAX_BATCH_EVENTS", 10_000, 1, 1_000_000),
    streamClientQueueBytes: integer(
      env,
      "STREAM_CLIENT_QUEUE_BYTES",
      4 * 1024 * 1024,
      64 * 1024,
      1024 * 1024 * 1024,
    ),
    streamReplayLimit: integer(env, "STREAM_REPLAY_LIMIT", 5_000, 1, 1_000_000),
    heartbeatMs: integer(env, "STREAM_HEARTBEAT_MS", 15_000, 100, 3_600_000),
    bodyTimeoutMs: integer(env, "BODY_TIMEOUT_MS", 30_000, 100, 3_600_000),
    streamMaxClients: integer(env, "STREAM_MAX_CLIENTS", 2_000, 1, 1_000_000),
    streamMaxClientsPerIp: integer(
      env,
      "STREAM_MAX_CLIENTS_PER_IP",
      1_000,
      1,
      1_000_000,
    ),
    corsOrigins: list(env.CORS_ORIGINS),
    metricsEnabled: ["on", "true", "1"].includes(metricsFlag),
    logFormat,
    logLevel,
    archiveDir: env.HOOKWATCH_ARCHIVE_DIR?.trim() || null,
    retentionSweepIntervalMs,
    agents: loadAgentConfig(env),
    redact,
    redactPatterns,
    decisions,
    decisionWaitMs,
  };
}
