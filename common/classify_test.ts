import assert from "node:assert/strict";
import { CORE_HOOK_TYPES, createClassifier, isPriority } from "./classify.ts";

Deno.test("classify - the twelve core hook types by the default set", () => {
  const expected: Record<string, boolean> = {
    SessionStart: false,
    SessionEnd: false,
    UserPromptSubmit: true,
    PreToolUse: false,
    PostToolUse: false,
    PostToolUseFailure: true,
    PermissionRequest: true,
    Notification: true,
    SubagentStart: false,
    SubagentStop: true,
    Stop: true,
    PreCompact: false,
  };
  assert.deepEqual(Object.keys(expected).sort(), [...CORE_HOOK_TYPES].sort());
  for (const [type, priority] of Object.entries(expected)) {
    assert.equal(isPriority(type), priority, type);
  }
});

Deno.test("classify - newer and unknown types", () => {
  assert.equal(isPriority("Elicitation"), true);
  assert.equal(isPriority("StopFailure"), true);
  assert.equal(isPriority("PostToolBatch"), false);
  assert.equal(isPriority("SomethingNew"), false);
  assert.equal(isPriority(""), false);
});

Deno.test("classify - a configured set replaces the default", () => {
  const classify = createClassifier(["PreToolUse"]);
  assert.equal(classify("PreToolUse"), true);
  assert.equal(classify("Stop"), false);
});
