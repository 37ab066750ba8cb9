/**
 * Every instrument hookwatch records, defined once. Code on the hot path calls
 * `instruments.x.add()` / `.record()`; until {@linkcode bindInstruments} runs with a real
 * meter (`otel/setup.ts` binds them), they are OpenTelemetry's no-op instruments.
 *
 * @module
 */
import { type Meter, metrics } from "@opentelemetry/api";

const SECONDS_FAST = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

/** Agent-session pattern alerts (lib/sessions/agents.ts); counted by the replica that folds. */
function agentInstruments(meter: Meter) {
  const counter = (name: string, description: string) =>
    meter.createCounter(name, { description });
  return {
    agentToolFailuresTotal: counter(
      "agent_tool_failures_total",
      "Tool calls that failed (PostToolUseFailure)",
    ),
    agentFailureStreaksTotal: counter(
      "agent_failure_streaks_total",
      "Sessions reaching HOOKWATCH_FAILURE_STREAK consecutive tool failures",
    ),
    agentLoopsTotal: counter(
      "agent_loops_total",
      "Agents calling the same tool with the same input HOOKWATCH_LOOP_REPEATS times in a row",
    ),
    agentDangerousCommandsTotal: counter(
      "agent_dangerous_commands_total",
      "Tool calls matching a dangerous-command rule, by rule",
    ),
    agentBudgetExceededTotal: counter(
      "agent_budget_exceeded_total",
      "Sessions whose Claude Code spend passed HOOKWATCH_SESSION_BUDGET_USD",
    ),
    agentStaleSessionsTotal: counter(
      "agent_stale_sessions_total",
      "Sessions that went silent for HOOKWATCH_STALE_AFTER while working or waiting",
    ),
    agentOrphanedToolCallsTotal: counter(
      "agent_orphaned_tool_calls_total",
      "Tool calls with no outcome after HOOKWATCH_ORPHAN_AFTER",
    ),
  };
}

function create(meter: Meter) {
  return {
    eventsTotal: meter.createCounter("events_total", {
      description: "Events stored, by bucket",
    }),
    priorityEventsTotal: meter.createCounter("priority_events_total", {
      description: "Priority events stored",
    }),
    regularEventsTotal: meter.createCounter("regular_events_total", {
      description: "Regular events stored",
    }),
    eventsProcessedTotal: meter.createCounter("events_processed_total", {
      description: "Events processed, by hook_event_type",
    }),
    classificationDuration: meter.createHistogram(
      "event_classification_duration_seconds",
      {
        description: "Time to classify one event",
        unit: "s",
        advice: {
          explicitBucketBoundaries: [1e-7, 5e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
        },
      },
    ),
    queryDuration: meter.createHistogram("database_query_duration_seconds", {
      description: "Database query time, by query name",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_FAST },
    }),
    insertBatchSize: meter.createHistogram("database_insert_batch_size", {
      description: "Events committed per group-commit transaction",
      advice: {
        explicitBucketBoundaries: [
          1,
          2,
          5,
          10,
          25,
          50,
          100,
          250,
          500,
          1000,
          5000,
        ],
      },
    }),
    eventsExpiredTotal: meter.createCounter("events_expired_total", {
      description: "Events deleted by retention, by bucket",
    }),
    sseBroadcastLatency: meter.createHistogram(
      "sse_broadcast_latency_seconds",
      {
        description:
          "Time from commit to the frame being handed to every stream client",
        unit: "s",
        advice: { explicitBucketBoundaries: SECONDS_FAST },
      },
    ),
    sseClientsDroppedTotal: meter.createCounter("sse_clients_dropped_total", {
      description: "Stream clients disconnected for falling too far behind",
    }),
    claudeCostUsdTotal: meter.createCounter("claude_cost_usd_total", {
      description:
        "Claude Code spend in USD from its own telemetry (events and metrics, never both), by model",
    }),
    claudeTokensTotal: meter.createCounter("claude_tokens_total", {
      description:
        "Claude Code tokens from its own telemetry, by model and type (input, output, cache_read, cache_creation)",
    }),
    redactionsTotal: meter.createCounter("redactions_total", {
      description:
        "Secrets replaced by [REDACTED:<kind>] at ingest, by kind (the built-in kinds and HOOKWATCH_REDACT_PATTERNS')",
    }),
    otlpItemsTotal: meter.createCounter("otlp_items_total", {
      description:
        "OTLP log records and data points received, by signal and outcome (accepted, duplicate, ignored, rejected)",
    }),
    ...agentInstruments(meter),
  };
}

/** The instruments, no-op until bound. */
export type Instruments = ReturnType<typeof create>;

/** The live instruments; replaced in place by {@linkcode bindInstruments}. */
export const instruments: Instruments = create(metrics.getMeter("hookwatch"));

/** Rebinds every instrument to `meter` (called once by the metrics setup). */
export function bindInstruments(meter: Meter): void {
  Object.assign(instruments, create(meter));
}
