import assert from "node:assert/strict";
import { Broadcaster } from "./broadcaster.ts";
import type { StoredEvent } from "../../common/events.ts";
import { encodeEventFrame } from "./sse.ts";

function stored(
  id: number,
  payload: Record<string, unknown> = {},
): StoredEvent {
  return {
    id,
    source_app: "app",
    session_id: "s",
    hook_event_type: "PreToolUse",
    payload,
    timestamp: 0,
    received_at: 0,
    priority: 0,
  };
}

const frameIds = (text: string) =>
  [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

Deno.test("broadcaster - a replay larger than the queue bound is delivered, then the bound applies again", async () => {
  const broadcaster = new Broadcaster({
    queueBytes: 4096,
    heartbeatMs: 60_000,
  });
  const client = broadcaster.open({});
  const big = { blob: "x".repeat(3000) };
  // A resume replays 10 missed events (~30 KB, far over the 4 KB bound) before going live.
  for (let id = 1; id <= 10; id++) {
    client.write(encodeEventFrame(stored(id, big)));
  }
  broadcaster.publish([stored(11)]); // committed meanwhile: held
  client.goLive(10);
  broadcaster.publish([stored(12)]); // live while the replay is still unread
  assert.equal(
    broadcaster.stats().droppedTotal,
    0,
    "not dropped for its replay",
  );

  const reader = client.stream.getReader();
  let text = "";
  while (frameIds(text).at(-1) !== 12) {
    text += new TextDecoder().decode((await reader.read()).value);
  }
  assert.deepEqual(frameIds(text), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

  // Read up, it now stalls: live bytes over the bound drop it as before.
  for (let id = 13; id <= 16; id++) broadcaster.publish([stored(id, big)]);
  assert.equal(broadcaster.stats().droppedTotal, 1);
  assert.equal(client.queuedBytes, 0, "its bytes are freed at once");
  assert.equal((await reader.read()).done, true, "its answer ends");
});
