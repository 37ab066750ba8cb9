import assert from "node:assert/strict";
import {
  DashboardState,
  PANELS_EVERY_MS,
  PULSE_SECONDS,
} from "./dashboard_state.ts";
import type { SessionSummary } from "./sessions.ts";
import type { StreamEvent } from "./events.ts";

const NOW = 1_700_000_000_000;
let nextId = 0;

function ev(overrides: Partial<StreamEvent> = {}): StreamEvent {
  nextId++;
  return {
    id: nextId,
    source_app: "app",
    session_id: "s1",
    hook_event_type: "PreToolUse",
    payload: { tool_name: "Bash", tool_input: { command: `ls ${nextId}` } },
    timestamp: NOW,
    received_at: NOW,
    // The stream's class is ignored: the state classifies itself.
    priority: 0,
    model_name: null,
    summary: null,
    agent_id: null,
    ...overrides,
  };
}

const ids = (a: Float64Array) => [...a];

Deno.test("dashboard state - buckets classify by the server's types and ignore replays", () => {
  const state = new DashboardState({ priorityTypes: ["Stop"] }, NOW);
  const stop = ev({ hook_event_type: "Stop" });
  const tool = ev();
  const notify = ev({ hook_event_type: "Notification" });
  for (const e of [stop, tool, notify]) assert.ok(state.receive(e, NOW));
  assert.equal(state.receive(tool, NOW), false, "a replay after resume");
  const { update } = state.update(NOW, 0);
  assert.deepEqual(ids(update.priority), [stop.id]);
  assert.deepEqual(ids(update.regular), [notify.id, tool.id]);
  assert.deepEqual(update.counts, { priority: 1, regular: 2, display: 3 });
  assert.equal(update.lastId, notify.id);
  assert.equal(update.rows.find((r) => r.id === stop.id)?.priority, 1);
});

Deno.test("dashboard state - regular bucket keeps its newest 100, retention drops the old", () => {
  const state = new DashboardState({
    retention: { priority: 60_000, regular: 10_000 },
  }, NOW);
  for (let i = 0; i < 120; i++) state.receive(ev(), NOW);
  state.receive(ev({ hook_event_type: "Stop", timestamp: NOW }), NOW);
  let { update } = state.update(NOW, 0);
  assert.equal(update.counts.regular, 100);
  assert.equal(update.counts.priority, 1);
  assert.equal(state.expire(NOW + 20_000), true);
  ({ update } = state.update(NOW + 20_000, 1000));
  assert.deepEqual(update.counts, { priority: 1, regular: 0, display: 1 });
});

Deno.test("dashboard state - updates carry only rows the main thread lacks", () => {
  const state = new DashboardState({}, NOW);
  const a = ev();
  state.receive(a, NOW);
  assert.deepEqual(state.update(NOW, 0).update.rows.map((r) => r.id), [a.id]);
  const b = ev();
  state.receive(b, NOW);
  const { update } = state.update(NOW, 1);
  assert.deepEqual(update.rows.map((r) => r.id), [b.id]);
  assert.deepEqual(ids(update.regular), [b.id, a.id]);
  state.setFilters({ app: "", session: "", type: "", q: `ls ${a.id}` });
  state.update(NOW, 2);
  state.setFilters({ app: "", session: "", type: "", q: "" });
  assert.deepEqual(
    state.update(NOW, 3).update.rows.map((r) => r.id),
    [b.id],
    "b was dropped by the filter and is sent again",
  );
});

Deno.test("dashboard state - filters narrow the buckets, not the board", () => {
  const state = new DashboardState({}, NOW);
  state.receive(ev({ source_app: "a" }), NOW);
  const b = ev({
    source_app: "b",
    session_id: "s2",
    hook_event_type: "PermissionRequest",
  });
  state.receive(b, NOW);
  assert.ok(state.update(NOW, 0).update.board, "first update has the board");
  assert.equal(state.update(NOW, 1).update.board, undefined, "unchanged");
  state.setFilters({ app: "b", session: "", type: "", q: "" });
  const { update } = state.update(NOW, 2);
  assert.deepEqual(ids(update.priority), [b.id]);
  assert.deepEqual(ids(update.regular), []);
  assert.deepEqual(update.counts, { priority: 1, regular: 1, display: 2 });
  assert.deepEqual(
    state.view(NOW).board.sessions.map((s) => [s.source_app, s.state]),
    [["b", "waiting"], ["a", "working"]],
    "every session, the waiting one first",
  );
});

