import assert from "node:assert/strict";
import { SessionModels } from "./session_models.ts";

Deno.test("session models - the newest model per session; events without one change nothing", () => {
  const models = new SessionModels();
  models.observe([
    { session_id: "a", model_name: "claude-haiku-4-5" },
    { session_id: "a", model_name: null },
    { session_id: "b" },
    { session_id: "a", model_name: "claude-sonnet-4-5" },
  ]);
  assert.equal(models.get("a"), "claude-sonnet-4-5");
  assert.equal(models.get("b"), null);
});

Deno.test("session models - bounded: the least recently seen session goes first", () => {
  const models = new SessionModels(2);
  models.observe([
    { session_id: "a", model_name: "m1" },
    { session_id: "b", model_name: "m2" },
    { session_id: "a", model_name: "m1" },
    { session_id: "c", model_name: "m3" },
  ]);
  assert.equal(models.get("b"), null);
  assert.equal(models.get("a"), "m1");
  assert.equal(models.get("c"), "m3");
});
