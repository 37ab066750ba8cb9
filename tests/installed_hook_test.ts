/**
 * The installed hook as Claude Code runs it: `sh -c` the command the installer writes, the hook's
 * JSON on stdin, against a real hookwatch server (up, down, hanging, wanting an ingest token). The hook itself only
 * writes the spool's inbox; a detached sender delivers. So these tests wait for delivery, and
 * for the sender to let go of its run directory before cleaning up.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startServer } from "./helpers/server.ts";
import {
  idle,
  runHook,
  spoolLines,
  stored,
  waitFor,
} from "./helpers/hook_run.ts";
import { hookCommand } from "../hooks/settings.ts";
import { readStatus, statusPath } from "../hooks/status_file.ts";
import { statusReport } from "../hooks/status.ts";
import { runInstaller } from "./helpers/installer.ts";
import { CORE_HOOK_TYPES } from "../common/classify.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/hooks/", import.meta.url));
/** Generous: the hook runs sh and cat only, but CI machines are busy. */
const HOOK_BOUND_MS = 1000;

async function fixture(type: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(`${FIXTURES}${type}.json`));
}

Deno.test("installed hook - a burst of every core event at once: each stored once, the hook returns at once", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-hook-" });
  const spool = `${tmp}/spool`;
  try {
    const command = hookCommand({
      deno: Deno.execPath(),
      sourceApp: "burst",
      serverUrl: server.url,
    });
    const runs = await Promise.all(
      CORE_HOOK_TYPES.map(async (type) =>
        runHook(command, await fixture(type), { HOOKWATCH_SPOOL_DIR: spool })
      ),
    );
    for (const run of runs) {
      assert.equal(run.code, 0);
      assert.equal(run.stdout, "");
      assert.ok(run.ms < HOOK_BOUND_MS, `a hook took ${run.ms} ms`);
    }
    const events = await waitFor("every event", async () => {
      const events = await stored(server, "burst");
      return events.length >= CORE_HOOK_TYPES.length ? events : undefined;
    });
    await idle(spool);
    const again = await stored(server, "burst");
    assert.equal(again.length, CORE_HOOK_TYPES.length, "each stored once");
    assert.deepEqual(
      events.map((e) => e.hook_event_type).sort(),
      [...CORE_HOOK_TYPES].sort(),
    );
    assert.deepEqual(await spoolLines(spool), []);
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installed hook - SIGTERM (Claude Code cancelling the hook) does not lose the event", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-hook-" });
  const spool = `${tmp}/spool`;
  try {
    const command = hookCommand({
      deno: Deno.execPath(),
      sourceApp: "cancelled",
      serverUrl: server.url,
    });
    const stop = await fixture("Stop");
    for (let i = 0; i < 5; i++) {
      const run = await runHook(
        command,
        { ...stop, n: i },
        { HOOKWATCH_SPOOL_DIR: spool },
        { termIn: `${spool}/inbox` },
      );
      assert.equal(run.code, 0);
      await idle(spool);
    }
    await waitFor("five Stop events", async () => {
      const events = await stored(server, "cancelled");
      return events.length >= 5 ? events : undefined;
    });
    await idle(spool);
    const events = await stored(server, "cancelled");
    assert.deepEqual(
      events.map((e) => e.payload.n).sort(),
      [0, 1, 2, 3, 4],
    );
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installed hook - server down: spooled; back: the next hook delivers it and the spool, each once", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-hook-" });
  const spool = `${tmp}/spool`;
  const dbPath = `${tmp}/hookwatch.db`;
  let server = await startServer({ dbPath });
  const { port, url } = server;
  await server.stop();
  try {
    const command = hookCommand({
      deno: Deno.execPath(),
      sourceApp: "outage",
      serverUrl: url,
    });
    const env = { HOOKWATCH_SPOOL_DIR: spool };
    for (const type of ["Stop", "SubagentStop", "SessionEnd"]) {
      const run = await runHook(command, await fixture(type), env);
      assert.equal(run.code, 0);
      assert.ok(run.ms < HOOK_BOUND_MS, `${type} hook took ${run.ms} ms`);
    }
    await idle(spool);
    const spooled = (await spoolLines(spool)).map((line) => JSON.parse(line));
    assert.deepEqual(
      spooled.map((e) => e.hook_event_type).sort(),
      ["SessionEnd", "Stop", "SubagentStop"],
    );
    const down = await readStatus(statusPath(spool, url));
    assert.equal(down?.spooled, 3, "the drain keeps the status too");
    assert.match(down?.last_error?.message ?? "", /^connection refused at /);

    server = await startServer({ dbPath, port });
    await runHook(command, await fixture("SessionStart"), env);
    await waitFor("the replay", async () => {
      const events = await stored(server, "outage");
      return events.length >= 4 ? events : undefined;
    });
    await idle(spool);
    const events = await stored(server, "outage");
    assert.deepEqual(
      events.map((e) => e.hook_event_type).sort(),
      ["SessionEnd", "SessionStart", "Stop", "SubagentStop"],
    );
    for (const event of spooled) {
      assert.equal(
        events.filter((e) => e.event_id === event.event_id).length,
        1,
      );
    }
    assert.deepEqual(await spoolLines(spool), []);
    const back = await readStatus(statusPath(spool, url));
    assert.equal(back?.spooled, 0);
    assert.equal(back?.last_error, null);
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installed hook - a server that accepts and never answers: the hook returns at once, the event is spooled", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-hook-" });
  const spool = `${tmp}/spool`;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const command = hookCommand({
      deno: Deno.execPath(),
      sourceApp: "hanging",
      serverUrl: `http://127.0.0.1:${listener.addr.port}`,
    });
    const run = await runHook(command, await fixture("Stop"), {
      HOOKWATCH_SPOOL_DIR: spool,
    });
    assert.equal(run.code, 0);
    assert.ok(run.ms < HOOK_BOUND_MS, `the hook took ${run.ms} ms`);
    await idle(spool);
    const spooled = (await spoolLines(spool)).map((line) => JSON.parse(line));
    assert.deepEqual(spooled.map((e) => e.hook_event_type), ["Stop"]);
    const status = await readStatus(
      statusPath(spool, `http://127.0.0.1:${listener.addr.port}`),
    );
    assert.match(
      status?.last_error?.message ?? "",
      /^no answer from .* in time/,
    );
  } finally {
    await idle(spool).catch(() => {});
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installed hook - --token-env MY_INGEST: stored with the ingest token in MY_INGEST; without it 401, spooled, and the status names MY_INGEST", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-hook-" });
  const spool = `${tmp}/spool`;
  const ingest = "ingest-token-for-my-laptop-01";
  const admin = "admin-token-reads-the-events-1";
  await Deno.writeTextFile(
    `${tmp}/tokens.json`,
    JSON.stringify({
      tokens: [
        { name: "laptop-hooks", role: "ingest", token: ingest },
        { name: "root", role: "admin", token: admin },
      ],
    }),
  );
  const server = await startServer({
    env: { HOOKWATCH_TOKENS_FILE: `${tmp}/tokens.json` },
  });
  try {
    const project = `${tmp}/project`;
    const install = await runInstaller([
      "install",
      "--project",
      project,
      "--server-url",
      server.url,
      "--source-app",
      "token-env",
      "--token-env",
      "MY_INGEST",
    ]);
    assert.equal(install.code, 0, install.stderr);
    const settings = await Deno.readTextFile(
      `${project}/.claude/settings.local.json`,
    );
    const command = JSON.parse(settings).hooks.Stop[0].hooks[0].command;

    // The token in HOOKWATCH_TOKEN does not count: this hook reads MY_INGEST only.
    const without = await runHook(command, await fixture("Stop"), {
      HOOKWATCH_SPOOL_DIR: spool,
      HOOKWATCH_TOKEN: ingest,
    });
    assert.equal(without.code, 0);
    await idle(spool);
    const spooled = (await spoolLines(spool)).map((line) => JSON.parse(line));
    assert.deepEqual(spooled.map((e) => e.hook_event_type), ["Stop"]);
    const refused = await readStatus(statusPath(spool, server.url));
    assert.match(
      refused?.last_error?.message ?? "",
      /^401 from .* set MY_INGEST where the agent runs/,
    );
    assert.match((await statusReport(spool)).text, /set MY_INGEST where/);
    assert.deepEqual(await stored(server, "token-env", admin), []);

    const env = { HOOKWATCH_SPOOL_DIR: spool, MY_INGEST: ingest };
    assert.equal(
      (await runHook(command, await fixture("SessionEnd"), env)).code,
      0,
    );
    const events = await waitFor("the event and the replay", async () => {
      const events = await stored(server, "token-env", admin);
      return events.length >= 2 ? events : undefined;
    });
    await idle(spool);
    assert.deepEqual(
      events.map((e) => e.hook_event_type).sort(),
      ["SessionEnd", "Stop"],
    );
    assert.deepEqual(await spoolLines(spool), []);
    assert.equal(
      (await readStatus(statusPath(spool, server.url)))?.last_error,
      null,
    );
  } finally {
    await idle(spool).catch(() => {});
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
