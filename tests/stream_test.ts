import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { postJson, sampleEvent, startServer } from "./helpers/server.ts";
import { openSse, type SseFrame } from "./helpers/sse.ts";
import { startApp } from "./helpers/app.ts";

const ids = (frames: SseFrame[]) =>
  frames.filter((f) => f.event === "event").map((f) => Number(f.id));

Deno.test("stream - snapshot first, then one event frame per stored event with its id", async () => {
  const server = await startApp();
  try {
    await server.postJson(
      `${server.url}/events`,
      sampleEvent({ hook_event_type: "Stop" }),
    );
    await server.postJson(`${server.url}/events`, sampleEvent());
    const sse = await openSse(`${server.url}/stream`, {}, server.fetch);
    try {
      assert.equal(
        sse.response.headers.get("content-type"),
        "text/event-stream; charset=utf-8",
      );
      const snapshot = await sse.next();
      assert.equal(snapshot.event, "snapshot");
      assert.equal(snapshot.id, "2");
      const data = JSON.parse(snapshot.data);
      assert.deepEqual(data.priority.map((e: { id: number }) => e.id), [1]);
      assert.deepEqual(data.regular.map((e: { id: number }) => e.id), [2]);
      const posted = await server.postJson(
        `${server.url}/events`,
        sampleEvent({ summary: "live" }),
      );
      const live = await sse.next();
      assert.equal(live.event, "event");
      assert.equal(live.id, String(posted.body.id));
      const event = JSON.parse(live.data);
      assert.equal(event.summary, "live");
      assert.equal(event.priority, 0);
      assert.equal(event.chat, undefined, "chat stays out of stream frames");
    } finally {
      await sse.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("stream - filters by source_app and priority", async () => {
  const server = await startApp();
  try {
    const sse = await openSse(
      `${server.url}/stream?source_app=a&priority=1`,
      {},
      server.fetch,
    );
    try {
      await sse.next();
      await server.postJson(`${server.url}/events/batch`, [
        sampleEvent({ source_app: "a" }),
        sampleEvent({ source_app: "b", hook_event_type: "Stop" }),
        sampleEvent({ source_app: "a", hook_event_type: "Stop" }),
      ]);
      const frame = await sse.next();
      assert.equal(frame.id, "3");
    } finally {
      await sse.close();
    }
    const bad = await server.fetch(`${server.url}/stream?priority=yes`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("stream - Last-Event-ID resumes across a server restart with no gap and no duplicate", async () => {
  const first = await startServer();
  const dbPath = first.dbPath;
  let lastSeen: string;
  {
    const sse = await openSse(`${first.url}/stream`);
    await sse.next(); // snapshot
    for (let i = 0; i < 5; i++) {
      await postJson(`${first.url}/events`, sampleEvent({ summary: `a${i}` }));
    }
    const frames = await sse.until((f) => ids(f).length === 5);
    lastSeen = frames.at(-1)!.id!;
    assert.deepEqual(ids(frames), [1, 2, 3, 4, 5]);
    await sse.close();
    // Missed while disconnected, before the restart:
    await postJson(`${first.url}/events`, sampleEvent({ summary: "missed-1" }));
    await first.stop();
  }
  const second = await startServer({ dbPath });
  try {
    await postJson(
      `${second.url}/events`,
      sampleEvent({ summary: "missed-2" }),
    );
    const sse = await openSse(`${second.url}/stream`, {
      "last-event-id": lastSeen,
    });
    try {
      const replay = await sse.until((f) => ids(f).length === 2);
      assert.ok(
        replay.every((f) => f.event === "event"),
        "no snapshot when resuming",
      );
      assert.deepEqual(ids(replay), [6, 7]);
      await postJson(`${second.url}/events`, sampleEvent({ summary: "live" }));
      const live = await sse.next();
      assert.equal(live.id, "8");
    } finally {
      await sse.close();
    }
    const viaQuery = await openSse(`${second.url}/stream?last_event_id=6`);
    try {
      const frames = await viaQuery.until((f) => ids(f).length === 2);
      assert.deepEqual(ids(frames), [7, 8]);
    } finally {
      await viaQuery.close();
    }
  } finally {
    await second.stop();
  }
});

Deno.test("stream - a resume too far behind gets a fresh snapshot instead of a flood", async () => {
  const server = await startApp({ STREAM_REPLAY_LIMIT: "3" });
  try {
    await server.postJson(
      `${server.url}/events/batch`,
      Array.from({ length: 6 }, () => sampleEvent()),
    );
    const sse = await openSse(
      `${server.url}/stream`,
      { "last-event-id": "1" },
      server.fetch,
    );
    try {
      const frame = await sse.next();
      assert.equal(frame.event, "snapshot");
      assert.equal(frame.id, "6");
    } finally {
      await sse.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("stream - a stalled client is dropped while a healthy one keeps receiving", async () => {
  const server = await startServer({
    env: { STREAM_CLIENT_QUEUE_BYTES: "65536" },
  });
  try {
    const stalled = await fetch(`${server.url}/stream`); // headers read, body never read
    const healthy = await openSse(`${server.url}/stream`);
    try {
      await healthy.next();
      const big = "x".repeat(512 * 1024);
      const total = 60; // 30 MB: more than the kernel's socket buffers and the 64 KiB bound
      const received = healthy.until((f) => ids(f).length === total, 30_000);
      for (let i = 0; i < total; i += 10) {
        await postJson(
          `${server.url}/events/batch`,
          Array.from({ length: 10 }, () => sampleEvent({ payload: { big } })),
        );
      }
      assert.deepEqual(
        ids(await received),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      const health = await (await fetch(`${server.url}/health`)).json();
      assert.equal(health.checks.stream.details.droppedTotal, 1);
      assert.equal(health.checks.stream.activeConnections, 1);
    } finally {
      await healthy.close();
      await stalled.body?.cancel().catch(() => {});
    }
  } finally {
    await server.stop();
  }
});

Deno.test("shutdown - SIGTERM loses no acknowledged event and closes streams with a retry hint", async () => {
  const server = await startServer();
  const sse = await openSse(`${server.url}/stream`);
  await sse.next();
  const acknowledged: number[] = [];
  const sends = Array.from({ length: 300 }, async (_, i) => {
    try {
      const res = await postJson(
        `${server.url}/events`,
        sampleEvent({ session_id: `s${i}` }),
      );
      if (res.status === 200) acknowledged.push(res.body.id);
    } catch {
      /* refused once the server stopped accepting: not acknowledged */
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  const status = await server.stop();
  await Promise.all(sends);
  await sse.close();
  assert.equal(status.code, 0);
  assert.ok(
    acknowledged.length > 0,
    "some events were acknowledged before the stop",
  );
  const db = new DatabaseSync(server.dbPath);
  try {
    const stored = new Set(
      (db.prepare("SELECT id FROM events").all() as { id: number }[]).map((r) =>
        r.id
      ),
    );
    for (const id of acknowledged) {
      assert.ok(stored.has(id), `acknowledged event ${id} is stored`);
    }
    assert.equal(
      (db.prepare("PRAGMA integrity_check").get() as {
        integrity_check: string;
      }).integrity_check,
      "ok",
    );
  } finally {
    db.close();
  }
});
