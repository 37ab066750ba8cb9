/**
 * The installer asks the server before it leaves: against a port nothing listens on, and a real
 * hookwatch that wants a token. It warns in words and still installs (exit 0): the server may
 * start later.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers/server.ts";
import { runInstaller } from "./helpers/installer.ts";

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-installer-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function command(dir: string): Promise<string> {
  const settings = JSON.parse(
    await Deno.readTextFile(`${dir}/.claude/settings.local.json`),
  );
  return settings.hooks.PreToolUse[0].hooks[0].command;
}

Deno.test("installer - nothing answers at http://127.0.0.1:$PORT: installed there anyway, with a warning naming the URL", async () => {
  await withProject(async (dir) => {
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${closed.addr.port}`;
    closed.close();
    const run = await runInstaller(["install", "--project", dir], {
      env: { PORT: String(closed.addr.port) },
      net: true,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`the hooks send to ${url}$`, "m"));
    assert.ok(
      (await command(dir)).includes(`--server-url ${url}`),
      "the URL it checked is the one the hooks use",
    );
    assert.equal(
      run.stderr,
      `warning: connection refused at ${url} — is hookwatch running there? ` +
        "(start it, or reinstall the hooks with --server-url); until it answers, " +
        "the hooks spool events and replay them later\n",
    );
  });
});

Deno.test("installer - a server that wants a token: a warning naming HOOKWATCH_TOKEN unless the right one is set, exit 0", async () => {
  const server = await startServer({
    env: { HOOKWATCH_TOKEN: "s3cret-token-42" },
  });
  try {
    await withProject(async (dir) => {
      const args = ["install", "--project", dir, "--server-url", server.url];
      const missing = await runInstaller(args, { net: true });
      assert.equal(missing.code, 0, missing.stderr);
      assert.match(
        missing.stderr,
        /^warning: 401 from .* set HOOKWATCH_TOKEN where the agent runs \(export it/,
      );
      const wrong = await runInstaller(args, {
        env: { HOOKWATCH_TOKEN: "not-it" },
        net: true,
      });
      assert.equal(wrong.code, 0);
      assert.match(
        wrong.stderr,
        /HOOKWATCH_TOKEN .* is not the server's token/,
      );
      const right = await runInstaller(args, {
        env: { HOOKWATCH_TOKEN: "s3cret-token-42" },
        net: true,
      });
      assert.equal(right.code, 0);
      assert.equal(right.stderr, "", "no warning with the server's token");
    });
  } finally {
    await server.stop();
  }
});

Deno.test("installer - --token-env NAME: the check sends the ingest token in NAME and its warning names NAME; a bad NAME is refused", async () => {
  const ingest = "ingest-token-for-a-laptop-02";
  const tokens = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    tokens,
    JSON.stringify({
      tokens: [{ name: "laptop-hooks", role: "ingest", token: ingest }],
    }),
  );
  const server = await startServer({
    env: { HOOKWATCH_TOKENS_FILE: tokens },
  });
  try {
    await withProject(async (dir) => {
      const args = [
        "install",
        "--project",
        dir,
        "--server-url",
        server.url,
        "--token-env",
        "LAPTOP_INGEST_TOKEN",
      ];
      const missing = await runInstaller(args, {
        env: { HOOKWATCH_TOKEN: ingest },
        net: true,
      });
      assert.equal(missing.code, 0, missing.stderr);
      assert.match(
        missing.stderr,
        /^warning: 401 from .* set LAPTOP_INGEST_TOKEN where the agent runs/,
      );
      const right = await runInstaller(args, {
        env: { LAPTOP_INGEST_TOKEN: ingest },
        net: true,
      });
      assert.equal(right.code, 0);
      assert.equal(right.stderr, "", "no warning with the ingest token");
      assert.ok(
        (await command(dir)).endsWith(
          "--token-env LAPTOP_INGEST_TOKEN # hookwatch",
        ),
      );
      const bad = await runInstaller([...args.slice(0, -1), "9LIVES"]);
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr,
        /--token-env NAME must be a shell variable's name/,
      );
    });
  } finally {
    await server.stop();
    await Deno.remove(tokens);
  }
});
