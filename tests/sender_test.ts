/**
 * The hook sender as Claude Code runs it: a real subprocess fed real hook JSON on stdin,
 * against a real hookwatch server (up, down, or hanging).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT, startServer, type TestServer } from "./helpers/server.ts";
import { DEFAULT_DEADLINE_MS } from "../hooks/config.ts";
import { CORE_HOOK_TYPES, isPriority } from "../common/classify.ts";
import {
  fixture,
  PATIENT,
  type Run,
  runSender,
  spoolLines,
} from "./helpers/sender.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/hooks/", import.meta.url));
/** The hard bound plus room for Deno's start-up on a loaded CI machine. */
const BOUND_MS = DEFAULT_DEADLINE_MS + 1000;
const PATIENT_BOUND_MS = 11_000;

/** Waits until no detached sender holds a run directory in the spool. */
async function waitUntilIdle(spool: string, timeoutMs = 15_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const runs = (await Array.fromAsync(Deno.readDir(spool))).filter((e) =>
      e.name.startsWith("run-")
    );
    if (runs.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`a sender still runs in ${spool} after ${timeoutMs} ms`);
}

// deno-lint-ignore no-explicit-any -- stored events are arbitrary JSON
async function recent(server: TestServer, sourceApp: string): Promise<any[]> {
  const res = await fetch(
    `${server.url}/events/recent?source_app=${sourceApp}&limit=1000`,
  );
  assert.equal(res.status, 200);
  return await res.json();
}

