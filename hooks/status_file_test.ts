import assert from "node:assert/strict";
import { Sender } from "./delivery.ts";
import {
  countSpooled,
  describeFailure,
  readStatus,
  recordStatus,
  REFRESH_MS,
  statusPath,
} from "./status_file.ts";

const URL = "http://127.0.0.1:4000";

function sender(env: Record<string, string> = {}): Sender {
  return new Sender(`${URL}/`, {
    args: [],
    env: (name) => env[name],
    stdin: "",
    startedAt: performance.now(),
  });
}

async function withSpool(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-status-file-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("status file - each failure in words, with what to do", () => {
  const at = Date.now();
  const words = (
    kind: "refused" | "timeout" | "dns" | "http",
    status?: number,
    token = false,
  ) =>
    describeFailure(
      { at, kind, status, detail: `${status ?? ""} x` },
      URL,
      token,
    );
  assert.equal(
    words("refused"),
    "connection refused at http://127.0.0.1:4000 — is hookwatch running there? " +
      "(start it, or reinstall the hooks with --server-url)",
  );
  assert.match(
    words("timeout"),
    /^no answer from http:\/\/127\.0\.0\.1:4000 in time/,
  );
  assert.match(words("dns"), /cannot resolve the host .* HOOKWATCH_URL/);
  assert.match(
    words("http", 401),
    /^401 from .* set HOOKWATCH_TOKEN where the agent runs/,
  );
  assert.match(words("http", 401, true), /is not the server's token/);
  assert.match(words("http", 403), /^403 from .* refuses this sender/);
  assert.match(words("http", 404), /no hookwatch ingest there/);
  assert.match(words("http", 503), /^503 from .* could not store the events/);
  assert.match(words("http", 413), /refused an event as invalid or too large/);
});

Deno.test("status file - written on a change only, atomically; a success clears the error", async () => {
  await withSpool(async (dir) => {
    const path = statusPath(dir, URL);
    assert.equal(path, statusPath(dir, `${URL}//`), "one file per server");
    const s = sender();
    assert.equal(await recordStatus(dir, s, 0), null, "no request, no status");

    const t0 = Date.now();
    s.lastFailure = { at: t0, kind: "refused", detail: "fetch failed" };
    const first = await recordStatus(dir, s, 1, t0);
    assert.equal(first?.spooled, 1);
    assert.match(first?.last_error?.message ?? "", /^connection refused/);
    assert.deepEqual(await readStatus(path), first);
    assert.equal(await recordStatus(dir, s, 1, t0 + 1000), null, "same state");
    assert.ok(await recordStatus(dir, s, 2, t0 + 2000), "one more spooled");
    assert.ok(
      await recordStatus(dir, s, 2, t0 + REFRESH_MS + 10),
      "the same error a minute later: its time is refreshed",
    );

    s.lastFailure = null;
    s.lastDelivery = t0 + REFRESH_MS + 20;
    const cleared = await recordStatus(dir, s, 0, t0 + REFRESH_MS + 20);
    assert.equal(cleared?.last_error, null);
    assert.equal(cleared?.spooled, 0);
    assert.equal(
      cleared?.last_delivery,
      new Date(t0 + REFRESH_MS + 20).toISOString(),
    );
    assert.equal(
      await recordStatus(dir, s, 0, t0 + REFRESH_MS + 30),
      null,
      "another delivery within the minute: not written",
    );
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.deepEqual(
      names,
      [path.slice(dir.length + 1)],
      "no temporary file left",
    );
  });
});

Deno.test("status file - the spool's events are its lines", async () => {
  await withSpool(async (dir) => {
    assert.equal(await countSpooled(`${dir}/missing`), 0);
    await Deno.writeTextFile(`${dir}/spool-2026-01-01.ndjson`, "{}\n{}\n");
    await Deno.writeTextFile(`${dir}/replay-1-ab.ndjson`, "{}\n");
    await Deno.writeTextFile(`${dir}/stats.json`, "{}\n");
    assert.equal(await countSpooled(dir), 3);
  });
});
