import assert from "node:assert/strict";
import {
  describeEvent,
  eventFilter,
  filtersFromParams,
  foldedText,
  foldKey,
  foldRow,
  toRow,
} from "./rows.ts";
import type { StreamEvent } from "./events.ts";

function ev(overrides: Partial<StreamEvent> = {}): StreamEvent {
  return {
    id: 1,
    source_app: "app",
    session_id: "s1",
    hook_event_type: "PreToolUse",
    payload: { tool_name: "Bash", tool_input: { command: "ls -la" } },
    timestamp: 1000,
    received_at: 1001,
    priority: 0,
    model_name: null,
    summary: null,
    agent_id: null,
    ...overrides,
  };
}

Deno.test("rows - description prefers the summary, then the telling payload field", () => {
  assert.equal(describeEvent(ev()), "Bash ls -la");
  assert.equal(describeEvent(ev({ summary: "did  a\nthing" })), "did a thing");
  assert.equal(
    describeEvent(
      ev({
        hook_event_type: "Notification",
        payload: { message: "Claude needs you" },
      }),
    ),
    "Claude needs you",
  );
  assert.equal(describeEvent(ev({ summary: "x".repeat(500) })).length, 160);
});

Deno.test("rows - filters match app, session, type and free text in the payload", () => {
  const e = ev();
  assert.equal(
    eventFilter(filtersFromParams(new URLSearchParams("app=app&q=LS -LA")))(e),
    true,
  );
  assert.equal(
    eventFilter(filtersFromParams(new URLSearchParams("session=s2")))(e),
    false,
  );
  assert.equal(
    eventFilter(filtersFromParams(new URLSearchParams("type=Stop")))(e),
    false,
  );
  assert.equal(
    eventFilter(filtersFromParams(new URLSearchParams("q=nothing")))(e),
    false,
  );
});

Deno.test("rows - a session's start and end say what happened, with the reason", () => {
  const ended = (reason: string) =>
    describeEvent(ev({ hook_event_type: "SessionEnd", payload: { reason } }));
  assert.equal(ended("other"), "session ended", "'other' says nothing");
  assert.equal(ended("prompt_input_exit"), "session ended (exited)");
  assert.equal(ended("logout"), "session ended (logged out)");
  assert.equal(ended("some_new_reason"), "session ended (some_new_reason)");
  assert.equal(ended("constructor"), "session ended (constructor)");
  assert.equal(
    describeEvent(ev({ hook_event_type: "SessionEnd", payload: {} })),
    "session ended",
  );
  assert.equal(
    describeEvent(
      ev({ hook_event_type: "SessionStart", payload: { source: "resume" } }),
    ),
    "session started (resume)",
  );
});

Deno.test("rows - PostToolBatch names its calls; MessageDisplay parts fold by message", () => {
  const base = {
    id: 1,
    source_app: "a",
    session_id: "s",
    timestamp: 0,
    received_at: 0,
    priority: 0 as const,
    model_name: null,
    summary: null,
    event_id: null,
    agent_id: null,
  };
  const batch = toRow({
    ...base,
    hook_event_type: "PostToolBatch",
    payload: { tool_calls: [{ tool_name: "Bash" }, { tool_name: "Read" }] },
  });
  assert.equal(batch.text, "2 tool calls: Bash, Read");
  const part = {
    ...base,
    hook_event_type: "MessageDisplay",
    payload: { message_id: "m1", delta: "Hello, " },
  };
  assert.equal(foldKey(part), "s\n\nm1");
  assert.equal(foldKey({ ...part, hook_event_type: "Stop" }), null);
  assert.equal(foldedText(part), "Hello, ");
  assert.equal(foldRow(toRow(part), "Hello, world").text, "Hello, world");
});
