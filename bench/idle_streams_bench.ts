/**
 * Server memory per open stream: RSS of a fresh server (a few hundred events stored, so every
 * stream gets a real snapshot), then with `--clients` idle streams held open by the light
 * client process, for hookwatch and, given its path, the original Bun server (WebSocket).
 *
 * Beside them, the same-run references of `bench/stream_reference_server.ts` (a bare
 * `Deno.serve` stream and raw `Deno.listen` sockets, each sending a snapshot frame as large as
 * hookwatch's): what `Deno.serve` itself costs per stream, and what a stream costs below it.
 *
 * `deno run -A bench/idle_streams_bench.ts [--clients 1000] [--runs 3] [--events 400]
 *   [--original /path/to/apps/server --bun PATH]`
 *
 * @module
 */
import { startOriginal } from "./compare_original.ts";
import {
  fmt,
  parseArgs,
  printTable,
  ROOT,
  sampleEvents,
  type ServerProcess,
  sleep,
  spawnServer,
  startHookwatch,
  summarize,
  writeReportPart,
} from "./lib.ts";

/** Stores `count` sample events, one request each. */
async function postSamples(url: string, count: number): Promise<void> {
  for (const event of sampleEvents(count)) {
    const res = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event),
    });
    await res.body?.cancel();
  }
}

/** Bytes of hookwatch's snapshot frame with `events` stored. */
async function snapshotBytes(events: number): Promise<number> {
  const server = await startHookwatch();
  try {
    await postSamples(server.url, events);
    const res = await fetch(`${server.url}/stream`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      const at = text.indexOf("event: snapshot\n");
      const end = at < 0 ? -1 : text.indexOf("\n\n", at);
      if (end >= 0) {
        await reader.cancel();
        return new TextEncoder().encode(text.slice(at, end)).length;
      }
    }
    throw new Error("no snapshot frame");
  } finally {
    await server.stop();
  }
}

function startReference(
  mode: "serve" | "listen",
  bytes: number,
): Promise<ServerProcess> {
  return spawnServer(Deno.execPath(), [
    "run",
    "--allow-net",
    `${ROOT}bench/stream_reference_server.ts`,
    "--mode",
    mode,
    "--snapshot-bytes",
    String(bytes),
  ], { listening: /reference listening on (http:\/\/\S+)/ });
}

/** RSS growth in bytes with `clients` idle streams open on `server`. */
export async function idleStreamsRss(
  server: ServerProcess,
  clients: number,
  mode: "sse" | "ws",
  events = 400,
): Promise<{ before: number; after: number }> {
  await postSamples(server.url, events);
  await sleep(1000);
  const before = server.rss();
  const child = new Deno.Command("node", {
    args: [
      `${ROOT}bench/stream_clients_light.mjs`,
      "--url",
      server.url,
      "--count",
      String(clients),
      "--mode",
      mode,
      "--sample",
      String(clients + 1),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`client process ended: ${text}`);
    text += value;
  }
  await sleep(3000);
  const after = server.rss();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("stop\n"));
  await writer.close();
  await reader.cancel().catch(() => {});
  await child.status;
  return { before, after };
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const clients = Number(args.get("clients") ?? 1000);
  const runs = Number(args.get("runs") ?? 3);
  const original = args.get("original");
  const events = Number(args.get("events") ?? 400);
  const bytes = await snapshotBytes(events);
  console.log(
    `hookwatch's snapshot frame with ${events} events: ${bytes} bytes`,
  );
  const servers: [string, () => Promise<ServerProcess>, "sse" | "ws"][] = [
    ["hookwatch", () => startHookwatch(), "sse"],
    ["bare Deno.serve stream", () => startReference("serve", bytes), "sse"],
    ["raw Deno.listen socket", () => startReference("listen", bytes), "sse"],
  ];
  if (original) {
    servers.push([
      "original",
      () => startOriginal(original, args.get("bun") ?? "bun"),
      "ws",
    ]);
  }
  const figures: Record<string, { before: number[]; after: number[] }> = {};
  for (let run = 0; run < runs; run++) {
    for (const [name, start, mode] of servers) {
      const server = await start();
      try {
        // The references store nothing: their snapshot is the frame they were started with.
        const r = await idleStreamsRss(
          server,
          clients,
          mode,
          name === "hookwatch" ? events : 0,
        );
        const f = figures[name] ??= { before: [], after: [] };
        f.before.push(r.before / 2 ** 20);
        f.after.push(r.after / 2 ** 20);
      } finally {
        await server.stop();
      }
    }
  }
  const rows = Object.entries(figures).map(([name, f]) => {
    const growth = f.after.map((a, i) => a - f.before[i]);
    return [
      name,
      fmt(summarize(f.before).median, 1),
      fmt(summarize(f.after).median, 1),
      fmt(summarize(growth).median, 1),
      fmt(summarize(growth).median * 1024 / clients, 1),
    ];
  });
  printTable(
    `RSS with ${clients} idle streams (${runs} runs, medians)`,
    [
      "server",
      "RSS MB before",
      "RSS MB with streams",
      "growth MB",
      "KB per stream",
    ],
    rows,
  );
  await writeReportPart("idle_streams", {
    clients,
    runs,
    snapshot_bytes: bytes,
    figures,
  });
}
