/**
 * Two hookwatch processes on one PostgreSQL database, as behind a load balancer.
 */
import assert from "node:assert/strict";
import {
  postJson,
  sampleEvent,
  startServer,
  type TestServer,
} from "./helpers/server.ts";
import { openSse, type SseFrame } from "./helpers/sse.ts";
import { postgresIgnored, sharedCluster } from "./helpers/postgres.ts";

const ignore = postgresIgnored();

async function replicas(n: number): Promise<TestServer[]> {
  const url = await (await sharedCluster()).createDatabase();
  return await Promise.all(
    Array.from(
      { length: n },
      () =>
        startServer({
          env: { DATABASE_URL: url, DATABASE_POOL_SIZE: "4" },
        }),
    ),
  );
}

const eventIds = (frames: SseFrame[]) =>
  frames.filter((f) => f.event === "event").map((f) => Number(f.id));

async function allIds(server: TestServer): Promise<number[]> {
  const res = await fetch(`${server.url}/events/recent?limit=10000`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: number }[]).map((e) => e.id).reverse();
}

Deno.test({
  name: "replicas - an event posted to A arrives on a stream client of B",
  ignore,
  fn: async () => {
    const [a, b] = await replicas(2);
    try {
      const stream = await openSse(`${b.url}/stream`);
      try {
        const [snapshot] = await stream.until((f) => f.length === 1);
        assert.equal(snapshot.event, "snapshot");
        const posted = await postJson(
          `${a.url}/events`,
          sampleEvent({ summary: "from A" }),
        );
        assert.equal(posted.status, 200);
        const frames = await stream.until((f) => f.length === 1, 5000);
        assert.equal(frames[0].event, "event");
        assert.equal(Number(frames[0].id), posted.body.id);
        assert.equal(JSON.parse(frames[0].data).summary, "from A");
        // And the other way round, onto B's own client exactly once.
        const own = await postJson(`${b.url}/events`, sampleEvent());
        const next = await stream.until((f) => f.length === 1, 5000);
        assert.deepEqual(eventIds(next), [own.body.id]);
        const metrics = await (await fetch(`${a.url}/metrics`)).text();
        const ratio = /^database_pool_utilization_ratio(?:\{[^}]*\})? (\S+)$/m
          .exec(metrics);
        assert.ok(ratio, "the pool utilization gauge is exported");
        assert.ok(Number(ratio[1]) >= 0 && Number(ratio[1]) <= 1);
      } finally {
        await stream.close();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name:
    "replicas - killing A loses nothing acknowledged, and a client resuming on B gets no gap",
  ignore,
  fn: async () => {
    const [a, b] = await replicas(2);
    try {
      const onA = await openSse(`${a.url}/stream`);
      const onB = await openSse(`${b.url}/stream`);
      await onA.until((f) => f.length === 1);
      await onB.until((f) => f.length === 1);
      // Writers on both replicas; A is killed while its writers are mid-flight.
      const acknowledged: number[] = [];
      let stopWriting = false;
      const writer = (server: TestServer, lane: number) => async () => {
        for (let i = 0; !stopWriting && i < 400; i++) {
          try {
            const res = await postJson(
              `${server.url}/events`,
              sampleEvent({ summary: `${lane}-${i}` }),
            );
            if (res.status === 200) acknowledged.push(res.body.id);
          } catch {
            if (server === a) return; // A is gone: not acknowledged
            throw new Error(`B refused an event`);
          }
        }
      };
      const writers = [
        ...[0, 1, 2].map((lane) => writer(a, lane)()),
        writer(b, 9)(),
      ];
      // Let A's client see some events, then kill A without warning.
      const seenOnA = await onA.until((f) => eventIds(f).length >= 20, 10_000);
      await a.kill();
      await onA.close();
      const lastSeen = Math.max(...eventIds(seenOnA));
      await new Promise((resolve) => setTimeout(resolve, 200));
      stopWriting = true;
      await Promise.all(writers);

      const stored = await allIds(b);
      for (const id of acknowledged) {
        assert.ok(stored.includes(id), `acknowledged event ${id} was lost`);
      }
      // B's live client saw every stored event once, in id order.
      const live = eventIds(
        await onB.until((f) => eventIds(f).length >= stored.length, 10_000),
      );
      await onB.close();
      assert.deepEqual(live, stored);
      // A's client resumes on B: exactly the events after the last it saw, in order.
      const resumed = await openSse(`${b.url}/stream`, {
        "last-event-id": String(lastSeen),
      });
      try {
        const due = stored.filter((id) => id > lastSeen);
        const frames = await resumed.until(
          (f) => eventIds(f).length >= due.length,
          10_000,
        );
        assert.ok(frames.every((f) => f.event === "event"), "no snapshot");
        assert.deepEqual(eventIds(frames), due);
        // Still live after the replay.
        const more = await postJson(`${b.url}/events`, sampleEvent());
        const next = await resumed.until((f) => eventIds(f).length === 1, 5000);
        assert.deepEqual(eventIds(next), [more.body.id]);
      } finally {
        await resumed.close();
      }
    } finally {
      await Promise.all([a.kill(), b.stop()]);
    }
  },
});

Deno.test({
  name:
    "replicas - readiness fails while the database is down and recovers by itself",
  ignore,
  fn: async () => {
    const cluster = await sharedCluster();
    const [a] = await replicas(1);
    const ready = async () => {
      const res = await fetch(`${a.url}/health/ready`);
      return { status: res.status, body: await res.json() };
    };
    // Ready once the agent tables exist too (at start-up they may still be created).
    const untilReady = async () => {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await ready()).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      return status;
    };
    try {
      assert.equal(await untilReady(), 200);
      const stream = await openSse(`${a.url}/stream`);
      try {
        await stream.until((f) => f.length === 1);
        await cluster.pause();
        try {
          const down = await ready();
          assert.equal(down.status, 503);
          assert.equal(down.body.database.status, "unhealthy");
          const refused = await postJson(`${a.url}/events`, sampleEvent());
          assert.ok(refused.status >= 500, `ingest answered ${refused.status}`);
          // A few seconds down: reconnect attempts pile up (their back-off must stay short).
          await new Promise((resolve) => setTimeout(resolve, 3000));
          assert.equal((await ready()).status, 503);
        } finally {
          await cluster.start();
        }
        assert.equal(await untilReady(), 200);
        const posted = await postJson(`${a.url}/events`, sampleEvent());
        assert.equal(posted.status, 200);
        const frames = await stream.until(
          (f) => eventIds(f).includes(posted.body.id),
          5000,
        );
        assert.deepEqual(eventIds(frames), [posted.body.id]);
      } finally {
        await stream.close();
      }
    } finally {
      await a.stop();
    }
  },
});
