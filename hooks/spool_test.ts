import assert from "node:assert/strict";
import { Spool, type SpooledEvent } from "./spool.ts";

function event(
  n: number,
  type = "PreToolUse",
  extra: Record<string, unknown> = {},
): SpooledEvent {
  return {
    event_id: crypto.randomUUID(),
    source_app: "spool-test",
    session_id: "s-1",
    hook_event_type: type,
    payload: { n },
    timestamp: 1_764_000_000_000 + n,
    ...extra,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookwatch-spool-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("spool - concurrent writers and replayers: every event claimed exactly once, none torn", async () => {
  await withDir(async (dir) => {
    const writers = 4;
    const perWriter = 60;
    const module = new URL("./spool.ts", import.meta.url).href;
    const children = Array.from(
      { length: writers },
      (_, w) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "eval",
            `import { Spool } from ${JSON.stringify(module)};
           const spool = new Spool({ dir: ${JSON.stringify(dir)} });
           for (let i = 0; i < ${perWriter}; i++) {
             await spool.append({ event_id: "w${w}-" + i, hook_event_type: "PreToolUse",
               timestamp: Date.now(), payload: { pad: "x".repeat(2000) } });
           }`,
          ],
          stdout: "null",
          stderr: "piped",
        }).output(),
    );
    const claimed: SpooledEvent[] = [];
    let writing = true;
    const done = Promise.all(children).finally(() => writing = false);
    // Two replayers claim while the writers append, as hooks firing together would.
    const replayer = async () => {
      const spool = new Spool({ dir });
      while (writing) {
        const claim = await spool.claim();
        assert.deepEqual(claim.corrupt, []);
        claimed.push(...claim.events);
        await spool.release(claim, []);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await Promise.all([replayer(), replayer()]);
    for (const out of await done) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    const last = await new Spool({ dir }).claim();
    assert.deepEqual(last.corrupt, []);
    claimed.push(...last.events);
    const ids = claimed.map((e) => e.event_id);
    assert.equal(ids.length, writers * perWriter);
    assert.equal(new Set(ids).size, ids.length, "no event claimed twice");
  });
});

Deno.test("spool - over its bound the oldest regular events are dropped first, and counted", async () => {
  await withDir(async (dir) => {
    const spool = new Spool({ dir, maxBytes: 8_000 });
    const pad = "y".repeat(150);
    let droppedReported = 0;
    for (let n = 0; n < 100; n++) {
      const type = n % 10 === 0 ? "Stop" : "PreToolUse";
      const dropped = await spool.append(event(n, type, { pad }));
      droppedReported += dropped.dropped_regular;
      assert.equal(dropped.dropped_priority, 0);
    }
    let size = 0;
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.startsWith("spool-")) {
        size += (await Deno.stat(`${dir}/${entry.name}`)).size;
      }
    }
    assert.ok(size <= 8_000, `spool holds ${size} bytes`);
    const stats = await spool.stats();
    assert.equal(stats.dropped_priority, 0);
    assert.equal(stats.dropped_regular, droppedReported);
    const { events } = await spool.claim();
    assert.equal(stats.dropped_regular + events.length, 100);
    const kept = events.map((e) => (e.payload as { n: number }).n);
    // Every priority event survives; the regular ones kept are the newest.
    for (let n = 0; n < 100; n += 10) assert.ok(kept.includes(n), `Stop ${n}`);
    const regular = kept.filter((n) => n % 10 !== 0);
    const oldestKept = Math.min(...regular);
    for (let n = oldestKept; n < 100; n++) {
      if (n % 10 !== 0) assert.ok(kept.includes(n), `regular ${n} kept`);
    }
  });
});

Deno.test("spool - a claim skips corrupt lines, names them, and keeps the rest in order", async () => {
  await withDir(async (dir) => {
    const first = event(2);
    const second = event(1);
    await Deno.writeTextFile(
      `${dir}/spool-2026-03-04.ndjson`,
      `${JSON.stringify(first)}\nnot json at all\n[1,2]\n${
        JSON.stringify(second)
      }\n{"hook_event_type":"Stop","timestamp":1}\n`,
    );
    const spool = new Spool({ dir });
    const claim = await spool.claim();
    assert.deepEqual(
      claim.events.map((e) => e.event_id),
      [second.event_id, first.event_id],
      "oldest first",
    );
    assert.deepEqual(
      claim.corrupt.map(({ file, line }) => `${file}:${line}`),
      [
        "spool-2026-03-04.ndjson:2",
        "spool-2026-03-04.ndjson:3",
        "spool-2026-03-04.ndjson:5",
      ],
    );
    await spool.release(claim, []);
    assert.equal(await spool.pending(), false);
  });
});

Deno.test("spool - unsent events go back and come out again in order", async () => {
  await withDir(async (dir) => {
    const spool = new Spool({ dir });
    const events = [event(1), event(2), event(3)];
    for (const e of events) await spool.append(e);
    const claim = await spool.claim();
    assert.equal(claim.events.length, 3);
    await spool.release(claim, claim.events.slice(1));
    assert.equal(await spool.pending(), true);
    await spool.append(event(4));
    const again = await spool.claim();
    assert.deepEqual(
      again.events.map((e) => (e.payload as { n: number }).n),
      [2, 3, 4],
    );
  });
});

Deno.test("spool - a claim left by a process that died is replayed later, a live one is not", async () => {
  await withDir(async (dir) => {
    const now = 1_764_000_000_000;
    const spool = new Spool({ dir, now: () => now });
    const orphan = event(1);
    const live = event(2);
    await Deno.writeTextFile(
      `${dir}/replay-${now - 60_000}-${crypto.randomUUID()}.ndjson`,
      JSON.stringify(orphan) + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/replay-${now - 100}-${crypto.randomUUID()}.ndjson`,
      JSON.stringify(live) + "\n",
    );
    const claim = await spool.claim();
    assert.deepEqual(claim.events.map((e) => e.event_id), [orphan.event_id]);
  });
});

Deno.test("spool - with nothing regular left, the oldest priority events go, and are counted", async () => {
  await withDir(async (dir) => {
    const spool = new Spool({ dir, maxBytes: 4_000 });
    for (let n = 0; n < 40; n++) {
      await spool.append(event(n, "Notification", { pad: "z".repeat(150) }));
    }
    const stats = await spool.stats();
    assert.equal(stats.dropped_regular, 0);
    assert.ok(stats.dropped_priority > 0);
    const { events } = await spool.claim();
    const kept = events.map((e) => (e.payload as { n: number }).n);
    assert.equal(kept.length + stats.dropped_priority, 40);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => 40 - kept.length + i),
    );
  });
});
