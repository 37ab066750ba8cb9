import assert from "node:assert/strict";
import {
  eventFromHookInput,
  EventValidationError,
  validateEvent,
} from "./events.ts";

const NOW = 1_764_160_000_000;

Deno.test("events - a minimal body gets defaults", () => {
  const event = validateEvent(
    { source_app: "a", session_id: "s", hook_event_type: "Stop" },
    NOW,
  );
  assert.deepEqual(event.payload, {});
  assert.equal(event.timestamp, NOW);
  assert.equal(event.chat, null);
});

Deno.test("events - the first bad field is named", () => {
  const base = {
    source_app: "a",
    session_id: "s",
    hook_event_type: "Stop",
    payload: {},
  };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, source_app: "" }, "source_app"],
    [{ ...base, session_id: 1 }, "session_id"],
    [{ ...base, hook_event_type: "Pre Tool" }, "hook_event_type"],
    [{ ...base, payload: null, timestamp: NaN }, "timestamp"],
    [{ ...base, timestamp: NOW + 2 * 86400e3 }, "timestamp"],
    [{ ...base, chat: "x" }, "chat"],
    [{ ...base, event_id: 5 }, "event_id"],
  ];
  for (const [body, field] of cases) {
    assert.throws(
      () => validateEvent(body, NOW),
      (e: unknown) => e instanceof EventValidationError && e.field === field,
      field,
    );
  }
});

Deno.test("events - raw hook input maps to an event, subagent fields kept in the payload", () => {
  const input = {
    hook_event_name: "SubagentStop",
    session_id: "s",
    agent_id: "agent-7",
    agent_type: "Explore",
    cwd: "/repo",
  };
  const event = eventFromHookInput("repo", input, NOW);
  assert.equal(event.hook_event_type, "SubagentStop");
  assert.equal(event.source_app, "repo");
  assert.equal(event.payload, input);
  assert.throws(
    () => eventFromHookInput("repo", { session_id: "s" }, NOW),
    /hook_event_name/,
  );
  assert.throws(() => eventFromHookInput("", input, NOW), /source_app/);
});
