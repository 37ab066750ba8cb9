/**
 * The real, interactive Claude Code CLI in a pseudo-terminal (tmux), `--permission-mode
 * default`, with `hooks:install --decisions`: what a person at the terminal sees while hookwatch
 * holds the `PermissionRequest`. Claude Code 2.1.328 shows its own dialog at once and runs the
 * http hook beside it, so:
 *
 * - allowed in hookwatch while the dialog is up, the dialog is settled by the hook and the tool
 *   runs;
 * - denied in hookwatch, Claude Code reports the denial with the message;
 * - with nobody answering in hookwatch, the hook's wait runs out (an empty 204), the dialog
 *   stays, the person answers it in the terminal, and hookwatch refuses a decision after that.
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./helpers/server.ts";
import { bashSteps, startFakeAnthropic } from "./helpers/fake_anthropic.ts";
import {
  CLAUDE_CODE_VERSION,
  claudeEnv,
  installClaude,
  installHooks,
} from "./helpers/claude_cli.ts";

const REQUIRE = Deno.env.get("HOOKWATCH_REQUIRE_CLAUDE") === "1";
const claude = await installClaude();
const hasTmux = await new Deno.Command("tmux", { args: ["-V"] }).output()
  .then((o) => o.success, () => false);
const ignore = (claude.error !== undefined || !hasTmux) && !REQUIRE;
const WAIT_S = 3;
const KEY = "sk-ant-test-offline";

let sessions = 0;

/** A CLI session in tmux, asked to write out.txt with Bash. */
async function terminal(server: TestServer) {
  if (!claude.path) {
    throw new Error(`Claude Code ${CLAUDE_CODE_VERSION}: ${claude.error}`);
  }
  if (!hasTmux) throw new Error("tmux is missing (apt-get install tmux)");
  const api = await startFakeAnthropic({
    script: bashSteps([{
      command: "echo decided > out.txt",
      description: "Write the file",
    }]),
  });
  const root = await Deno.makeTempDir({ prefix: "hookwatch-tmux-" });
  const home = `${root}/home`;
  const project = `${root}/project`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.mkdir(project);
  // A returning user: onboarding, folder trust and the API key prompt already answered.
  await Deno.writeTextFile(
    `${home}/.claude.json`,
    JSON.stringify({
      hasCompletedOnboarding: true,
      theme: "dark",
      numStartups: 5,
      customApiKeyResponses: { approved: [KEY.slice(-20)], rejected: [] },
      projects: {
        [project]: {
          hasTrustDialogAccepted: true,
          hasCompletedProjectOnboarding: true,
        },
      },
    }),
  );
  await installHooks({
    project,
    serverUrl: server.url,
    home,
    args: [
      "--command",
      "true",
      "--decisions",
      "--decision-wait",
      String(WAIT_S),
    ],
  });
  const env = claudeEnv(home, api.url, {
    TERM: "xterm-256color",
    ANTHROPIC_API_KEY: KEY,
  });
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [
    "env",
    "-i",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    claude.path,
    "--permission-mode",
    "default",
    "Write decided to out.txt.",
  ].map(quote).join(" ");
  const name = `hookwatch-${Deno.pid}-${++sessions}`;
  const tmux = (...args: string[]) =>
    new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" })
      .output();
  const started = await tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    "160",
    "-y",
    "50",
    "-c",
    project,
    command,
  );
  assert.ok(started.success, new TextDecoder().decode(started.stderr));
  const screen = async () =>
    new TextDecoder().decode(
      (await tmux("capture-pane", "-p", "-t", name)).stdout,
    );
  const until = async (what: string, test: RegExp, ms = 30_000) => {
    const deadline = Date.now() + ms;
    let last = "";
    while (Date.now() < deadline) {
      last = await screen();
      if (test.test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${what} on the terminal:\n${last}`);
  };
  return {
    until,
    keys: (...keys: string[]) => tmux("send-keys", "-t", name, ...keys),
    written: () => Deno.readTextFile(`${project}/out.txt`).catch(() => null),
    async close() {
      await tmux("kill-session", "-t", name);
      await api.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** The permission item a request holds now. */
async function held(server: TestServer): Promise<{ id: number }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { items } = await fetch(`${server.url}/inbox?kind=permission`)
      .then((r) => r.json());
    const item = items.find((i: { awaiting_decision: boolean }) =>
      i.awaiting_decision
    );
    if (item) return item;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no held permission request");
}

const decide = (server: TestServer, id: number, body: unknown) =>
  fetch(`${server.url}/inbox/${id}/decision`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => {
    await r.body?.cancel();
    return r.status;
  });

const DIALOG = /Do you want to proceed\?/;

type Terminal = Awaited<ReturnType<typeof terminal>>;

/** A server with decisions on and a CLI session in tmux showing its permission dialog. */
async function atDialog(
  run: (server: TestServer, t: Terminal, item: { id: number }) => Promise<void>,
): Promise<void> {
  const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
  const t = await terminal(server);
  try {
    await t.until("permission dialog", DIALOG);
    await run(server, t, await held(server));
  } finally {
    await t.close();
    await server.stop();
  }
}

Deno.test({
  name:
    "decisions tmux - the interactive CLI: allowed in hookwatch while its dialog is up, the hook settles the dialog and the tool runs",
  ignore,
  fn: () =>
    atDialog(async (server, t, item) => {
      assert.equal(await decide(server, item.id, { behavior: "allow" }), 200);
      await t.until("hook allow", /Allowed by PermissionRequest hook/);
      await t.until("answer", /TOOL RESULT/);
      assert.equal((await t.written())?.trim(), "decided");
    }),
});

Deno.test({
  name:
    "decisions tmux - the interactive CLI: denied in hookwatch, the denial and its message show and the tool never runs",
  ignore,
  fn: () =>
    atDialog(async (server, t, item) => {
      assert.equal(
        await decide(server, item.id, {
          behavior: "deny",
          message: "not on a Friday",
        }),
        200,
      );
      await t.until("the denial", /not on a Friday/);
      assert.equal(await t.written(), null);
    }),
});

Deno.test({
  name:
    "decisions tmux - the interactive CLI: nobody answers in hookwatch, the wait runs out, the person answers the dialog, hookwatch refuses a late decision",
  ignore,
  fn: () =>
    atDialog(async (server, t, item) => {
      // Past the wait: the hook has answered nothing and the dialog is still there.
      await new Promise((r) => setTimeout(r, (WAIT_S + 1) * 1000));
      const after = await (await fetch(`${server.url}/inbox/${item.id}`))
        .json();
      assert.equal(after.awaiting_decision, false, "the wait ran out");
      await t.until("the dialog, still", DIALOG, 2000);
      assert.equal(await t.written(), null);
      await t.keys("1");
      await t.until("answer", /TOOL RESULT/);
      assert.equal((await t.written())?.trim(), "decided");
      assert.equal(await decide(server, item.id, { behavior: "deny" }), 409);
    }),
});
