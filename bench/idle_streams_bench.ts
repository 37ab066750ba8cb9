/**
 * Server memory per open stream: RSS of a fresh server (a few hundred events stored, so every
 * stream gets a real snapshot), then with `--clients` idle streams held open by the light
 * client process, for hookwatch and, given its path, the original Bun server (WebSocket).
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
  startHookwatch,
  summarize,
  writeReportPart,
} from "./lib.ts";

/** RSS growth in bytes with `clients` idle streams open on `server`. */
export async function idleStreamsRss(
  server: ServerProcess,
  clients: number,
  mode: "sse" | "ws",
  events = 400,
): Promise<{ before: number; after: number }> {
  for (const event of sampleEvents(events)) {
    const res = await fetch(`${server.url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event),
    });
    await res.body?.cancel();
  }
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
  const servers: [string, () => Promise<ServerProcess>, "sse" | "ws"][] = [
    ["hookwatch", () => startHookwatch(), "sse"],
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
        const r = await idleStreamsRss(
          server,
          clients,
          mode,
          Number(args.get("events") ?? 400),
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
  await writeReportPart("idle_streams", { clients, runs, figures });
}
