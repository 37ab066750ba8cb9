/**
 * The real Claude Code CLI in print mode with `--permission-mode default`: a Bash call it may
 * not run on its own fires the http `PermissionRequest` hook that `hooks:install --decisions`
 * wrote, and hookwatch holds it: allowed through the HTTP API the tool runs, denied the CLI
 * reports the denial with the message, and when the wait runs out the CLI goes its own way
 * (print mode cannot ask, so it denies).
 */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./helpers/server.ts";
import { bashSteps, startFakeAnthropic } from "./helpers/fake_anthropic.ts";
import {
  CLAUDE_CODE_VERSION,
  installClaude,
  installHooks,
  runClaude,
} from "./helpers/claude_cli.ts";

const REQUIRE = Deno.env.get("HOOKWATCH_REQUIRE_CLAUDE") === "1";
const claude = await installClaude();
const ignore = claude.error !== undefined && !REQUIRE;
const WAIT_S = 3;

/** One CLI run asking to write out.txt, with `decide` acting on the held request. */
async function session(
  server: TestServer,
  decide: (id: number) => Promise<void>,
) {
  if (!claude.path) {
    throw new Error(`Claude Code ${CLAUDE_CODE_VERSION}: ${claude.error}`);
  }
  const api = await startFakeAnthropic({
    script: bashSteps([{
      command: "echo decided > out.txt",
      description: "Write the file",
    }]),
  });
  const root = await Deno.makeTempDir({ prefix: "hookwatch-decide-" });
  try {
    const project = `${root}/project`;
    await Deno.mkdir(`${root}/home`, { recursive: true });
    await Deno.mkdir(project);
    await installHooks({
      project,
      serverUrl: server.url,
      home: `${root}/home`,
      args: [
        "--command",
        "true",
        "--decisions",
        "--decision-wait",
        String(WAIT_S),
      ],
    });
    const acting = (async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const { items } = await fetch(`${server.url}/inbox?kind=permission`)
          .then((r) => r.json());
        const held = items.find((i: { awaiting_decision: boolean }) =>
          i.awaiting_decision
        );
        if (held) return await decide(held.id);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("no held permission request");
    })();
    const run = await runClaude({
      binary: claude.path,
      prompt: "Write decided to out.txt.",
      cwd: project,
      home: `${root}/home`,
      apiUrl: api.url,
      debugFile: `${root}/debug.txt`,
      args: ["--permission-mode", "default", "--output-format", "json"],
      timeoutMs: 60_000,
    });
    await acting;
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    const written = await Deno.readTextFile(`${project}/out.txt`).catch(() =>
      null
    );
    const debug = await Deno.readTextFile(`${root}/debug.txt`);
    return { out, written, debug, wallMs: run.wallMs, heldMs: heldMs(debug) };
  } finally {
    await api.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** From the debug file: the decide hook's POST to its response, milliseconds. */
function heldMs(debug: string): number {
  const at = (line: string | undefined) => Date.parse(line?.slice(0, 24) ?? "");
  const lines = debug.split("\n");
  const sent = lines.findIndex((l) => /HTTP hook POST to .*\/decide/.test(l));
  const answered = lines.slice(sent).find((l) =>
    /HTTP hook response status/.test(l)
  );
  return at(answered) - at(lines[sent]);
}

const post = (server: TestServer, id: number, body: unknown) =>
  fetch(`${server.url}/inbox/${id}/decision`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => {
    await r.body?.cancel();
    assert.equal(r.status, 200);
  });

Deno.test({
  name:
    "decisions cli - allowed from the HTTP API the Bash call runs; denied the CLI reports the message; the wait running out leaves the CLI to deny",
  ignore,
  async fn() {
    const server = await startServer({ env: { HOOKWATCH_DECISIONS: "on" } });
    try {
      const allowed = await session(
        server,
        (id) => post(server, id, { behavior: "allow" }),
      );
      assert.match(
        allowed.debug,
        /executePermissionRequestHooks called for tool: Bash/,
      );
      assert.equal(allowed.written, "decided\n");
      assert.deepEqual(allowed.out.permission_denials, []);

      const denied = await session(
        server,
        (id) =>
          post(server, id, { behavior: "deny", message: "not in this repo" }),
      );
      assert.equal(denied.written, null);
      assert.equal(denied.out.permission_denials.length, 1);
      assert.match(denied.out.result, /not in this repo/);

      const start = performance.now();
      const timedOut = await session(server, async () => {});
      assert.equal(timedOut.written, null);
      assert.equal(timedOut.out.permission_denials.length, 1);
      assert.match(timedOut.debug, /HTTP hook response status 204/);
      assert.ok(performance.now() - start >= WAIT_S * 1000);

      assert.ok(timedOut.heldMs >= WAIT_S * 1000, `${timedOut.heldMs} ms`);
      console.log(
        `decisions cli: hook held allowed ${allowed.heldMs} ms, denied ${denied.heldMs} ms, wait ran out (${WAIT_S} s) ${timedOut.heldMs} ms; CLI wall ${
          Math.round(allowed.wallMs)
        } / ${Math.round(denied.wallMs)} / ${Math.round(timedOut.wallMs)} ms`,
      );
      const decisions = await fetch(
        `${server.url}/events/recent?hook_event_type=PermissionDecision`,
      ).then((r) => r.json());
      assert.deepEqual(
        decisions.map((e: { payload: { behavior: string } }) =>
          e.payload.behavior
        ).sort(),
        ["allow", "deny"],
      );
    } finally {
      await server.stop();
    }
  },
});
