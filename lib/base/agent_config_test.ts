import assert from "node:assert/strict";
import { DANGER_RULE_NAMES, loadAgentConfig } from "./agent_config.ts";
import { ConfigError, loadConfig } from "./config.ts";

Deno.test("agent config - defaults: stale after 10 min, orphaned after 5, every rule on", () => {
  const c = loadConfig({}).agents;
  assert.equal(c.staleAfterMs, 600_000);
  assert.equal(c.orphanAfterMs, 300_000);
  assert.equal(c.failureStreak, 3);
  assert.equal(c.loopRepeats, 5);
  assert.equal(c.sessionBudgetUsd, 10);
  assert.deepEqual(c.dangerRules, [...DANGER_RULE_NAMES]);
  assert.deepEqual(c.protectedBranches, ["main", "master"]);
});

Deno.test("agent config - values are read and a bad one names its variable", () => {
  const c = loadAgentConfig({
    HOOKWATCH_STALE_AFTER: "30m",
    HOOKWATCH_ORPHAN_AFTER: "90s",
    HOOKWATCH_FAILURE_STREAK: "0",
    HOOKWATCH_DANGEROUS_RULES: "drop_table,force_push",
    HOOKWATCH_DANGEROUS_EXTRA: '["terraform\\\\s+destroy"]',
    HOOKWATCH_SESSION_BUDGET_USD: "2.5",
    HOOKWATCH_PROTECTED_BRANCHES: "main, release/1.x",
  });
  assert.equal(c.staleAfterMs, 1_800_000);
  assert.equal(c.orphanAfterMs, 90_000);
  assert.equal(c.failureStreak, 0);
  assert.deepEqual(c.dangerRules, ["drop_table", "force_push"]);
  assert.deepEqual(c.dangerExtra, ["terraform\\s+destroy"]);
  assert.equal(c.sessionBudgetUsd, 2.5);
  assert.deepEqual(c.protectedBranches, ["main", "release/1.x"]);
  assert.deepEqual(
    loadAgentConfig({ HOOKWATCH_DANGEROUS_RULES: "none" }).dangerRules,
    [],
  );
  const bad: [string, string][] = [
    ["HOOKWATCH_STALE_AFTER", "soon"],
    ["HOOKWATCH_ORPHAN_AFTER", "0"],
    ["HOOKWATCH_FAILURE_STREAK", "-1"],
    ["HOOKWATCH_LOOP_REPEATS", "2.5"],
    ["HOOKWATCH_SESSION_BUDGET_USD", "lots"],
    ["HOOKWATCH_DANGEROUS_RULES", "rm_rf_root,nuke"],
    ["HOOKWATCH_DANGEROUS_EXTRA", '["("]'],
    ["HOOKWATCH_DANGEROUS_EXTRA", "rm -rf"],
    ["HOOKWATCH_PROTECTED_BRANCHES", "ma in"],
  ];
  for (const [variable, value] of bad) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (e) => e instanceof ConfigError && e.variable === variable,
      `${variable}=${value}`,
    );
  }
});
