import assert from "node:assert/strict";
import { createClassifier } from "../../common/classify.ts";
import { agentIdOf, deriveFields } from "./derive.ts";

Deno.test("derive - class, arrival time and subagent are set once, from the event", () => {
  const [main, sub] = deriveFields(
    [
      {
        source_app: "a",
        session_id: "s",
        hook_event_type: "Stop",
        payload: {},
        timestamp: 1,
      },
      {
        source_app: "a",
        session_id: "s",
        hook_event_type: "PreToolUse",
        payload: { agent_id: "agent-7" },
        timestamp: 2,
      },
    ],
    createClassifier(),
    1234,
  );
  assert.equal(main.priority, 1);
  assert.equal(main.agent_id, null);
  assert.equal(sub.priority, 0);
  assert.equal(sub.agent_id, "agent-7");
  assert.equal(sub.received_at, 1234);
});

Deno.test("derive - agent_id is a non-empty string, cut at 256 characters", () => {
  assert.equal(agentIdOf({ agent_id: "" }), null);
  assert.equal(agentIdOf({ agent_id: 7 }), null);
  assert.equal(agentIdOf({ agent_id: "x".repeat(300) })?.length, 256);
});
