import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { postJson, ROOT, sampleEvent } from "./helpers/server.ts";

const TOKEN = "log-test-token-7f3a9c";
const MARKER = "payload-marker-5d1e";

// deno-lint-ignore no-explicit-any -- log records are arbitrary JSON
type LogRecord = Record<string, any>;

/** Spawns the real server with LOG_FORMAT=json, keeping stdout and stderr apart. */
function spawn(dir: string, env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `sqlite:${dir}/hookwatch.db`,
      NO_COLOR: "1",
      LOG_FORMAT: "json",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    key: "stdout" | "stderr",
  ) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      out[key] += decoder.decode(chunk, { stream: true });
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, "stdout"),
    pump(child.stderr, "stderr"),
  ]);
  const records = (): LogRecord[] =>
    out.stdout.split("\n").filter((l) => l !== "").map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
  const waitFor = async (
    predicate: (r: LogRecord) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<LogRecord> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = records().find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${what} record in:\n${out.stdout}\n${out.stderr}`);
  };
  return { child, out, pumps, records, waitFor };
}

Deno.test("logs - LOG_FORMAT=json: every line the server writes through start, ingest, a storage failure, a dropped stream and SIGTERM is a JSON record, with no token or payload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-logs-" });
  const server = spawn(dir, {
    HOOKWATCH_TOKEN: TOKEN,
    STREAM_CLIENT_QUEUE_BYTES: "65536",
    RETENTION_REGULAR: "1h",
    RETENTION_SWEEP_INTERVAL: "200ms",
  });
  try {
    const listening = await server.waitFor(
      (r) => r.msg.startsWith("listening on"),
      "listening",
    );
    const url: string = listening.url;
    assert.equal(listening.store, "sqlite");
    const auth = { authorization: `Bearer ${TOKEN}` };

    const fresh = await postJson(
      `${url}/events`,
      sampleEvent({ payload: { secret: MARKER } }),
      auth,
    );
    assert.equal(fresh.status, 200);
    const old = await postJson(
      `${url}/events`,
      sampleEvent({
        payload: { secret: MARKER },
        timestamp: Date.now() - 2 * 3600_000,
      }),
      auth,
    );
    assert.equal(old.status, 200);
    const sweep = await server.waitFor(
      (r) => r.msg === "retention sweep" && r.regular_deleted === 1,
      "retention sweep",
    );
    assert.equal(sweep.level, "info");
    assert.equal(typeof sweep.duration_ms, "number");

    // A storage failure: another process holds the write lock.
    const db = new DatabaseSync(`${dir}/hookwatch.db`);
    db.exec("BEGIN IMMEDIATE");
    let refused;
    try {
      refused = await postJson(
        `${url}/events`,
        sampleEvent({ payload: { secret: MARKER } }),
        auth,
      );
    } finally {
      db.exec("ROLLBACK");
      db.close();
    }
    assert.equal(refused.status, 503);
    const failed = await server.waitFor(
      (r) => r.msg === "request failed" && r.status === 503,
      "request failed",
    );
    assert.equal(failed.level, "warn");
    assert.equal(failed.request_id, refused.body.request_id);
    assert.equal(failed.method, "POST");
    assert.equal(failed.path, "/events");
    assert.equal(typeof failed.duration_ms, "number");
    assert.match(failed.error, /locked/);
    const failing = await server.waitFor(
      (r) => r.msg === "storage writes failing",
      "storage writes failing",
    );
    assert.equal(failing.level, "error");
    assert.match(failing.error, /locked/);
    assert.equal(
      (await postJson(`${url}/events`, sampleEvent(), auth)).status,
      200,
    );
    await server.waitFor(
      (r) => r.msg === "storage writes recovered",
      "storage writes recovered",
    );

    // A stream client that never reads is dropped once too far behind.
    const stalled = await fetch(`${url}/stream`, { headers: auth });
    assert.equal(stalled.status, 200);
    const big = "x".repeat(512 * 1024);
    for (
      let i = 0;
      i < 12 &&
      !server.records().some((r) => r.msg.startsWith("stream client dropped"));
      i++
    ) {
      const res = await postJson(
        `${url}/events/batch`,
        Array.from(
          { length: 5 },
          () => sampleEvent({ payload: { big, secret: MARKER } }),
        ),
        auth,
      );
      assert.equal(res.status, 200);
    }
    const dropped = await server.waitFor(
      (r) => r.msg.startsWith("stream client dropped"),
      "stream client dropped",
    );
    assert.equal(dropped.level, "warn");
    assert.equal(dropped.queue_limit_bytes, 65536);
    await stalled.body?.cancel().catch(() => {});

    server.child.kill("SIGTERM");
    const status = await server.child.status;
    await server.pumps;
    assert.equal(status.code, 0);
  } finally {
    try {
      server.child.kill("SIGKILL");
    } catch { /* exited */ }
    await server.child.status;
    await Deno.remove(dir, { recursive: true });
  }

  const records = server.records(); // throws on any line that is not JSON
  assert.equal(server.out.stderr, "", "nothing outside the JSON log");
  for (const record of records) {
    assert.equal(typeof record, "object");
    assert.equal(new Date(record.time).toISOString(), record.time);
    assert.ok(["debug", "info", "warn", "error"].includes(record.level));
    assert.equal(typeof record.msg, "string");
  }
  const messages = records.map((r) => r.msg);
  for (
    const expected of [
      "migration applied",
      "retention sweep",
      "request failed",
      "storage writes failing",
      "storage writes recovered",
      "SIGTERM, shutting down",
      "stopped",
    ]
  ) {
    assert.ok(messages.includes(expected), `${expected} in ${messages}`);
  }
  assert.ok(!server.out.stdout.includes(TOKEN), "the token is never logged");
  assert.ok(!server.out.stdout.includes(MARKER), "no payload is logged");
  assert.ok(!server.out.stdout.includes("xxxx"), "no payload is logged");
});

Deno.test("logs - a bad LOG_LEVEL stops start-up with a JSON record naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-logs-" });
  try {
    const server = spawn(dir, { LOG_LEVEL: "loud" });
    const status = await server.child.status;
    await server.pumps;
    assert.equal(status.code, 1);
    const [record] = server.records();
    assert.equal(record.level, "error");
    assert.equal(record.variable, "LOG_LEVEL");
    assert.match(record.msg, /^bad configuration: LOG_LEVEL: "loud"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