Deno.test("dashboard state - the board is throttled, says when it falls due, and notices a session going stale", () => {
  const state = new DashboardState({ staleAfterMs: 60_000 }, NOW);
  state.receive(ev(), NOW);
  state.update(NOW, 1000);
  state.receive(ev(), NOW);
  const skipped = state.update(NOW, 1100);
  assert.equal(skipped.update.board, undefined);
  assert.equal(skipped.panelsDueInMs, PANELS_EVERY_MS - 100);
  const due = state.update(NOW, 1000 + PANELS_EVERY_MS);
  assert.equal(due.update.board?.sessions[0].state, "working");
  assert.equal(due.panelsDueInMs, null);
  assert.equal(
    state.update(NOW + 30_000, 4000).update.board,
    undefined,
    "nothing changed",
  );
  assert.equal(state.expire(NOW + 61_000), true, "the session went stale");
  const stale = state.update(NOW + 61_000, 5000).update.board;
  assert.equal(stale?.sessions[0].state, "stale");
  assert.equal(stale?.sessions[0].state_at, NOW + 60_000);
});

Deno.test("dashboard state - the pulse counts per second by bucket and moves on with time", () => {
  const state = new DashboardState({ priorityTypes: ["Stop"] }, NOW);
  state.receive(ev({ hook_event_type: "Stop", received_at: NOW }), NOW);
  state.receive(ev({ received_at: NOW }), NOW);
  state.receive(ev({ received_at: NOW + 1000 }), NOW);
  const { update } = state.update(NOW + 2000, 10_000);
  assert.ok(update.pulse);
  assert.equal(update.pulse.end, (NOW + 2000) / 1000);
  assert.equal(update.pulse.priority.length, PULSE_SECONDS);
  assert.deepEqual(update.pulse.priority.slice(-3), [1, 0, 0]);
  assert.deepEqual(update.pulse.regular.slice(-3), [1, 1, 0]);
  assert.equal(update.eventsPerSec, 1, "the last full second");
  assert.equal(state.update(NOW + 2000, 10_100).update.pulse, undefined);
});

Deno.test("dashboard state - choices and session frames are sent when they change, once", () => {
  const state = new DashboardState({}, NOW);
  state.receive(ev({ source_app: "b" }), NOW);
  state.receive(ev({ source_app: "a" }), NOW);
  state.sessionChanged({ session_id: "s1", cost_usd: 1 } as SessionSummary);
  state.sessionChanged({ session_id: "s1", cost_usd: 2 } as SessionSummary);
  const first = state.update(NOW, 0).update;
  assert.deepEqual(first.choices?.source_apps, ["a", "b"]);
  assert.deepEqual(first.sessions?.map((s) => s.cost_usd), [2]);
  const second = state.update(NOW, 1).update;
  assert.equal(second.choices, undefined);
  assert.equal(second.sessions, undefined);
});

Deno.test("dashboard state - the first paint's view is the worker's update", () => {
  const events = [
    ev({ hook_event_type: "Stop", session_id: "s1" }),
    ev({ session_id: "s2", agent_id: "sub-1" }),
    ev({ hook_event_type: "PermissionRequest", session_id: "s3" }),
  ];
  const server = new DashboardState({}, NOW);
  server.receiveSnapshot({ priority: events, regular: [] }, 0, NOW);
  const paint = server.view(NOW);
  const worker = new DashboardState({}, NOW);
  worker.receiveSnapshot({ priority: [], regular: events }, 3, NOW);
  const { update } = worker.update(NOW, 0);
  assert.deepEqual(paint.priority.map((r) => r.id), ids(update.priority));
  assert.deepEqual(paint.regular.map((r) => r.id), ids(update.regular));
  assert.equal(paint.shownRegular, update.shownRegular);
  assert.deepEqual(paint.counts, update.counts);
  assert.deepEqual(paint.board, update.board);
  assert.deepEqual(
    paint.board.sessions.map((s) => [s.session_id, s.state]),
    [["s3", "waiting"], ["s2", "working"], ["s1", "stopped"]],
  );
});

Deno.test("dashboard state - a message's MessageDisplay deltas are one feed row with the text so far", () => {
  const state = new DashboardState({}, NOW);
  const part = (message: string, delta: string) =>
    ev({
      hook_event_type: "MessageDisplay",
      payload: { message_id: message, delta, turn_id: "t1" },
    });
  const first = part("m1", "I will ");
  const tool = ev();
  for (
    const e of [first, tool, part("m1", "write"), part("m1", " the file.")]
  ) state.receive(e, NOW);
  const { update } = state.update(NOW, 0);
  assert.equal(
    update.counts.regular,
    2,
    "one row for the message, one for the tool",
  );
  const message = update.rows.find((r) =>
    r.hook_event_type === "MessageDisplay"
  );
  assert.equal(message?.text, "I will write the file.");
});
