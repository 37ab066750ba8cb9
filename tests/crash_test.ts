import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";

function integrity(db: DatabaseSync): string {
  return (db.prepare("PRAGMA integrity_check").get() as {
    integrity_check: string;
  }).integrity_check;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("crash - SIGKILL at random moments during single and batch ingest loses no acknowledged event and doubles none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-crash-" });
  const dbPath = `${dir}/hookwatch.db`;
  // marker -> id the server acknowledged
  const acknowledged = new Map<string, number>();
  let sent = 0;
  const rounds = Number(Deno.env.get("HOOKWATCH_CRASH_ROUNDS") ?? 4);
  try {
    for (let round = 0; round < rounds; round++) {
      const server = await startServer({ dbPath });
      const before = acknowledged.size;
      let running = true;
      const single = async (worker: number) => {
        for (let seq = 0; running; seq++) {
          const marker = `r${round}-s${worker}-${seq}`;
          sent++;
          try {
            const res = await postJson(
              `${server.url}/events`,
              sampleEvent({ payload: { marker } }),
            );
            if (res.status === 200) acknowledged.set(marker, res.body.id);
            else assert.fail(`single answered ${res.status}`);
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            return; // connection refused or reset by the kill: not acknowledged
          }
        }
      };
      const batch = async (worker: number) => {
        for (let seq = 0; running; seq++) {
          const markers = Array.from(
            { length: 25 },
            (_, i) => `r${round}-b${worker}-${seq}-${i}`,
          );
          sent += markers.length;
          const ndjson = seq % 2 === 1;
          const events = markers.map((marker) =>
            sampleEvent({ hook_event_type: "Stop", payload: { marker } })
          );
          try {
            const res = await postJson(
              `${server.url}/events/batch`,
              ndjson ? events.map((e) => JSON.stringify(e)).join("\n") : events,
              ndjson ? { "content-type": "application/x-ndjson" } : {},
            );
            if (res.status !== 200) assert.fail(`batch answered ${res.status}`);
            markers.forEach((m, i) =>
              acknowledged.set(m, res.body.events[i].id)
            );
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            return;
          }
        }
      };
      const workers = [
        ...Array.from({ length: 6 }, (_, w) => single(w)),
        ...Array.from({ length: 2 }, (_, w) => batch(w)),
      ];
      // A busy machine can take a while to answer the first: kill only once this round has
      // acknowledged something, then at a random moment.
      for (let waited = 0; acknowledged.size === before && waited < 10_000;) {
        await sleep(20);
        waited += 20;
      }
      await sleep(Math.random() * 600);
      const status = await server.kill();
      running = false;
      await Promise.all(workers);
      assert.equal(status.signal, "SIGKILL");
      assert.ok(
        acknowledged.size > before,
        `round ${round} acknowledged events`,
      );
    }

    // One more start on the same file: it opens and serves what was acknowledged.
    const last = await startServer({ dbPath });
    try {
      const recent = await (await fetch(`${last.url}/events/recent?limit=1`))
        .json();
      assert.equal(recent.length, 1);
    } finally {
      await last.stop();
    }

    const db = new DatabaseSync(dbPath);
    try {
      assert.equal(integrity(db), "ok");
      const rows = db.prepare(
        "SELECT id, json_extract(payload, '$.marker') AS marker FROM events",
      ).all() as { id: number; marker: string }[];
      const stored = new Map<string, number[]>();
      for (const { id, marker } of rows) {
        stored.set(marker, [...stored.get(marker) ?? [], id]);
      }
      const doubled = [...stored].filter(([, ids]) => ids.length > 1);
      assert.deepEqual(doubled, [], "no event is stored twice");
      let missing = 0;
      for (const [marker, id] of acknowledged) {
        const ids = stored.get(marker);
        if (ids?.[0] !== id) missing++;
      }
      console.log(
        `crash: ${rounds} SIGKILLs, ${sent} sent, ${acknowledged.size} acknowledged, ` +
          `${rows.length} stored, ${missing} acknowledged but missing, ${doubled.length} doubled`,
      );
      assert.equal(
        missing,
        0,
        "every acknowledged event is stored with its id",
      );
      assert.ok(acknowledged.size > 100, "enough events were acknowledged");
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function run(cmd: string, ...args: string[]): Promise<boolean> {
  const { success } = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

/**
 * Mounting a tiny tmpfs needs root (CAP_SYS_ADMIN); probed once. Without it the disk tests are
 * skipped, unless HOOKWATCH_REQUIRE_MOUNT=1 makes them fail.
 */
const canMount = await (async () => {
  if (Deno.build.os !== "linux") return false;
  const dir = await Deno.makeTempDir();
  try {
    const ok = await run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir)
      .catch(() => false);
    if (ok) await run("umount", dir);
    return ok;
  } finally {
    await Deno.remove(dir);
  }
})();

/** Fills the filesystem at `dir` with one file until it has no space left. */
async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  try {
    const chunk = new Uint8Array(4096);
    for (;;) await file.write(chunk);
  } catch (error) {
    if (!String(error).match(/no space|ENOSPC|os error 28/i)) throw error;
  } finally {
    file.close();
  }
}

Deno.test({
  name:
    "crash - a full disk answers ingest 503 with Retry-After, health says so, nothing crashes, and ingest recovers when space returns",
  ignore: !canMount && Deno.env.get("HOOKWATCH_REQUIRE_MOUNT") !== "1",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hookwatch-full-" });
    assert.ok(await run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir));
    try {
      const server = await startServer({ dbPath: `${dir}/hookwatch.db` });
      try {
        const first = await postJson(`${server.url}/events`, sampleEvent());
        assert.equal(first.status, 200);
        await fill(`${dir}/filler`);

        // The WAL may still have room for a few small writes; large batches exhaust it.
        const big = "x".repeat(64 * 1024);
        let refused = null;
        for (let i = 0; i < 40 && refused === null; i++) {
          const res = await postJson(
            `${server.url}/events/batch`,
            Array.from(
              { length: 4 },
              (_, j) =>
                sampleEvent({ payload: { big, marker: `full-${i}-${j}` } }),
            ),
          );
          if (res.status !== 200) refused = res;
        }
        assert.ok(refused, "a write failed once the disk was full");
        assert.equal(refused.status, 503, server.output());
        assert.match(refused.body.error, /full/);
        assert.equal(refused.headers.get("retry-after"), "5");
        assert.ok(
          server.output().includes(`request_id=${refused.body.request_id} `),
          "the log line carries the request id",
        );
        assert.ok(!JSON.stringify(refused.body).includes("xxxx"));

        // The single-event route too. The checkpoint worker may have made room in the WAL
        // meanwhile, so large events until one is refused.
        let single = null;
        for (let i = 0; i < 40 && single === null; i++) {
          const res = await postJson(
            `${server.url}/events`,
            sampleEvent({ payload: { big, marker: `single-${i}` } }),
          );
          if (res.status !== 200) single = res;
        }
        assert.equal(single?.status, 503, server.output());

        const health = await fetch(`${server.url}/health`);
        const report = await health.json();
        assert.equal(health.status, 503);
        assert.equal(report.checks.database.status, "unhealthy");
        assert.match(report.checks.database.error, /writes are failing.*full/);
        assert.equal((await fetch(`${server.url}/health/live`)).status, 200);
        const reads = await fetch(`${server.url}/events/recent`);
        assert.equal(reads.status, 200, "reads still work");
        await reads.body?.cancel();

        await Deno.remove(`${dir}/filler`);
        const again = await postJson(`${server.url}/events`, sampleEvent());
        assert.equal(again.status, 200, "ingest recovers once space returns");
        const healed = await fetch(`${server.url}/health`);
        assert.equal(healed.status, 200);
        await healed.body?.cancel();
        assert.ok(!server.output().includes("Uncaught"), server.output());
      } finally {
        const status = await server.stop();
        assert.equal(
          status.code,
          0,
          "the server was still running and stopped cleanly",
        );
      }
      const db = new DatabaseSync(`${dir}/hookwatch.db`);
      try {
        assert.equal(integrity(db), "ok");
        const stored = db.prepare(
          "SELECT json_extract(payload, '$.marker') AS m FROM events WHERE m LIKE 'full-%'",
        ).all() as { m: string }[];
        // Batches are all or nothing: every batch is either whole or absent.
        const perBatch = new Map<string, number>();
        for (const { m } of stored) {
          const key = m.split("-").slice(0, 2).join("-");
          perBatch.set(key, (perBatch.get(key) ?? 0) + 1);
        }
        for (const [key, n] of perBatch) assert.equal(n, 4, `${key} is whole`);
      } finally {
        db.close();
      }
    } finally {
      await run("umount", "-l", dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "crash - a read-only database stops start-up with a message naming DATABASE_URL, and starts once writable",
  ignore: !canMount && Deno.env.get("HOOKWATCH_REQUIRE_MOUNT") !== "1",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hookwatch-ro-" });
    assert.ok(await run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir));
    try {
      const dbPath = `${dir}/hookwatch.db`;
      const server = await startServer({ dbPath });
      assert.equal(
        (await postJson(`${server.url}/events`, sampleEvent())).status,
        200,
      );
      await server.stop();
      assert.ok(await run("mount", "-o", "remount,ro", dir));
      await assert.rejects(
        startServer({ dbPath }),
        (error: Error) => {
          assert.match(error.message, /exited with 1/);
          assert.match(error.message, /DATABASE_URL: cannot open the database/);
          return true;
        },
      );
      assert.ok(await run("mount", "-o", "remount,rw", dir));
      const again = await startServer({ dbPath });
      try {
        const recent = await (await fetch(`${again.url}/events/recent`)).json();
        assert.equal(recent.length, 1);
      } finally {
        await again.stop();
      }
    } finally {
      await run("umount", "-l", dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("crash - a database locked by another process answers 503 quickly and the server stays responsive", async () => {
  const server = await startServer();
  try {
    assert.equal(
      (await postJson(`${server.url}/events`, sampleEvent())).status,
      200,
    );
    const lock = new DatabaseSync(server.dbPath);
    // The server writes in the background too (agent sessions fold 50 ms after a commit):
    // wait for it like a sqlite3 shell's .timeout would, rather than fail at once.
    lock.exec("PRAGMA busy_timeout = 5000");
    try {
      lock.exec("BEGIN EXCLUSIVE"); // e.g. a backup or a sqlite3 shell holding the file
      const started = performance.now();
      const refused = postJson(`${server.url}/events`, sampleEvent());
      await sleep(50);
      const probe = performance.now();
      const live = await fetch(`${server.url}/health/live`);
      await live.body?.cancel();
      const liveMs = performance.now() - probe;
      const answer = await refused;
      const refusedMs = performance.now() - started;
      assert.equal(answer.status, 503);
      assert.match(answer.body.error, /locked/);
      assert.equal(answer.headers.get("retry-after"), "5");
      // node:sqlite waits synchronously: a long busy timeout would freeze every route.
      assert.ok(refusedMs < 3000, `refused after ${refusedMs} ms`);
      assert.ok(liveMs < 3000, `/health/live answered after ${liveMs} ms`);
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    assert.equal(
      (await postJson(`${server.url}/events`, sampleEvent())).status,
      200,
    );
  } finally {
    await server.stop();
  }
});
