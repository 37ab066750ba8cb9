/**
 * Stream overhead of the priority metadata: bytes of `"priority":N,` ÷ all bytes a live
 * `GET /stream` client receives, for a realistic mix of hook events posted by a separate
 * load process.
 *
 * `deno run -A bench/overhead_bench.ts [--runs 5] [--events 2000]`
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  fmt,
  parseArgs,
  printTable,
  ROOT,
  startHookwatch,
  summarize,
  writeReportPart,
} from "./lib.ts";

const MARKS = [Buffer.from('"priority":1,'), Buffer.from('"priority":0,')];

function count(buf: Buffer, mark: Buffer): number {
  let n = 0, at = 0;
  while ((at = buf.indexOf(mark, at)) >= 0) {
    n++;
    at += mark.length;
  }
  return n;
}

/** One run: a client reads the live stream while `events` are posted; returns the ratio. */
export async function overheadRun(
  url: string,
  events: number,
): Promise<{ ratio: number; bytes: number; frames: number }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/stream`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  // Skip the preamble and the snapshot: only the live stream counts.
  let head = "";
  const decoder = new TextDecoder();
  while (!/event: snapshot\n[^\n]*\n\n/.test(head)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended");
    head += decoder.decode(value, { stream: true });
  }
  const rest = head.slice(head.search(/event: snapshot\n[^\n]*\n\n/));
  const afterSnapshot = rest.slice(rest.indexOf("\n\n") + 2);
  if (afterSnapshot) chunks.push(new TextEncoder().encode(afterSnapshot));
  const load = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}bench/load_gen.ts`,
      "--url",
      url,
      "--batch",
      "100",
      "--total",
      String(events),
      "--connections",
      "2",
    ],
    stdout: "null",
    stderr: "inherit",
  }).output();
  let frames = 0;
  const all = () => Buffer.concat(chunks);
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    frames = count(all(), Buffer.from("\nevent: event\n"));
    if (frames >= events) break;
  }
  await load;
  controller.abort();
  await reader.cancel().catch(() => {});
  const buf = all();
  const meta = MARKS.reduce((n, m) => n + count(buf, m) * m.length, 0);
  return { ratio: meta / buf.length, bytes: buf.length, frames };
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const runs = Number(args.get("runs") ?? 5);
  const events = Number(args.get("events") ?? 2000);
  const server = await startHookwatch();
  const ratios: number[] = [];
  let bytes = 0, frames = 0;
  try {
    for (let run = 0; run < runs; run++) {
      const r = await overheadRun(server.url, events);
      ratios.push(r.ratio * 100);
      bytes += r.bytes;
      frames += r.frames;
    }
  } finally {
    await server.stop();
  }
  const percent = summarize(ratios);
  printTable(
    `stream overhead of priority metadata (${runs} runs × ${
      fmt(events)
    } events, realistic hook mix)`,
    ["figure", "value", "target"],
    [
      [
        "priority metadata ÷ stream bytes",
        `${fmt(percent.median, 3)} %`,
        "< 5 %",
      ],
      ["mean frame size, bytes", fmt(bytes / frames, 0), ""],
    ],
  );
  await writeReportPart("overhead", {
    runs,
    events_per_run: events,
    method:
      'bytes of "priority":N, in the live SSE stream ÷ all live stream bytes received by one client',
    percent,
    mean_frame_bytes: Math.round(bytes / frames),
    target_percent: 5,
  });
}
