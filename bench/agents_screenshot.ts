/**
 * `docs/agents.png`: one board with all four agents, from real runs — the pinned Claude
 * Code, Codex, Gemini CLI and Copilot CLI (offline against their stand-ins), each with
 * hookwatch's hooks installed by the installer in a project of its own, then Chromium on the
 * dashboard: the feed, the sessions' lanes and costs labelled with their agents.
 *
 * Run: `deno run -A bench/agents_screenshot.ts [--out docs/agents.png]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ROOT, startServer } from "../tests/helpers/server.ts";
import {
  installClaude,
  installHooks,
  runClaude,
} from "../tests/helpers/claude_cli.ts";
import {
  bashSteps,
  startFakeAnthropic,
} from "../tests/helpers/fake_anthropic.ts";
import {
  AGENT_CASES,
  installer,
  programOf,
  removeSandbox,
  sandbox,
  sendersDone,
} from "../tests/helpers/agent_runs.ts";
import {
  ensureBuilt,
  launchBrowser,
  openPage,
} from "../tests/helpers/browser.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string", default: "docs/agents.png" } },
});

await ensureBuilt();
const server = await startServer();
try {
  // Claude Code in a project named after it.
  const claude = await installClaude();
  if (!claude.path) throw new Error(`no Claude Code CLI: ${claude.error}`);
  const root = await Deno.makeTempDir({ prefix: "hookwatch-board-" });
  const project = `${root}/web-app`;
  await Deno.mkdir(`${root}/home`, { recursive: true });
  await Deno.mkdir(project, { recursive: true });
  await installHooks({ project, serverUrl: server.url, home: `${root}/home` });
  const anthropic = await startFakeAnthropic({
    script: bashSteps([{ command: "ls -la", description: "List the files" }]),
  });
  const run = await runClaude({
    binary: claude.path,
    prompt: "List the files.",
    cwd: project,
    home: `${root}/home`,
    apiUrl: anthropic.url,
    timeoutMs: 120_000,
  });
  await anthropic.close();
  console.log("claude-code:", run.code);

  // Codex, Gemini CLI and Copilot CLI, each in its own project.
  for (
    const [cli, app] of [
      ["codex", "payments"],
      ["gemini", "docs-site"],
      ["copilot", "mobile-app"],
    ] as const
  ) {
    const c = AGENT_CASES[cli];
    const program = await programOf(c, "agents_screenshot");
    if (!program) throw new Error(`no ${cli}`);
    const sb = await sandbox();
    const api = await c.startApi();
    try {
      await installer(c, sb, "install", [
        "--server-url",
        server.url,
        "--source-app",
        app,
      ]);
      const r = await c.run(sb, {
        program,
        api,
        ...c.telemetry(server.url),
      });
      console.log(`${c.agent}:`, r.code);
      await sendersDone(sb);
    } finally {
      await api.close();
      await removeSandbox(sb);
    }
  }
  await Deno.remove(root, { recursive: true }).catch(() => {});

  const browser = await launchBrowser();
  try {
    const { page } = await openPage(browser, server.url, {
      viewport: { width: 1400, height: 1000 },
      deviceScaleFactor: 1,
    });
    // Every run is over: the sessions are under the board's ended fold.
    if (await page.locator(".ended-fold > summary").isVisible()) {
      await page.click(".ended-fold > summary");
    }
    await page.waitForSelector('.agent-kind[data-agent="copilot-cli"]');
    await new Promise((r) => setTimeout(r, 1500));
    const out = values.out.startsWith("/") ? values.out : ROOT + values.out;
    await page.screenshot({ path: out });
    console.log(`wrote ${values.out}`);
  } finally {
    await browser.close();
  }
} finally {
  await server.stop();
}
