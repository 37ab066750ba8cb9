import assert from "node:assert/strict";
import type { ToolCall } from "./agents.ts";
import { axisTicks, callBar, timelineRange } from "./timeline.ts";

const T = 1_700_000_000_000;

function call(overrides: Partial<ToolCall>): ToolCall {
  return {
    session_id: "s",
    agent_id: null,
    tool_use_id: "t",
    tool_name: "Bash",
    input_summary: "npm test",
    outcome: "ok",
    started_at: T,
    permission_at: null,
    ended_at: T + 100,
    tool_ms: 100,
    wait_ms: 0,
    error: null,
    ...overrides,
  };
}

Deno.test("timeline - a permission wait and the tool's run are separate segments", () => {
  // 8 s waiting for a person, then 81 ms of Bash.
  const bar = callBar(
    call({
      permission_at: T + 10,
      ended_at: T + 8091,
      tool_ms: 81,
      wait_ms: 8000,
    }),
    T + 60_000,
  );
  assert.deepEqual(bar.span, { from: T, to: T + 8091 });
  assert.deepEqual(bar.wait, { from: T + 10, to: T + 8010 });
  assert.deepEqual(bar.tool, { from: T + 8010, to: T + 8091 });
});

Deno.test("timeline - running, denied and plain calls", () => {
  const now = T + 5000;
  const waiting = callBar(
    call({
      outcome: "running",
      permission_at: T + 5,
      ended_at: null,
      tool_ms: null,
      wait_ms: null,
    }),
    now,
  );
  assert.deepEqual(waiting.wait, { from: T + 5, to: now }, "still waiting");
  assert.equal(waiting.tool, null);
  const running = callBar(
    call({ outcome: "running", ended_at: null, tool_ms: null }),
    now,
  );
  assert.deepEqual(running.tool, { from: T, to: now });
  const denied = callBar(
    call({
      outcome: "denied",
      permission_at: T + 5,
      ended_at: T + 2000,
      tool_ms: null,
      wait_ms: 1995,
    }),
    now,
  );
  assert.equal(denied.tool, null, "a denied tool never ran");
  assert.deepEqual(denied.wait, { from: T + 5, to: T + 2000 });
  const plain = callBar(call({}), now);
  assert.equal(plain.wait, null);
  assert.deepEqual(plain.tool, { from: T, to: T + 100 });
});

Deno.test("timeline - the range covers the calls, reaches now while live, and has round ticks", () => {
  const bars = [
    callBar(call({}), T),
    callBar(call({ started_at: T + 40_000, ended_at: T + 41_000 }), T),
  ];
  assert.deepEqual(timelineRange(bars, T + 90_000, false), {
    from: T,
    to: T + 41_000,
  });
  const live = timelineRange(bars, T + 90_000, true);
  assert.equal(live.to, T + 90_000);
  const { step, at } = axisTicks(live);
  assert.equal(step, 15_000);
  assert.ok(at.length >= 5 && at.length <= 6);
  for (const t of at) {
    assert.equal(t % step, 0);
    assert.ok(t >= live.from && t <= live.to);
  }
  assert.equal(
    axisTicks({ from: T, to: T + 3 * 3_600_000 }).step,
    30 * 60_000,
  );
  // A session of a second and a half still gets ticks to read.
  assert.equal(axisTicks({ from: T, to: T + 1500 }).at.length, 4);
});
