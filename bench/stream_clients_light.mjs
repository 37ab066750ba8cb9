// A light stream-client process for the fan-out benchmarks (Node, raw TCP sockets): the same
// command line and stdout protocol as `stream_clients.ts` (prints `ready` once every
// connection has its snapshot; on `stop` on stdin, one JSON line of results), but it reads only
// what it times — SSE: it counts `\nevent: event\n` marks and, on sampled connections, reads
// each `"timestamp":` value; WebSocket: it parses frame headers and the message's first bytes —
// so it costs far less CPU than the server it measures.
//
// node bench/stream_clients_light.mjs --url http://127.0.0.1:4000 --count 500 [--mode sse|ws]
//   [--field timestamp|received_at] [--sample 1]
import net from "node:net";
import { randomBytes } from "node:crypto";

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) {
  args.set(process.argv[i].replace(/^--/, ""), process.argv[i + 1]);
}
const url = new URL(args.get("url"));
const count = Number(args.get("count") ?? 100);
const mode = args.get("mode") ?? "sse";
const key = Buffer.from(`"${args.get("field") ?? "received_at"}":`);
const sample = Number(args.get("sample") ?? 1);
const MARK = Buffer.from("\nevent: event\n");
const SNAPSHOT = Buffer.from("event: snapshot\n");
const END = Buffer.from("\n\n");

const state = {
  connections: count,
  snapshot_ids: new Array(count).fill(-1),
  counts: new Array(count).fill(0),
  histogram: {},
  ended: 0,
  errors: [],
  bytes: 0,
};
const hist = new Map();
let stopping = false;
let readyCount = 0;
const ready = () => {
  if (++readyCount === count) process.stdout.write("ready\n");
};
const sockets = [];

function marks(buf) {
  let n = 0, at = 0;
  while ((at = buf.indexOf(MARK, at)) >= 0) {
    n++;
    at += MARK.length;
  }
  return n;
}

function latencies(buf, now) {
  let at = 0;
  while ((at = buf.indexOf(key, at)) >= 0) {
    at += key.length;
    let value = 0, end = at;
    while (end < buf.length && buf[end] >= 48 && buf[end] <= 57) {
      value = value * 10 + buf[end] - 48;
      end++;
    }
    if (end < buf.length && end > at) {
      const ms = Math.max(0, Math.round(now - value));
      hist.set(ms, (hist.get(ms) ?? 0) + 1);
    }
    at = end;
  }
}

function sse(index, sampled) {
  const socket = net.connect(Number(url.port), url.hostname);
  sockets.push(socket);
  socket.write(
    `GET /stream HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  let head = [];
  let live = false;
  let carry = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    const now = Date.now();
    state.bytes += chunk.length;
    if (!live) {
      head.push(chunk);
      const all = Buffer.concat(head);
      head = [all];
      const at = all.indexOf(SNAPSHOT);
      if (at < 0) return;
      const end = all.indexOf(END, at);
      if (end < 0) return;
      const idLine = all.lastIndexOf("id: ", at);
      state.snapshot_ids[index] = Number(
        all.subarray(idLine + 4, all.indexOf("\n", idLine)).toString(),
      );
      live = true;
      head = [];
      ready();
      const rest = all.subarray(end + 1);
      state.counts[index] += marks(rest);
      carry = Buffer.from(rest.subarray(-(MARK.length - 1)));
      return;
    }
    const edge = Buffer.concat([carry, chunk.subarray(0, MARK.length - 1)]);
    state.counts[index] += marks(chunk) + marks(edge);
    carry = chunk.length >= MARK.length - 1
      ? Buffer.from(chunk.subarray(chunk.length - (MARK.length - 1)))
      : Buffer.concat([carry, chunk]).subarray(-(MARK.length - 1));
    if (sampled) latencies(chunk, now);
  });
  return socket;
}

const INITIAL = Buffer.from('{"type":"initial"');
const EVENT = Buffer.from('{"type":"event"');

function ws(index, sampled) {
  const socket = net.connect(Number(url.port), url.hostname);
  sockets.push(socket);
  socket.write(
    `GET /stream HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${
        randomBytes(16).toString("base64")
      }\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  let upgraded = false;
  socket.on("data", (chunk) => {
    const now = Date.now();
    state.bytes += chunk.length;
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (!upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    while (buf.length >= 2) {
      let len = buf[1] & 0x7f, at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (buf.length < at + len) return;
      const opcode = buf[0] & 0x0f;
      const payload = buf.subarray(at, at + len);
      buf = buf.subarray(at + len);
      if (opcode !== 1) continue;
      if (payload.subarray(0, INITIAL.length).equals(INITIAL)) {
        state.snapshot_ids[index] = 0;
        ready();
      } else if (payload.subarray(0, EVENT.length).equals(EVENT)) {
        state.counts[index]++;
        if (sampled) latencies(Buffer.concat([payload, END]), now);
      }
    }
  });
  return socket;
}

const open = mode === "ws" ? ws : sse;
for (let i = 0; i < count; i++) {
  const socket = open(i, i % sample === 0);
  socket.on("error", (error) => {
    if (stopping) return;
    if (state.errors.length < 5) state.errors.push(String(error));
  });
  socket.on("close", () => {
    if (!stopping) state.ended++;
  });
  // Stagger connects so the server's accept queue never overflows.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}

process.stdin.on("data", (chunk) => {
  if (!String(chunk).includes("stop") || stopping) return;
  stopping = true;
  for (const socket of sockets) socket.destroy();
  state.histogram = Object.fromEntries(hist);
  process.stdout.write(JSON.stringify(state) + "\n", () => process.exit(0));
});
