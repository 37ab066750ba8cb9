import assert from "node:assert/strict";
import type { SessionSummary } from "../common/sessions.ts";
import {
  applySessions,
  sessionCosts,
  SESSIONS_KEPT,
  tokenCount,
  usd,
} from "./session_costs.ts";

function summary(id: string, last_seen: number, cost_usd = 0): SessionSummary {
  return {
    session_id: id,
    source_app: "app",
    first_seen: 0,
    last_seen,
    events: { priority: 0, regular: 0, otel: 1 },
    agent: null,
    state: null,
    state_at: null,
    last_event_at: null,
    cost_usd,
    tokens: { input: 0, output: 0, cache_read: 0, cache_creation: 0 },
    requests: 1,
    errors: 0,
    models: [],
    lines_of_code: { added: 0, removed: 0 },
    active_time_s: 0,
  };
}

Deno.test("session costs - frames replace a session's summary; memory is bounded", () => {
  sessionCosts.value = {};
  applySessions([summary("a", 1, 0.5)]);
  applySessions([summary("a", 2, 0.75)]);
  assert.equal(sessionCosts.value.a.cost_usd, 0.75);
  applySessions(
    Array.from(
      { length: SESSIONS_KEPT + 10 },
      (_, i) => summary(`s${i}`, 100 + i),
    ),
  );
  const kept = Object.keys(sessionCosts.value);
  assert.equal(kept.length, SESSIONS_KEPT);
  assert.ok(!kept.includes("a"), "the least recently seen leave first");
  assert.ok(kept.includes(`s${SESSIONS_KEPT + 9}`));
  sessionCosts.value = {};
});

Deno.test("session costs - money and token formats", () => {
  assert.equal(usd(0.0123), "$0.0123");
  assert.equal(usd(12.345), "$12.35");
  assert.equal(tokenCount(999), "999");
  assert.equal(tokenCount(12_340), "12.3k");
  assert.equal(tokenCount(4_500_000), "4.5M");
});
