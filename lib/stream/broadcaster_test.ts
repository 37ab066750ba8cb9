import assert from "node:assert/strict";
import { Broadcaster } from "./broadcaster.ts";
import type { StoredEvent } from "../../common/events.ts";

function stored(id: number, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id,
    source_app: "app",
    session_id: "s",
    hook_event_type: "PreToolUse",
    payload: {},
    timestamp: 0,
    received_at: 0,
    priority: 0,
    ...overrides,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text;
}

const frameIds = (text: string) =>
  [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

Deno.test("broadcaster - a catching-up client gets held frames after its cut, once", async () => {
  const broadcaster = new Broadcaster({
    queueBytes: 1 << 20,
    heartbeatMs: 60_000,
  });
  const client = broadcaster.open({});
  broadcaster.publish([stored(1), stored(2), stored(3)]);
  client.goLive(2);
  broadcaster.publish([stored(4)]);
  broadcaster.closeAll();
  assert.deepEqual(frameIds(await readAll(client.stream)), [3, 4]);
});

Deno.test("broadcaster - filters by app and priority; one chunk per client per flush", async () => {
  const broadcaster = new Broadcaster({
    queueBytes: 1 << 20,
    heartbeatMs: 60_000,
  });
  const all = broadcaster.open({});
  const onlyA = broadcaster.open({ source_app: "a", priority: 1 });
  all.goLive(0);
  onlyA.goLive(0);
  broadcaster.publish([
    stored(1, { source_app: "a", priority: 1 }),
    stored(2, { source_app: "b", priority: 1 }),
    stored(3, { source_app: "a" }),
  ]);
  broadcaster.closeAll();
  assert.deepEqual(frameIds(await readAll(all.stream)), [1, 2, 3]);
  assert.deepEqual(frameIds(await readAll(onlyA.stream)), [1]);
});

Deno.test("broadcaster - a client over its queue bound is dropped, the others are not", async () => {
  const broadcaster = new Broadcaster({
    queueBytes: 4096,
    heartbeatMs: 60_000,
  });
  const slow = broadcaster.open({});
  const fast = broadcaster.open({});
  slow.goLive(0);
  fast.goLive(0);
  const reader = fast.stream.getReader();
  const big = { blob: "x".repeat(3000) };
  let received = "";
  for (let id = 1; id <= 5; id++) {
    broadcaster.publish([stored(id, { payload: big })]);
    received += new TextDecoder().decode((await reader.read()).value);
  }
  const stats = broadcaster.stats();
  assert.equal(stats.droppedTotal, 1);
  assert.equal(stats.connections, 1);
  assert.deepEqual(frameIds(received), [1, 2, 3, 4, 5]);
  broadcaster.closeAll();
  reader.releaseLock();
  await fast.stream.cancel();
  // Dropped: its bytes are gone and its answer just ends (the client resumes by id).
  assert.equal(slow.queuedBytes, 0);
  assert.equal((await slow.stream.getReader().read()).done, true);
});

Deno.test("broadcaster - the flush waits by delivery rate (clients × publishes/s), not client count; overhead ratio is small", async () => {
  const broadcaster = new Broadcaster({
    queueBytes: 1 << 20,
    heartbeatMs: 60_000,
  });
  assert.equal(broadcaster.flushInterval(), 0);
  const clients = Array.from({ length: 1000 }, () => broadcaster.open({}));
  for (const c of clients) c.goLive(0);
  // A trickle to a thousand clients goes out at once.
  for (let id = 1; id <= 3; id++) {
    broadcaster.publish([stored(id)]);
    await new Promise((r) => setTimeout(r, 60));
  }
  assert.equal(broadcaster.flushInterval(), 0);
  // A thousand publishes a second to a thousand clients is a million writes: coalesce.
  // In bursts, so that a busy machine's slow timers still make it a thousand a second or more.
  const until = performance.now() + 250;
  for (let id = 4; performance.now() < until;) {
    for (let burst = 0; burst < 20; burst++) {
      broadcaster.publish([stored(id++)]);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const busy = broadcaster.flushInterval();
  assert.ok(busy >= 10 && busy <= 50, `interval ${busy} ms`);
  for (const c of clients.slice(100)) c.close();
  assert.ok(broadcaster.flushInterval() < busy, "fewer clients wait less");
  broadcaster.closeAll();
  const realistic = new Broadcaster({
    queueBytes: 1 << 20,
    heartbeatMs: 60_000,
  });
  realistic.open({}).goLive(0);
  realistic.publish([
    stored(1, {
      payload: { tool_name: "Bash", tool_input: { command: "ls -la" } },
    }),
  ]);
  realistic.flush();
  const { overheadRatio } = realistic.stats();
  assert.ok(
    overheadRatio > 0 && overheadRatio < 0.05,
    `overhead ${overheadRatio}`,
  );
  realistic.closeAll();
});
