/**
 * The real Google Gemini CLI (pinned, installed from npm by `helpers/agent_clis.ts`) offline against
 * its stand-in, with hookwatch's hooks installed by the real installer: see
 * `helpers/agent_e2e.ts` for what each test checks. Without the CLI the tests are ignored,
 * unless HOOKWATCH_REQUIRE_AGENTS=1 (CI), where they fail.
 */
import { downThenBack, installedTurn, ready } from "./helpers/agent_e2e.ts";

const r = await ready("gemini", "agents_cli_gemini_test");

Deno.test({
  name:
    "agents cli gemini - installed hooks store each hook of a turn once, agent and names right, the call paired, filters, uninstall restores the files",
  ignore: r === null,
  fn: () => installedTurn(r!),
});

Deno.test({
  name:
    "agents cli gemini - hookwatch down for a run, then back: both runs' events stored exactly once, the down run no slower",
  ignore: r === null,
  fn: () => downThenBack(r!),
});
