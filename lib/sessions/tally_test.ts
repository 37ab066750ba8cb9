import assert from "node:assert/strict";
import type { StoredEvent } from "../../common/events.ts";
import { tallyHookEvents } from "./tally.ts";

let id = 0;
function ev(overrides: Partial<StoredEvent>): StoredEvent {
  return {
    id: ++id,
    source_app: "app",
    session_id: "s1",
    hook_event_type: "PreToolUse",
    payload: {},
    timestamp: 1000,
    received_at: 1000,
    priority: 0,
    ...overrides,
  };
}

Deno.test("sessions tally - per session: span, counts by bucket, the latest app", () => {
  const { sessions } = tallyHookEvents([
    ev({ timestamp: 3000, hook_event_type: "PermissionRequest", priority: 1 }),
    ev({ timestamp: 1000, hook_event_type: "Stop", priority: 1 }),
    ev({
      timestamp: 2000,
      hook_event_type: "Notification",
      payload: { notification_type: "idle_prompt" },
    }),
    ev({ session_id: "s2", source_app: "other", timestamp: 5000 }),
  ]);
  assert.deepEqual(sessions.get("s1"), {
    first: 1000,
    last: 3000,
    app: "app",
    otelApp: null,
    priority: 2,
    regular: 1,
  });
  assert.equal(sessions.get("s2")?.app, "other");
});

Deno.test("sessions tally - telemetry events count; their app is kept apart from the hooks'; prompts fold by prompt_id", () => {
  const { sessions, prompts } = tallyHookEvents([
    ev({
      hook_event_type: "claude_code.api_request",
      source_app: "claude-code",
      timestamp: 500,
    }),
    ev({ payload: { prompt_id: "p1" }, timestamp: 700 }),
    ev({ payload: { prompt_id: "p1" }, timestamp: 900 }),
    ev({ payload: { prompt_id: "" }, timestamp: 950 }),
  ]);
  const s = sessions.get("s1")!;
  assert.equal(s.regular, 4);
  assert.equal(s.first, 500);
  assert.equal(s.app, "app");
  assert.equal(s.otelApp, "claude-code");
  assert.deepEqual(prompts, [
    { sessionId: "s1", promptId: "p1", first: 700, last: 900, hookEvents: 2 },
  ]);
});
