/**
 * Traffic that makes every hookwatch metric appear: events of both buckets (one batch among
 * them) and client reports. Open a stream first to get broadcast latencies too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { postJson, sampleEvent } from "./server.ts";

const PRIORITY = ["Stop", "Notification", "UserPromptSubmit", "SubagentStop"];
const REGULAR = ["PreToolUse", "PostToolUse", "SessionStart"];

/** A full-form client metrics body. */
export function clientReport(clientId: string, memoryUsage: number) {
  return {
    timestamp: Date.now(),
    clientId,
    metrics: {
      memoryUsage,
      eventCounts: { priority: 9, regular: 14, total: 23 },
      renderingStats: { fps: 58, frameDrops: 3, frameDropRatio: 0.01 },
      classificationTimeMs: 0.001,
      bucketSwitchMs: 7,
      e2eLatencyMs: { p50: 12, p99: 48 },
    },
  };
}

/** Posts 9 priority and 14 regular events (one batch of 5 among them); returns the count per hook type. */
export async function traffic(url: string) {
  const expected = new Map<string, number>();
  const count = (type: string) =>
    expected.set(type, (expected.get(type) ?? 0) + 1);
  for (let i = 0; i < 7; i++) {
    const type = PRIORITY[i % PRIORITY.length];
    count(type);
    assert.equal(
      (await postJson(`${url}/events`, sampleEvent({ hook_event_type: type })))
        .status,
      200,
    );
  }
  for (let i = 0; i < 11; i++) {
    const type = REGULAR[i % REGULAR.length];
    count(type);
    assert.equal(
      (await postJson(`${url}/events`, sampleEvent({ hook_event_type: type })))
        .status,
      200,
    );
  }
  const batch = [
    "Stop",
    "Notification",
    "PreToolUse",
    "PostToolUse",
    "CustomThing",
  ]
    .map((type) => (count(type), sampleEvent({ hook_event_type: type })));
  assert.equal((await postJson(`${url}/events/batch`, batch)).status, 200);
  // Claude Code's own telemetry (OTLP metrics: no events stored), for the spend counters.
  const spend = (metric: string, value: number, type?: string) => ({
    name: metric,
    sum: {
      aggregationTemporality: 1,
      isMonotonic: true,
      dataPoints: [{
        asDouble: value,
        startTimeUnixNano: `${Date.now() - 1000}000000`,
        timeUnixNano: `${Date.now()}000000`,
        attributes: [
          { key: "session.id", value: { stringValue: "traffic-session" } },
          { key: "model", value: { stringValue: "claude-sonnet-4-5" } },
          ...(type ? [{ key: "type", value: { stringValue: type } }] : []),
        ],
      }],
    },
  });
  const otlp = await postJson(`${url}/v1/metrics`, {
    resourceMetrics: [{
      scopeMetrics: [{
        metrics: [
          spend("claude_code.cost.usage", 0.01),
          spend("claude_code.token.usage", 100, "input"),
        ],
      }],
    }],
  });
  assert.equal(otlp.status, 200);
  return expected;
}