function assertQuietSuccess(run: Run, what: string, bound = BOUND_MS): void {
  assert.equal(run.code, 0, `${what}: exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, "", `${what}: nothing on stdout`);
  assert.ok(
    run.ms < bound,
    `${what}: took ${run.ms.toFixed(0)} ms, bound ${bound}`,
  );
}

Deno.test("sender - every fixture is stored as Claude Code sent it", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  try {
    const env = { ...PATIENT, HOOKWATCH_SPOOL_DIR: `${tmp}/spool` };
    const inputs = new Map<string, Record<string, unknown>>();
    for (const type of CORE_HOOK_TYPES) {
      const input = await fixture(type);
      inputs.set(type, input);
      const run = await runSender(
        input,
        ["--source-app", "fixtures", "--server-url", server.url],
        env,
      );
      assertQuietSuccess(run, type, PATIENT_BOUND_MS);
      assert.equal(run.stderr, "", `${type}: nothing to report`);
    }
    const stored = await recent(server, "fixtures");
    assert.equal(stored.length, CORE_HOOK_TYPES.length);
    for (const event of stored) {
      const input = inputs.get(event.hook_event_type);
      assert.ok(input, `unexpected type ${event.hook_event_type}`);
      assert.deepEqual(event.payload, input);
      assert.equal(event.session_id, input.session_id);
      assert.equal(event.priority, isPriority(event.hook_event_type) ? 1 : 0);
      assert.match(event.event_id, /^hw-[0-9a-f]{44}$/);
    }
    const start = stored.find((e) => e.hook_event_type === "SessionStart");
    assert.equal(start.model_name, "claude-sonnet-4-5-20250929");
    assert.deepEqual(await spoolLines(`${tmp}/spool`), []);
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - source_app from the git repository, model and chat from the transcript", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  try {
    const repo = `${tmp}/billing-service-7f3a`;
    await Deno.mkdir(`${repo}/.git`, { recursive: true });
    await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
    const input = {
      ...await fixture("Stop"),
      cwd: `${repo}/src/deep`,
      transcript_path: `${FIXTURES}transcript.jsonl`,
    };
    const run = await runSender(input, [
      "--server-url",
      server.url,
      "--add-chat",
    ], {
      ...PATIENT,
      HOOKWATCH_SPOOL_DIR: `${tmp}/spool`,
    });
    assertQuietSuccess(run, "Stop", PATIENT_BOUND_MS);
    const [event] = await recent(server, "billing-service-7f3a");
    assert.ok(event, "stored under the repository's name");
    // The newest assistant message's model, not the first one's.
    assert.equal(event.model_name, "claude-sonnet-4-5-20250929");
    const full = await (await fetch(`${server.url}/events/${event.id}`)).json();
    assert.equal(full.chat.length, 4);
    assert.equal(
      full.chat[0].message.content,
      "Add pagination to GET /orders and make the tests pass",
    );
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - server down: hooks exit 0 and spool; server back: the next send replays every event exactly once", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  const dbPath = `${tmp}/hookwatch.db`;
  const spool = `${tmp}/spool`;
  const env = { HOOKWATCH_SPOOL_DIR: spool };
  let server = await startServer({ dbPath }).catch(async (error) => {
    await Deno.remove(tmp, { recursive: true });
    throw error;
  });
  const { port, url } = server;
  await server.stop();
  try {
    // Hooks fire concurrently in Claude Code: all twelve at once, against a dead port.
    const down = await Promise.all(
      CORE_HOOK_TYPES.map(async (type) =>
        runSender(
          await fixture(type),
          ["--source-app", "outage", "--server-url", url],
          env,
        )
      ),
    );
    down.forEach((run, i) => assertQuietSuccess(run, CORE_HOOK_TYPES[i]));
    const lines = await spoolLines(spool);
    assert.equal(lines.length, CORE_HOOK_TYPES.length, "one spool line each");
    const spooled = lines.map((line) => JSON.parse(line));
    assert.deepEqual(
      spooled.map((e) => e.hook_event_type).sort(),
      [...CORE_HOOK_TYPES].sort(),
    );

    server = await startServer({ dbPath, port });
    // An ambiguous timeout: the server had committed this one although the hook gave up.
    const already = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(spooled[0]),
    });
    assert.equal(already.status, 200);
    await already.body?.cancel();

    // Three hooks fire at once when the server is back; only one may replay the spool.
    const up = await Promise.all(
      ["Stop", "Notification", "PreToolUse"].map(async (type) =>
        runSender(
          await fixture(type),
          ["--source-app", "outage", "--server-url", url],
          { ...env, ...PATIENT },
        )
      ),
    );
    up.forEach((run) =>
      assertQuietSuccess(run, "after the outage", PATIENT_BOUND_MS)
    );
    assert.match(
      up.map((run) => run.stderr).join(""),
      /replayed 12 spooled events \(1 had been stored already\)/,
    );
    assert.deepEqual(await spoolLines(spool), [], "the spool is empty");

    const stored = await recent(server, "outage");
    assert.equal(stored.length, CORE_HOOK_TYPES.length + 3);
    const ids = stored.map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, "no event stored twice");
    for (const event of spooled) {
      assert.equal(ids.filter((id) => id === event.event_id).length, 1);
    }
    // Replayed in order: by stored id, the spooled events' own timestamps ascend.
    const replayed = stored
      .filter((e) => spooled.some((s) => s.event_id === e.event_id))
      .filter((e) => e.event_id !== spooled[0].event_id)
      .sort((a, b) => a.id - b.id);
    for (let i = 1; i < replayed.length; i++) {
      assert.ok(replayed[i - 1].timestamp <= replayed[i].timestamp);
    }
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - a server that accepts but never answers does not hold the hook", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const run = await runSender(
      await fixture("PermissionRequest"),
      ["--server-url", `http://127.0.0.1:${listener.addr.port}`],
      { HOOKWATCH_SPOOL_DIR: `${tmp}/spool` },
    );
    assertQuietSuccess(run, "hanging server");
    assert.ok(held.length >= 1, "the sender did connect");
    const [line] = await spoolLines(`${tmp}/spool`);
    assert.equal(JSON.parse(line).hook_event_type, "PermissionRequest");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - a corrupt spool line is skipped and reported, a refused event does not block the rest", async () => {
  const server = await startServer();
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  try {
    const spool = `${tmp}/spool`;
    await Deno.mkdir(spool);
    const good = (n: number) =>
      JSON.stringify({
        source_app: "corrupt",
        session_id: "s-1",
        hook_event_type: "PreToolUse",
        payload: { n },
        timestamp: Date.now() - 60_000 + n,
        event_id: crypto.randomUUID(),
      });
    // Well-formed, but the server refuses it: it must not hold back the others.
    const refused = JSON.stringify({
      ...JSON.parse(good(3)),
      session_id: "",
    });
    await Deno.writeTextFile(
      `${spool}/spool-2026-01-02.ndjson`,
      `${good(1)}\n{"source_app":"corrupt","session_id":"s-1","hook_ev\n${
        good(2)
      }\n${refused}\n`,
    );
    const run = await runSender(
      await fixture("Stop"),
      ["--source-app", "corrupt", "--server-url", server.url],
      { ...PATIENT, HOOKWATCH_SPOOL_DIR: spool },
    );
    assertQuietSuccess(run, "replay with a corrupt line", PATIENT_BOUND_MS);
    assert.match(
      run.stderr,
      /skipped corrupt spool line 2 of spool-2026-01-02\.ndjson/,
    );
    assert.match(run.stderr, /refused spooled event .*session_id/);
    const stored = await recent(server, "corrupt");
    assert.deepEqual(
      stored.map((e) => e.payload.n ?? e.hook_event_type).sort(),
      [1, 2, "Stop"].sort(),
    );
    assert.deepEqual(await spoolLines(spool), []);
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - the command the installer writes delivers an event", async () => {
  const server = await startServer({
    env: { HOOKWATCH_TOKEN: "s3cret-token-42" },
  });
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "hooks/install.ts",
        "install",
        "--project",
        tmp,
        "--source-app",
        "installed app",
      ],
      cwd: ROOT,
    }).output();
    assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
    const settings = JSON.parse(
      await Deno.readTextFile(`${tmp}/.claude/settings.local.json`),
    );
    const [{ hooks: [handler] }] = settings.hooks.PreToolUse;
    assert.equal(handler.type, "command");
    assert.equal(handler.async, true);
    const child = new Deno.Command("sh", {
      args: ["-c", handler.command],
      env: {
        HOOKWATCH_URL: server.url,
        HOOKWATCH_TOKEN: "s3cret-token-42",
        HOOKWATCH_SOURCE_APP: "",
        ...PATIENT,
        HOOKWATCH_SPOOL_DIR: `${tmp}/spool`,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify(await fixture("PreToolUse"))),
    );
    await writer.close();
    const started = performance.now();
    const out = await child.output();
    const hookMs = performance.now() - started;
    assert.equal(out.code, 0);
    assert.equal(new TextDecoder().decode(out.stdout), "");
    // The hook only writes the inbox; a detached sender delivers, then lets go of its run dir.
    assert.ok(hookMs < 1000, `the hook itself took ${hookMs} ms`);
    // deno-lint-ignore no-explicit-any
    let stored: any[] = [];
    for (let i = 0; i < 100 && stored.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const res = await fetch(
        `${server.url}/events/recent?source_app=installed%20app`,
        { headers: { authorization: "Bearer s3cret-token-42" } },
      );
      stored = await res.json();
    }
    assert.equal(stored.length, 1);
    assert.equal(stored[0].hook_event_type, "PreToolUse");
    assert.match(stored[0].event_id, /^hw-[0-9a-f]{44}$/);
    // Time-ordered: the first 12 hex digits are when the hook fired.
    const firedAt = parseInt(stored[0].event_id.slice(3, 15), 16);
    assert.ok(Math.abs(firedAt - stored[0].timestamp) < 1000);
    await waitUntilIdle(`${tmp}/spool`);
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(`${tmp}/spool/inbox`)),
      [],
    );
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sender - a transcript over the server's body limit is left off, the event still stored", async () => {
  const server = await startServer({ env: { MAX_BODY_BYTES: "2048" } });
  const tmp = await Deno.makeTempDir({ prefix: "hookwatch-sender-" });
  try {
    const input = {
      ...await fixture("UserPromptSubmit"),
      transcript_path: `${FIXTURES}transcript.jsonl`,
    };
    const run = await runSender(input, [
      "--source-app",
      "big-chat",
      "--server-url",
      server.url,
      "--add-chat",
    ], { ...PATIENT, HOOKWATCH_SPOOL_DIR: `${tmp}/spool` });
    assertQuietSuccess(run, "oversized chat", PATIENT_BOUND_MS);
    assert.match(run.stderr, /sent without it/);
    const [event] = await recent(server, "big-chat");
    const full = await (await fetch(`${server.url}/events/${event.id}`)).json();
    assert.equal(full.hook_event_type, "UserPromptSubmit");
    assert.equal(full.chat ?? null, null);
    assert.deepEqual(await spoolLines(`${tmp}/spool`), []);
  } finally {
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
