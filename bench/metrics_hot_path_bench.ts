/**
 * What instrumentation costs per ingested event on the hot path, bound to the real SDK vs the
 * no-op instruments (`HOOKWATCH_METRICS=off`): `deno bench -A bench/metrics_hot_path_bench.ts`.
 * One POST /events records: classification time, the commit counters (lib/ingest/record.ts), the
 * batch size, the insert query time and the broadcast latency.
 *
 * @module
 */
import { instruments } from "../lib/base/instruments.ts";
import { recordCommitted } from "../lib/ingest/record.ts";
import { setupMetrics } from "../otel/setup.ts";
import type { StoredEvent } from "../common/events.ts";

const EVENTS = 1000;
const noop = { ...instruments };
const metrics = setupMetrics(
  { metricsEnabled: true, otlpEndpoint: null },
  { streamStats: () => ({ connections: 0, queueBytes: 0, overheadRatio: 0 }) },
  {},
);
const bound = { ...instruments };

const event = (i: number): StoredEvent => ({
  id: i,
  source_app: "bench",
  session_id: "s",
  hook_event_type: i % 3 ? "PreToolUse" : "Stop",
  payload: {},
  timestamp: 0,
  received_at: 0,
  priority: i % 3 ? 0 : 1,
  model_name: null,
  summary: null,
  event_id: null,
  agent_id: null,
} as unknown as StoredEvent);
const events = Array.from({ length: EVENTS }, (_, i) => [event(i)]);

function perEvent(): void {
  for (const batch of events) {
    instruments.classificationDuration.record(2e-7);
    recordCommitted(batch);
    instruments.insertBatchSize.record(1);
    instruments.queryDuration.record(1e-4, { query: "insert_batch" });
    instruments.sseBroadcastLatency.record(5e-4);
  }
}

Deno.bench(`${EVENTS} single-event commits, no-op instruments`, {
  group: "instrumentation",
  baseline: true,
}, (b) => {
  Object.assign(instruments, noop);
  b.start();
  perEvent();
  b.end();
});

Deno.bench(`${EVENTS} single-event commits, bound to the SDK`, {
  group: "instrumentation",
}, (b) => {
  Object.assign(instruments, bound);
  b.start();
  perEvent();
  b.end();
});

Deno.bench("one /metrics scrape", async () => {
  Object.assign(instruments, bound);
  await metrics.scrape();
});
