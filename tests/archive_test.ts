import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { gunzipSync } from "node:zlib";
import {
  postJson,
  ROOT,
  sampleEvent,
  startServer,
  type TestServer,
} from "./helpers/server.ts";

const HOUR = 3600_000;

// deno-lint-ignore no-explicit-any -- rows and archive lines are compared as plain JSON
type Json = Record<string, any>;

/** Every events row with payload and chat parsed, as an archive line holds it. */
function rows(dbPath: string): Json[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare(
      `SELECT id, source_app, session_id, hook_event_type, payload, chat, summary, model_name,
         timestamp, received_at, priority, event_id, agent_id, agent, agent_event
       FROM events ORDER BY id`,
    ).all() as Json[]).map((r) => ({
      ...r,
      payload: JSON.parse(r.payload),
      chat: r.chat === null ? null : JSON.parse(r.chat),
    }));
  } finally {
    db.close();
  }
}

function archiveFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

function archived(dir: string): Json[] {
  return archiveFiles(dir).filter((f) => f.endsWith(".ndjson.gz")).flatMap((
    f,
  ) =>
    new TextDecoder().decode(gunzipSync(Deno.readFileSync(`${dir}/${f}`)))
      .split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
  );
}

async function waitFor(
  what: string,
  done: () => boolean,
  server?: TestServer,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${server?.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("archive - SIGKILL before and after an archive file is renamed into place loses no event and archives none twice; archive:import loads them idempotently", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-archive-" });
  const dbPath = `${dir}/hookwatch.db`;
  const archiveDir = `${dir}/archive`;
  try {
    // Seed: three expired priority hours, two expired regular hours, and fresh events.
    const seed = await startServer({
      dbPath,
      env: { RETENTION_PRIORITY: "1000d", RETENTION_REGULAR: "1000d" },
    });
    const now = Date.now();
    const batch = (type: string, ago: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        sampleEvent({
          hook_event_type: type,
          session_id: `s-${ago}`,
          // Inside one clock hour, so each group is one bucket-hour.
          timestamp: Math.floor((now - ago * HOUR) / HOUR) * HOUR + 60_000 +
            i * 1000,
          event_id: `${type}-${ago}-${i}`,
          model_name: "claude-x",
          summary: `summary ${i}`,
          chat: [{ role: "assistant", content: `turn ${i}` }],
          payload: { tool_name: "Bash", agent_id: `agent-${i % 3}`, i },
        }));
    for (
      const events of [
        batch("Stop", 30, 40),
        batch("PreToolUse", 7, 30),
        batch("Notification", 29, 40),
        batch("PostToolUse", 6, 30),
        batch("Stop", 28, 40),
        batch("PreToolUse", 0, 20),
        batch("Stop", 0, 20),
      ]
    ) {
      assert.equal(
        (await postJson(`${seed.url}/events/batch`, events)).status,
        200,
      );
    }
    assert.equal((await seed.stop()).code, 0);
    const seeded = rows(dbPath);
    assert.equal(seeded.length, 220);

    const env = {
      HOOKWATCH_ARCHIVE_DIR: archiveDir,
      RETENTION_SWEEP_INTERVAL: "200ms",
    };
    const preload = "tests/helpers/archive_pause.ts";

    // 1. Killed with the first file written and fsynced but not renamed into place.
    const first = await startServer({
      dbPath,
      preload,
      env: { ...env, HOOKWATCH_TEST_ARCHIVE_PAUSE: "before-rename" },
    });
    await waitFor(
      "the pause",
      () => first.output().includes("archive paused"),
      first,
    );
    await first.kill();
    assert.deepEqual(archived(archiveDir), [], "nothing in place yet");
    assert.ok(
      archiveFiles(archiveDir).some((f) => f.endsWith(".tmp")),
      "only the temporary file",
    );
    assert.equal(rows(dbPath).length, 220, "nothing deleted");

    // 2. Killed with a file in place and its rows not yet deleted (the worst moment).
    const second = await startServer({
      dbPath,
      preload,
      env: { ...env, HOOKWATCH_TEST_ARCHIVE_PAUSE: "after-rename" },
    });
    await waitFor(
      "the pause",
      () => second.output().includes("archive paused"),
      second,
    );
    await second.kill();
    const inPlace = archived(archiveDir);
    assert.equal(inPlace.length, 40, "one hour's file is in place");
    assert.equal(rows(dbPath).length, 220, "its rows are still stored");

    // 3. A normal run finishes: deletes what the file holds, archives the rest.
    const third = await startServer({ dbPath, env });
    const fresh = (r: Json) => r.timestamp > now - HOUR;
    await waitFor(
      "everything expired archived",
      () => rows(dbPath).every(fresh),
      third,
    );
    assert.equal((await third.stop()).code, 0);
    assert.match(third.output(), /events archived file=events-priority-/);

    const lines = archived(archiveDir);
    const remaining = rows(dbPath);
    assert.equal(remaining.length, 40, "the fresh events stay");
    const ids = lines.map((l) => l.id);
    assert.equal(new Set(ids).size, ids.length, "no event archived twice");
    assert.deepEqual(
      [...lines, ...remaining].sort((a, b) => a.id - b.id),
      seeded,
      "every event is archived (with every field) or still stored",
    );
    const files = archiveFiles(archiveDir);
    assert.ok(!files.some((f) => f.endsWith(".tmp")), "no temporary file");
    assert.equal(files.length, 5, `one file per bucket and hour: ${files}`);
    assert.deepEqual(
      files.map((f) => f.split("-")[1]),
      ["priority", "priority", "priority", "regular", "regular"],
    );

    // archive:import into a store of its own, twice.
    const investigation = `${dir}/investigation.db`;
    const importAll = async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "archive:import",
          ...files.map((f) => `${archiveDir}/${f}`),
        ],
        cwd: ROOT,
        env: { DATABASE_URL: `sqlite:${investigation}`, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
      return text;
    };
    assert.match(await importAll(), /40 events, 40 imported, 0 already stored/);
    assert.match(await importAll(), /40 events, 0 imported, 40 already stored/);
    assert.deepEqual(
      rows(investigation),
      [...lines].sort((a, b) => a.id - b.id),
      "imported with ids and every field, once",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("archive - an archive directory that cannot be written stops start-up naming HOOKWATCH_ARCHIVE_DIR", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-archive-" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    await assert.rejects(
      startServer({
        dbPath: `${dir}/hookwatch.db`,
        env: { HOOKWATCH_ARCHIVE_DIR: `${dir}/file/archive` },
      }),
      /bad configuration: HOOKWATCH_ARCHIVE_DIR: cannot write to/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("archive - archive:import refuses a file that is not an archive and imports nothing from it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-archive-" });
  try {
    const bad =
      `${dir}/events-priority-2026-01-01T00-0000000000000002.ndjson.gz`;
    const good = JSON.stringify({
      id: 1,
      source_app: "a",
      session_id: "s",
      hook_event_type: "Stop",
      payload: {},
      chat: null,
      summary: null,
      model_name: null,
      timestamp: 1,
      received_at: 1,
      priority: 1,
      event_id: null,
      agent_id: null,
    });
    const { gzipSync } = await import("node:zlib");
    Deno.writeFileSync(
      bad,
      gzipSync(`${good}\n${good.replace('"id":1', '"id":-3')}\n`),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "archive:import", bad],
      cwd: ROOT,
      env: { DATABASE_URL: `sqlite:${dir}/x.db`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 1);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /ndjson\.gz:2: id must be an integer ≥ 1/,
    );
    assert.deepEqual(rows(`${dir}/x.db`), [], "nothing imported");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
