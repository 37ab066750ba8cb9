/**
 * The real GitHub Copilot CLI (pinned, installed from npm by `helpers/agent_clis.ts`) offline against
 * its stand-in, with hookwatch's hooks installed by the real installer: see
 * `helpers/agent_e2e.ts` for what each test checks. Without the CLI the tests are ignored,
 * unless HOOKWATCH_REQUIRE_AGENTS=1 (CI), where they fail.
 */
import assert from "node:assert/strict";
import {
  decision,
  downThenBack,
  installedTurn,
  ready,
} from "./helpers/agent_e2e.ts";

const r = await ready("copilot", "agents_cli_copilot_test");

Deno.test({
  name:
    "agents cli copilot - installed hooks store each hook of a turn once, agent and names right, the call paired, filters, uninstall restores the files",
  ignore: r === null,
  fn: () => installedTurn(r!),
});

Deno.test({
  name:
    "agents cli copilot - hookwatch down for a run, then back: both runs' events stored exactly once, the down run no slower",
  ignore: r === null,
  fn: () => downThenBack(r!),
});

Deno.test({
  name:
    "agents cli copilot - --decisions: permissionRequest held in hookwatch; denied the command never runs (even with --allow-all-tools), allowed it runs without it",
  ignore: r === null,
  async fn() {
    const denied = await decision(r!, "deny", "not on this machine");
    assert.equal(denied.ran, false, "the denied command did not run");
    assert.match(denied.told, /not on this machine/);
    assert.equal(denied.outcome, "denied");
    const allowed = await decision(r!, "allow", "", { allowAllTools: false });
    assert.equal(allowed.ran, true, "the allowed command ran");
    assert.equal(allowed.outcome, "ok");
  },
});
