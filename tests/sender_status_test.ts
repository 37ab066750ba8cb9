/**
 * Delivery problems are loud: the sender keeps a status file per server in its spool, and
 * `deno task hooks:status` prints it and exits non-zero while something is wrong. Real sender
 * processes against a real hookwatch (down, then up; wanting a token).
 */
import assert from "node:assert/strict";
import { ROOT, startServer, type TestServer } from "./helpers/server.ts";
import { fixture, PATIENT, runSender } from "./helpers/sender.ts";
import { readStatus, statusPath } from "../hooks/status_file.ts";

/** `deno task hooks:status` with the spool in `spool`. */
async function hooksStatus(
  spool: string,
): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "hooks:status"],
    cwd: ROOT,
    env: { HOOKWATCH_SPOOL_DIR: spool, NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

Deno.test("sender status - server down: 'connection refused' and the spooled count, exit 1; back: the replay clears it, exit 0", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-status-" });
  const spool = `${tmp}/spool`;
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  free.close(); // nothing listens here until the server starts below
  const url = `http://127.0.0.1:${free.addr.port}`;
  let server: TestServer | undefined;
  try {
    const args = ["--source-app", "status", "--server-url", url];
    for (const type of ["PreToolUse", "PostToolUse"]) {
      const run = await runSender(await fixture(type), args, {
        HOOKWATCH_SPOOL_DIR: spool,
      });
      assert.equal(run.code, 0);
      assert.equal(run.stdout, "");
    }
    const down = await readStatus(statusPath(spool, url));
    assert.ok(down, "a status file for the server");
    assert.equal(down.server_url, url);
    assert.equal(down.spooled, 2);
    assert.equal(down.last_delivery, null);
    assert.equal(
      down.last_error?.message,
      `connection refused at ${url} — is hookwatch running there? ` +
        "(start it, or reinstall the hooks with --server-url)",
    );
    assert.ok(Date.now() - Date.parse(down.last_error.at) < 60_000);
    const failing = await hooksStatus(spool);
    assert.equal(failing.code, 1, failing.stdout);
    assert.match(failing.stdout, /2 events spooled/);
    assert.match(failing.stdout, new RegExp(`${url} — FAILING`));
    assert.match(failing.stdout, /connection refused at .* running there\?/);
    assert.match(failing.stdout, /last delivery {2}never/);

    server = await startServer({ port: free.addr.port });
    assert.equal(server.url, url);
    const run = await runSender(await fixture("Stop"), args, {
      ...PATIENT,
      HOOKWATCH_SPOOL_DIR: spool,
    });
    assert.match(run.stderr, /replayed 2 spooled events/);
    const up = await readStatus(statusPath(spool, url));
    assert.equal(up?.spooled, 0);
    assert.equal(up?.last_error, null);
    assert.ok(
      up?.last_delivery && Date.now() - Date.parse(up.last_delivery) < 60_000,
    );
    const well = await hooksStatus(spool);
    assert.equal(well.code, 0, well.stdout);
    assert.match(well.stdout, /nothing spooled/);
    assert.match(well.stdout, new RegExp(`${url} — ok`));
    assert.match(well.stdout, /last error {5}none/);
  } finally {
    await server?.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender status - a server that wants a token: 401 says to set HOOKWATCH_TOKEN where the agent runs", async () => {
  const server = await startServer({
    env: { HOOKWATCH_TOKEN: "s3cret-token-42" },
  });
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-status-" });
  const spool = `${tmp}/spool`;
  try {
    const args = ["--source-app", "status", "--server-url", server.url];
    const env = { ...PATIENT, HOOKWATCH_SPOOL_DIR: spool };
    const run = await runSender(await fixture("PreToolUse"), args, env);
    assert.equal(run.code, 0);
    const missing = await readStatus(statusPath(spool, server.url));
    assert.equal(missing?.spooled, 1, "a 401 is spooled, not lost");
    assert.match(
      missing?.last_error?.message ?? "",
      /^401 from .* set HOOKWATCH_TOKEN where the agent runs/,
    );
    const shown = await hooksStatus(spool);
    assert.equal(shown.code, 1);
    assert.match(shown.stdout, /set HOOKWATCH_TOKEN where the agent runs/);

    await runSender(await fixture("PreToolUse"), args, {
      ...env,
      HOOKWATCH_TOKEN: "not-the-token",
    });
    const wrong = await readStatus(statusPath(spool, server.url));
    assert.equal(wrong?.spooled, 2);
    assert.match(
      wrong?.last_error?.message ?? "",
      /HOOKWATCH_TOKEN where the agent runs is not the server's token/,
    );
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
