/**
 * The real OpenAI Codex CLI (pinned, installed from npm by `helpers/agent_clis.ts`) offline against
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

const r = await ready("codex", "agents_cli_codex_test");

Deno.test({
  name:
    "agents cli codex - installed hooks store each hook of a turn once, agent and names right, the call paired, filters, uninstall restores the files",
  ignore: r === null,
  fn: () => installedTurn(r!),
});

Deno.test({
  name:
    "agents cli codex - hookwatch down for a run, then back: both runs' events stored exactly once, the down run no slower",
  ignore: r === null,
  fn: () => downThenBack(r!),
});

Deno.test({
  name:
    "agents cli codex - --decisions: a PermissionRequest held in hookwatch, denied there, never runs; Codex is told why",
  ignore: r === null,
  async fn() {
    const got = await decision(r!, "deny", "not on this machine", {
      approvals: "approve-for-me",
    });
    assert.equal(got.ran, false, "the command did not run");
    assert.match(got.told, /not on this machine/);
    assert.equal(got.outcome, "denied");
    assert.deepEqual(got.decisions.map((e: { agent: string }) => e.agent), [
      "codex",
    ]);
  },
});
