import assert from "node:assert/strict";
import {
  CORE_HOOK_TYPES,
  DEFAULT_PRIORITY_TYPES,
  HOOK_TYPES,
  stateAfter,
} from "./hook_types.ts";

Deno.test("hook types - states from hook types", () => {
  assert.equal(stateAfter("PermissionRequest", {}), "waiting");
  assert.equal(
    stateAfter("Notification", { notification_type: "permission_prompt" }),
    "waiting",
  );
  assert.equal(
    stateAfter("Notification", { notification_type: "idle_prompt" }),
    "idle",
  );
  assert.equal(
    stateAfter("Notification", { notification_type: "auth_success" }),
    null,
  );
  assert.equal(stateAfter("PostToolUse", {}), "working");
  assert.equal(stateAfter("SessionStart", {}), "idle");
  assert.equal(stateAfter("Stop", {}), "stopped");
  assert.equal(stateAfter("SessionEnd", {}), "ended");
  assert.equal(stateAfter("StopFailure", {}), "failed");
  assert.equal(stateAfter("FileChanged", {}), null);
  assert.equal(stateAfter("SomethingNew", {}), null);
  assert.equal(stateAfter("toString", {}), null, "not a prototype key");
});

Deno.test("hook types - twelve core types, eight priority by default, all from one table", () => {
  assert.equal(CORE_HOOK_TYPES.length, 12);
  assert.deepEqual(
    [...DEFAULT_PRIORITY_TYPES].sort(),
    [
      "Elicitation",
      "Notification",
      "PermissionRequest",
      "PostToolUseFailure",
      "Stop",
      "StopFailure",
      "SubagentStop",
      "UserPromptSubmit",
    ],
  );
  for (const name of [...CORE_HOOK_TYPES, ...DEFAULT_PRIORITY_TYPES]) {
    assert.ok(Object.hasOwn(HOOK_TYPES, name), name);
  }
});
