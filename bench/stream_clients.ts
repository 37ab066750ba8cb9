/**
 * A stream-client process for the fan-out benchmarks: opens many `GET /stream` (SSE) or
 * WebSocket `/stream` connections, counts every event each receives, and on every
 * `--sample`-th connection measures latency as receipt time − a timestamp field in the event
 * (`received_at`: server clock at arrival; `timestamp`: the load generator's send time).
 *
 * Prints `ready` once every connection has its snapshot; on a `stop` line on stdin, prints
 * one JSON line of results and exits.
 *
 * `deno run -A bench/stream_clients.ts --url http://127.0.0.1:4000 --count 250 [--mode sse|ws]
 *   [--field received_at|timestamp] [--sample 10]`
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "./lib.ts";

/** What one client process reports. */
export interface ClientsResult {
  connections: number;
  /** Per connection: the snapshot's id (SSE) and events counted after it. */
  snapshot_ids: number[];
  counts: number[];
  /** Latency in whole ms → frames, from the sampled connections. */
  histogram: Record<string, number>;
  /** Connections that ended or failed before `stop`. */
  ended: number;
  errors: string[];
  bytes: number;
}

const EVENT_MARK = Buffer.from("\nevent: event\n");
const SNAPSHOT = /id: (\d+)\nevent: snapshot\n/;

class Histogram {
  readonly counts = new Map<number, number>();
  add(ms: number): void {
    const k = Math.max(0, Math.round(ms));
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
}

function countMarks(buf: Buffer): number {
  let n = 0, at = 0;
  while ((at = buf.indexOf(EVENT_MARK, at)) >= 0) {
    n++;
    at += EVENT_MARK.length;
  }
  return n;
}

/** Reads every `"field":<digits>` in `buf` as a send time; a value cut by the chunk end is skipped. */
function latencies(
  buf: Buffer,
  key: Buffer,
  now: number,
  hist: Histogram,
): void {
  let at = 0;
  while ((at = buf.indexOf(key, at)) >= 0) {
    at += key.length;
    let value = 0, end = at;
    while (end < buf.length && buf[end] >= 48 && buf[end] <= 57) {
      value = value * 10 + buf[end] - 48;
      end++;
    }
    if (end < buf.length && end > at) hist.add(now - value);
    at = end;
  }
}

/** Counts marks in `chunk` and across its boundary with the previous chunk's tail. */
function countWithCarry(carry: Buffer, chunk: Buffer): number {
  const edge = Buffer.concat([
    carry,
    chunk.subarray(0, EVENT_MARK.length - 1),
  ]);
  return countMarks(chunk) + countMarks(edge);
}

function tail(carry: Buffer, chunk: Buffer): Buffer {
  const keep = EVENT_MARK.length - 1;
  return chunk.length >= keep
    ? Buffer.from(chunk.subarray(chunk.length - keep))
    : Buffer.concat([carry, chunk]).subarray(-keep);
}

async function sseClient(
  url: string,
  index: number,
  key: Buffer,
  sampled: boolean,
  hist: Histogram,
  state: ClientsResult,
  signal: AbortSignal,
  ready: () => void,
): Promise<void> {
  const response = await fetch(`${url}/stream`, {
    headers: { accept: "text/event-stream" },
    signal,
  });
  if (!response.ok || !response.body) {
    throw new Error(`stream answered ${response.status}`);
  }
  const decoder = new TextDecoder();
  let head = "";
  let carry: Buffer = Buffer.alloc(0);
  let live = false;
  for await (const bytes of response.body) {
    const now = Date.now();
    state.bytes += bytes.byteLength;
    if (!live) {
      head += decoder.decode(bytes, { stream: true });
      const m = SNAPSHOT.exec(head);
      const end = m ? head.indexOf("\n\n", m.index) : -1;
      if (!m || end < 0) continue;
      state.snapshot_ids[index] = Number(m[1]);
      live = true;
      ready();
      // Keep one "\n" so a first mark right after the snapshot matches.
      const rest = Buffer.from(head.slice(end + 1));
      head = "";
      state.counts[index] += countMarks(rest);
      carry = tail(Buffer.alloc(0), rest);
      continue;
    }
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    state.counts[index] += countWithCarry(carry, chunk);
    carry = tail(carry, chunk);
    if (sampled) latencies(chunk, key, now, hist);
  }
}

function wsClient(
  url: string,
  index: number,
  key: Buffer,
  sampled: boolean,
  hist: Histogram,
  state: ClientsResult,
  signal: AbortSignal,
  ready: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/stream`);
    signal.addEventListener("abort", () => ws.close());
    ws.onmessage = (message) => {
      const now = Date.now();
      const data = String(message.data) + " ";
      state.bytes += data.length;
      if (data.startsWith('{"type":"initial"')) {
        state.snapshot_ids[index] = 0;
        ready();
        return;
      }
      if (!data.startsWith('{"type":"event"')) return;
      state.counts[index]++;
      if (sampled) latencies(Buffer.from(data), key, now, hist);
    };
    ws.onerror = () => reject(new Error("websocket error"));
    ws.onclose = () => resolve();
  });
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const url = args.get("url")!;
  const count = Number(args.get("count") ?? 100);
  const mode = args.get("mode") ?? "sse";
  const key = Buffer.from(`"${args.get("field") ?? "received_at"}":`);
  const sample = Number(args.get("sample") ?? 1);
  const hist = new Histogram();
  const state: ClientsResult = {
    connections: count,
    snapshot_ids: new Array(count).fill(-1),
    counts: new Array(count).fill(0),
    histogram: {},
    ended: 0,
    errors: [],
    bytes: 0,
  };
  const controller = new AbortController();
  let stopping = false;
  let readyCount = 0;
  const ready = () => {
    if (++readyCount === count) console.log("ready");
  };
  const run = mode === "ws" ? wsClient : sseClient;
  const clients: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    clients.push(
      run(url, i, key, i % sample === 0, hist, state, controller.signal, ready)
        .then(() => {
          if (!stopping) state.ended++;
        }, (error) => {
          if (stopping) return;
          state.ended++;
          if (state.errors.length < 5) state.errors.push(String(error));
        }),
    );
    // Stagger connects so the server's accept queue never overflows.
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of lines) {
    if (chunk.includes("stop")) break;
  }
  stopping = true;
  controller.abort();
  await Promise.race([
    Promise.all(clients),
    new Promise((r) => setTimeout(r, 3000)),
  ]);
  state.histogram = Object.fromEntries(hist.counts);
  console.log(JSON.stringify(state));
  Deno.exit(0);
}
